// Icarus Verilog test bench: drives a generated mtn_chip (or, with `define SYSTEM,
// mtn_system) through its host port from a command file and dumps what it reads.
//
// cmds.hex holds one 64-bit command per line (see cosim::icarus, which writes it):
//   [63:60] kind   0 write, 1 read (dumps the word), 2 run to halt, 3 idle, 15 end
//   [59:52] chip   (systems only)
//   [51:32] host address
//   [31:0]  data   (write: the word; run: the cycle budget; idle: cycles)
// dump.txt gets one line per read ("r <hex>") and per run ("halted <cycles>" or "budget").
// With `define TRACE, the generated trace_monitor.vh prints the retirement trace to trace.txt.
// With +wave=FILE (and vvp's -fst), the program's cycles +wave_from=A to +wave_to=B (program
// cycle 0 is the first cycle of the run command) are dumped as a waveform.
`timescale 1ns / 1ps
module tb_host;
  parameter integer AddrBits = 8;
  parameter integer ChipBits = 1;
  parameter integer MaxCmds = 1048576;

  reg clk = 1'b0;
  reg rst_n = 1'b0;
  reg req = 1'b0;
  reg we = 1'b0;
  reg [AddrBits-1:0] addr = {AddrBits{1'b0}};
  reg [31:0] wdata = 32'd0;
  reg [ChipBits-1:0] chip = {ChipBits{1'b0}};
  wire [31:0] rdata;
  wire halted;
  wire running;

`ifdef SYSTEM
  mtn_system dut (
    .clk_i(clk), .rst_ni(rst_n), .host_chip_i(chip), .host_req_i(req), .host_we_i(we),
    .host_addr_i(addr), .host_wdata_i(wdata), .host_rdata_o(rdata),
    .running_o(running), .halted_o(halted)
  );
`else
  mtn_chip dut (
    .clk_i(clk), .rst_ni(rst_n), .host_req_i(req), .host_we_i(we),
    .host_addr_i(addr), .host_wdata_i(wdata), .host_rdata_o(rdata),
    .running_o(running), .halted_o(halted)
  );
`endif

  always #5 clk = ~clk;

`ifdef TRACE
  integer trace;
  initial trace = $fopen("trace.txt", "w");
`include "trace_monitor.vh"
`endif

  reg [63:0] cmds [0:MaxCmds-1];
  integer out;
  integer i;
  integer waited;
  reg [3:0] kind;
  reg [8*1024-1:0] wave_path;
  reg waving = 1'b0;
  integer wave_from = 0;
  integer wave_to = 0;

  initial begin
    // Lines past the file stay x, which ends the run like an end command.
    $readmemh("cmds.hex", cmds);
    if ($value$plusargs("wave=%s", wave_path)) begin
      waving = 1'b1;
      if (!$value$plusargs("wave_from=%d", wave_from)) wave_from = 0;
      if (!$value$plusargs("wave_to=%d", wave_to)) wave_to = 32'h7fffffff;
      $dumpfile(wave_path);
      $dumpvars(0, dut);
      $dumpoff;
    end
    out = $fopen("dump.txt", "w");
    repeat (2) @(negedge clk);
    rst_n = 1'b1;
    @(negedge clk);
    for (i = 0; i < MaxCmds; i = i + 1) begin
      kind = cmds[i][63:60];
      chip = cmds[i][52 +: ChipBits];
      addr = cmds[i][32 +: AddrBits];
      wdata = cmds[i][31:0];
      case (kind)
        4'd0: begin
          req = 1'b1; we = 1'b1;
          @(negedge clk);
          req = 1'b0; we = 1'b0;
        end
        4'd1: begin
          req = 1'b1; we = 1'b0;
          @(negedge clk);
          req = 1'b0;
          $fdisplay(out, "r %08x", rdata);
        end
        4'd2: begin
          waited = 0;
          while (!halted && waited < cmds[i][31:0]) begin
            if (waving && waited == wave_from) $dumpon;
            if (waving && waited == wave_to + 1) $dumpoff;
            @(negedge clk);
            waited = waited + 1;
          end
          if (waving) $dumpoff;
          if (halted) $fdisplay(out, "halted %0d", waited);
          else $fdisplay(out, "budget");
        end
        4'd3: begin
          repeat (cmds[i][31:0]) @(negedge clk);
        end
        default: begin
          $fclose(out);
          $finish;
        end
      endcase
    end
    $fclose(out);
    $finish;
  end
endmodule
