// An unsigned 16 x 16 product with its operands and the product registered, as an FPGA DSP
// block computes it: p_o = a_i * b_i (32 bits) two cycles after a_i and b_i. The portable
// model: simulators and the ECP5 flow read this file; the iCE40 flow reads
// ice40/mtn_mul16x16.v, one SB_MAC16 in its 16 x 16 mode, which the tests prove equal to this
// model on Yosys's SB_MAC16 simulation model. The registers reset asynchronously, as the
// SB_MAC16's do.

module mtn_mul16x16 (
  input  wire        clk_i,
  input  wire        rst_ni,
  input  wire [15:0] a_i,
  input  wire [15:0] b_i,
  output wire [31:0] p_o
);
  reg [15:0] a_q;
  reg [15:0] b_q;
  reg [31:0] p_q;

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      a_q <= 16'd0;
      b_q <= 16'd0;
      p_q <= 32'd0;
    end else begin
      a_q <= a_i;
      b_q <= b_i;
      p_q <= a_q * b_q;
    end
  end

  assign p_o = p_q;
endmodule
