// A signal of many loads (the chip's reset) on one of an ECP5's global networks: a DCCA,
// always enabled. nextpnr-ecp5 promotes only clocks by itself; a reset reaching nearly
// every flip-flop's LSR would otherwise take fabric routing to all of them.

module mtn_global (
  input  wire i,
  output wire o
);
  DCCA u_dcca (
    .CLKI(i),
    .CE(1'b1),
    .CLKO(o)
  );
endmodule
