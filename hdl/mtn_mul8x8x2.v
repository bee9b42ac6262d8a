// Two signed int8 products with their operands and the products registered, as an FPGA DSP
// block computes them: p_o = {a_i[15:8] * b_i[15:8], a_i[7:0] * b_i[7:0]}, each a signed
// 16-bit product, two cycles after a_i and b_i. The portable model: simulators and the ECP5
// flow read this file; the iCE40 flow reads ice40/mtn_mul8x8x2.v, one SB_MAC16 in its dual
// 8x8 mode, which the tests prove equal to this model on Yosys's SB_MAC16 simulation model.
// The registers reset asynchronously, as the SB_MAC16's do.

module mtn_mul8x8x2 (
  input  wire        clk_i,
  input  wire        rst_ni,
  input  wire [15:0] a_i,
  input  wire [15:0] b_i,
  output wire [31:0] p_o
);
  reg [15:0] a_q;
  reg [15:0] b_q;
  reg [31:0] p_q;
  wire signed [15:0] p_hi = $signed(a_q[15:8]) * $signed(b_q[15:8]);
  wire signed [15:0] p_lo = $signed(a_q[7:0]) * $signed(b_q[7:0]);

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      a_q <= 16'd0;
      b_q <= 16'd0;
      p_q <= 32'd0;
    end else begin
      a_q <= a_i;
      b_q <= b_i;
      p_q <= {p_hi, p_lo};
    end
  end

  assign p_o = p_q;
endmodule
