# 53 instructions, batch 256, 6959 cycles (predicted; config 1981d8aba2710a1f)
+0 ldw src=sram3[0]                                              # cycle       0  mxu.load
+1 mma src=sram0[0] dst=acc0[0] count=256 swap                   # cycle       1  mxu.array
+8 ldw src=sram3[8]                                              # cycle       9  mxu.load
+248 mma src=sram0[256] dst=acc0[0] count=256 swap accumulate    # cycle     257  mxu.array
+8 ldw src=sram3[16]                                             # cycle     265  mxu.load
+248 mma src=sram0[0] dst=acc1[0] count=256 swap                 # cycle     513  mxu.array
+8 ldw src=sram3[24]                                             # cycle     521  mxu.load
+8 rq src=acc0[0] dst=sram1[0] count=256 param=0                 # cycle     529  vector
+240 mma src=sram0[256] dst=acc1[0] count=256 swap accumulate    # cycle     769  mxu.array
+8 ldw src=sram3[32]                                             # cycle     777  mxu.load
+19 lut src=sram1[0] dst=sram4[0] count=256 table=0              # cycle     796  vector
+229 mma src=sram0[0] dst=acc0[0] count=256 swap                 # cycle    1025  mxu.array
+8 ldw src=sram3[40]                                             # cycle    1033  mxu.load
+19 rq src=acc1[0] dst=sram1[256] count=256 param=1              # cycle    1052  vector
+229 mma src=sram0[256] dst=acc0[0] count=256 swap accumulate    # cycle    1281  mxu.array
+8 ldw src=sram3[48]                                             # cycle    1289  mxu.load
+30 lut src=sram1[256] dst=sram4[256] count=256 table=0          # cycle    1319  vector
+218 mma src=sram0[0] dst=acc1[0] count=256 swap                 # cycle    1537  mxu.array
+8 ldw src=sram3[56]                                             # cycle    1545  mxu.load
+30 rq src=acc0[0] dst=sram2[0] count=256 param=2                # cycle    1575  vector
+218 mma src=sram0[256] dst=acc1[0] count=256 swap accumulate    # cycle    1793  mxu.array
+8 ldw src=sram3[64]                                             # cycle    1801  mxu.load
+41 lut src=sram2[0] dst=sram5[0] count=256 table=0              # cycle    1842  vector
+207 mma src=sram0[0] dst=acc0[0] count=256 swap                 # cycle    2049  mxu.array
+8 ldw src=sram3[72]                                             # cycle    2057  mxu.load
+41 rq src=acc1[0] dst=sram6[0] count=256 param=3                # cycle    2098  vector
+207 mma src=sram0[256] dst=acc0[0] count=256 swap accumulate    # cycle    2305  mxu.array
+8 ldw src=sram3[80]                                             # cycle    2313  mxu.load
+248 mma src=sram0[0] dst=acc1[0] count=256 swap                 # cycle    2561  mxu.array
+8 ldw src=sram3[88]                                             # cycle    2569  mxu.load
+8 rq src=acc0[0] dst=sram6[256] count=256 param=4               # cycle    2577  vector
+240 mma src=sram0[256] dst=acc1[0] count=256 swap accumulate    # cycle    2817  mxu.array
+8 ldw src=sram3[352]                                            # cycle    2825  mxu.load
+8 lut src=sram4[0] dst=acc0[0] count=256 table=1                # cycle    2833  vector
+256 rq src=acc1[0] dst=sram7[0] count=256 param=5               # cycle    3089  vector
+256 lut src=sram6[0] dst=acc1[0] count=256 table=2              # cycle    3345  vector
+256 vop.add a=acc0[0] b=acc1[0] dst=acc0[0] count=256           # cycle    3601  vector
+256 rq src=acc0[0] dst=sram3[96] count=256 param=6              # cycle    3857  vector
+256 lut src=sram4[256] dst=acc0[0] count=256 table=1            # cycle    4113  vector
+256 lut src=sram6[256] dst=acc1[0] count=256 table=2            # cycle    4369  vector
+256 vop.add a=acc0[0] b=acc1[0] dst=acc0[0] count=256           # cycle    4625  vector
+256 rq src=acc0[0] dst=sram2[256] count=256 param=6             # cycle    4881  vector
+256 lut src=sram5[0] dst=acc0[0] count=256 table=1              # cycle    5137  vector
+256 lut src=sram7[0] dst=acc1[0] count=256 table=2              # cycle    5393  vector
+256 vop.add a=acc0[0] b=acc1[0] dst=acc0[0] count=256           # cycle    5649  vector
+256 rq src=acc0[0] dst=sram5[256] count=256 param=6             # cycle    5905  vector
+1 mma src=sram3[96] dst=acc0[0] count=256 swap                  # cycle    5906  mxu.array
+256 ldw src=sram3[360]                                          # cycle    6162  mxu.load
+1 mma src=sram2[256] dst=acc0[0] count=256 swap accumulate      # cycle    6163  mxu.array
+8 ldw src=sram3[368]                                            # cycle    6171  mxu.load
+248 mma src=sram5[256] dst=acc0[0] count=256 swap accumulate    # cycle    6419  mxu.array
+272 rq src=acc0[0] dst=sram7[256] count=256 param=7             # cycle    6691  vector
+267 ctl.halt                                                    # cycle    6958  sequencer
