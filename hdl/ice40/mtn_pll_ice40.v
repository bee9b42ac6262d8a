// The chip's clock from an iCE40 board's oscillator: SB_PLL40_PAD in simple feedback, the
// dividers chosen by rtl_gen::board::Ice40Pll as icestorm's icepll chooses them. The PAD
// variant takes the oscillator straight from its pin (the iCEBreaker's pin 35 is such a
// pin); the output drives a global buffer. No simulation model: a simulated board top runs
// on its oscillator, without this cell.

module mtn_pll_ice40 #(
  parameter [3:0] DIVR = 4'd0,
  parameter [6:0] DIVF = 7'd0,
  parameter [2:0] DIVQ = 3'd0,
  parameter [2:0] FILTER_RANGE = 3'd0
) (
  input  wire clk_i,
  output wire clk_o,
  output wire locked_o
);
  SB_PLL40_PAD #(
    .FEEDBACK_PATH("SIMPLE"),
    .DIVR(DIVR),
    .DIVF(DIVF),
    .DIVQ(DIVQ),
    .FILTER_RANGE(FILTER_RANGE)
  ) u_pll (
    .PACKAGEPIN(clk_i),
    .PLLOUTGLOBAL(clk_o),
    .LOCK(locked_o),
    .RESETB(1'b1),
    .BYPASS(1'b0)
  );
endmodule
