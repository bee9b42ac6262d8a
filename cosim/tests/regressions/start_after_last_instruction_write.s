# Found in review (2026-11-24): a start written in the cycle right after the last instruction
# word's row command (no data rows to load in between) wrote that word into instruction 0 and
# never read instruction 0. Fixed by taking start and row commands in the order written.
# Image: empty.
+0 ctl.nop
+3 ctl.nop
+2 ctl.halt
