# Found by the first Icarus run (2026-11-24): the host port packed a parameter entry's
# multiplier and shift words one field off, so every RQ lane came out as the zero point.
# Image: random (seed 7).
+0 rq src=acc0[0] dst=sram0[0] count=3 param=2
+3 rq src=acc0[0] dst=acc1[0] count=3 param=1
+3 rq src=acc1[5] src_step=2 dst=sram1[3] count=4 param=5
+9 ctl.halt
