// A stand-in for the iCE40's SB_PLL40_PAD, which Yosys's simulation models declare only as a
// black box: the oscillator passes straight through, locked from the start. A netlist
// simulated with it runs its chip on the oscillator's clock instead of the PLL's; only the
// clock's period changes, which a cycle-for-cycle comparison does not see. For simulation
// only (fpga/tests/post_synthesis.rs).
module SB_PLL40_PAD (
  input        PACKAGEPIN,
  output       PLLOUTCORE,
  output       PLLOUTGLOBAL,
  input        EXTFEEDBACK,
  input  [7:0] DYNAMICDELAY,
  output       LOCK,
  input        BYPASS,
  input        RESETB,
  input        LATCHINPUTVALUE,
  output       SDO,
  input        SDI,
  input        SCLK
);
  parameter FEEDBACK_PATH = "SIMPLE";
  parameter DELAY_ADJUSTMENT_MODE_FEEDBACK = "FIXED";
  parameter DELAY_ADJUSTMENT_MODE_RELATIVE = "FIXED";
  parameter SHIFTREG_DIV_MODE = 1'b0;
  parameter FDA_FEEDBACK = 4'b0000;
  parameter FDA_RELATIVE = 4'b0000;
  parameter PLLOUT_SELECT = "GENCLK";
  parameter DIVR = 4'b0000;
  parameter DIVF = 7'b0000000;
  parameter DIVQ = 3'b000;
  parameter FILTER_RANGE = 3'b000;
  parameter ENABLE_ICEGATE = 1'b0;
  parameter TEST_MODE = 1'b0;
  parameter EXTERNAL_DIVIDE_FACTOR = 1;
  assign PLLOUTCORE = PACKAGEPIN;
  assign PLLOUTGLOBAL = PACKAGEPIN;
  assign LOCK = 1'b1;
  assign SDO = 1'b0;
endmodule
