// mtn_mul16x16 (see ../mtn_mul16x16.v, the portable model) on one iCE40 SB_MAC16 in its 16 x 16
// mode, unsigned: A and B input registers, the 32-bit product's pipeline register, the product
// out (no accumulator). Yosys's synth_ice40 infers this mode itself, but in Yosys 0.23 and
// 0.70 gets the registers wrong when it folds them in (docs/fpga.md): hence by hand.

module mtn_mul16x16 (
  input  wire        clk_i,
  input  wire        rst_ni,
  input  wire [15:0] a_i,
  input  wire [15:0] b_i,
  output wire [31:0] p_o
);
  SB_MAC16 #(
    .NEG_TRIGGER(1'b0),
    .A_REG(1'b1),
    .B_REG(1'b1),
    .C_REG(1'b0),
    .D_REG(1'b0),
    .TOP_8x8_MULT_REG(1'b0),
    .BOT_8x8_MULT_REG(1'b0),
    .PIPELINE_16x16_MULT_REG1(1'b0),
    .PIPELINE_16x16_MULT_REG2(1'b1),
    .TOPOUTPUT_SELECT(2'b11),
    .TOPADDSUB_LOWERINPUT(2'b00),
    .TOPADDSUB_UPPERINPUT(1'b0),
    .TOPADDSUB_CARRYSELECT(2'b00),
    .BOTOUTPUT_SELECT(2'b11),
    .BOTADDSUB_LOWERINPUT(2'b00),
    .BOTADDSUB_UPPERINPUT(1'b0),
    .BOTADDSUB_CARRYSELECT(2'b00),
    .MODE_8x8(1'b0),
    .A_SIGNED(1'b0),
    .B_SIGNED(1'b0)
  ) u_mac (
    .CLK(clk_i),
    .CE(1'b1),
    .A(a_i),
    .B(b_i),
    .C(16'd0),
    .D(16'd0),
    .AHOLD(1'b0),
    .BHOLD(1'b0),
    .CHOLD(1'b0),
    .DHOLD(1'b0),
    .IRSTTOP(!rst_ni),
    .IRSTBOT(!rst_ni),
    .ORSTTOP(!rst_ni),
    .ORSTBOT(!rst_ni),
    .OLOADTOP(1'b0),
    .OLOADBOT(1'b0),
    .ADDSUBTOP(1'b0),
    .ADDSUBBOT(1'b0),
    .OHOLDTOP(1'b0),
    .OHOLDBOT(1'b0),
    .CI(1'b0),
    .ACCUMCI(1'b0),
    .SIGNEXTIN(1'b0),
    .O(p_o),
    .CO(),
    .ACCUMCO(),
    .SIGNEXTOUT()
  );
endmodule
