// The chip's clock from an ECP5 board's oscillator: EHXPLLL with its primary output fed
// back, the dividers and phase chosen by rtl_gen::board::Ecp5Pll as Project Trellis's ecppll
// chooses them, and the loop filter settings ecppll writes. No simulation model: a simulated
// board top runs on its oscillator, without this cell.

module mtn_pll_ecp5 #(
  parameter integer CLKI_DIV = 1,
  parameter integer CLKFB_DIV = 1,
  parameter integer CLKOP_DIV = 1,
  parameter integer CLKOP_CPHASE = 0
) (
  input  wire clk_i,
  output wire clk_o,
  output wire locked_o
);
  (* ICP_CURRENT="12" *) (* LPF_RESISTOR="8" *) (* MFG_ENABLE_FILTEROPAMP="1" *) (* MFG_GMCREF_SEL="2" *)
  EHXPLLL #(
    .PLLRST_ENA("DISABLED"),
    .INTFB_WAKE("DISABLED"),
    .STDBY_ENABLE("DISABLED"),
    .DPHASE_SOURCE("DISABLED"),
    .OUTDIVIDER_MUXA("DIVA"),
    .OUTDIVIDER_MUXB("DIVB"),
    .OUTDIVIDER_MUXC("DIVC"),
    .OUTDIVIDER_MUXD("DIVD"),
    .CLKI_DIV(CLKI_DIV),
    .CLKOP_ENABLE("ENABLED"),
    .CLKOP_DIV(CLKOP_DIV),
    .CLKOP_CPHASE(CLKOP_CPHASE),
    .CLKOP_FPHASE(0),
    .FEEDBK_PATH("CLKOP"),
    .CLKFB_DIV(CLKFB_DIV)
  ) u_pll (
    .RST(1'b0),
    .STDBY(1'b0),
    .CLKI(clk_i),
    .CLKOP(clk_o),
    .CLKFB(clk_o),
    .PHASESEL0(1'b0),
    .PHASESEL1(1'b0),
    .PHASEDIR(1'b1),
    .PHASESTEP(1'b1),
    .PHASELOADREG(1'b1),
    .PLLWAKESYNC(1'b0),
    .ENCLKOP(1'b0),
    .LOCK(locked_o)
  );
endmodule
