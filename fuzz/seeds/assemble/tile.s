# One weight tile on the tiny preset (N = 4): y = requant(x W) for 8 input rows.
#   metronome verify examples/tile.s --preset tiny --timeline
#   metronome mem random -o /tmp/in.mtm --preset tiny
#   metronome exec examples/tile.s --preset tiny --mem /tmp/in.mtm -o /tmp/out.mtm
#
# ldw issues at 0 and writes shadow row k in cycle k + 1.
+0  ldw src=sram0[0]
# mma issues at 1: the swap wavefront reaches shadow row k in cycle 2 + k (after ldw wrote it);
# input row i is read in cycle 1 + i and its result lands in acc0[i] in cycle 1 + i + 2N = 9 + i.
+1  mma src=sram1[0] dst=acc0[0] count=8 swap
# rq reads acc0[i] in cycle 10 + i, one cycle after it was written; writes sram2[i] at 14 + i.
+9  rq src=acc0[0] dst=sram2[0] count=8 param=0
# The last write lands in cycle 21; halt in 22, so the program takes 23 cycles.
+12 ctl.halt
