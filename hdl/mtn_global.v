// A signal of many loads (the chip's reset) on a global network where the FPGA has one for
// it: o = i. The portable model, which simulators and the iCE40 flow read (nextpnr-ice40
// puts a reset of many loads on a global by itself); the ECP5 flow reads ecp5/mtn_global.v,
// a DCCA.

module mtn_global (
  input  wire i,
  output wire o
);
  assign o = i;
endmodule
