# 66 instructions, batch 256, 7965 cycles (predicted; config 1981d8aba2710a1f)
+0 ldw src=sram6[0]                                              # cycle       0  mxu.load
+1 mma src=sram0[0] dst=acc0[0] count=256 swap                   # cycle       1  mxu.array
+8 ldw src=sram6[8]                                              # cycle       9  mxu.load
+248 mma src=sram0[256] dst=acc0[0] count=256 swap accumulate    # cycle     257  mxu.array
+8 ldw src=sram6[16]                                             # cycle     265  mxu.load
+248 mma src=sram1[0] dst=acc0[0] count=256 swap accumulate      # cycle     513  mxu.array
+8 ldw src=sram6[24]                                             # cycle     521  mxu.load
+248 mma src=sram1[256] dst=acc0[0] count=256 swap accumulate    # cycle     769  mxu.array
+8 ldw src=sram6[32]                                             # cycle     777  mxu.load
+248 mma src=sram2[0] dst=acc0[0] count=256 swap accumulate      # cycle    1025  mxu.array
+8 ldw src=sram6[40]                                             # cycle    1033  mxu.load
+248 mma src=sram2[256] dst=acc0[0] count=256 swap accumulate    # cycle    1281  mxu.array
+8 ldw src=sram6[48]                                             # cycle    1289  mxu.load
+248 mma src=sram3[0] dst=acc0[0] count=256 swap accumulate      # cycle    1537  mxu.array
+8 ldw src=sram6[56]                                             # cycle    1545  mxu.load
+248 mma src=sram3[256] dst=acc0[0] count=256 swap accumulate    # cycle    1793  mxu.array
+8 ldw src=sram6[64]                                             # cycle    1801  mxu.load
+248 mma src=sram0[0] dst=acc1[0] count=256 swap                 # cycle    2049  mxu.array
+8 ldw src=sram6[72]                                             # cycle    2057  mxu.load
+8 rq src=acc0[0] dst=sram4[0] count=256 param=0                 # cycle    2065  vector
+240 mma src=sram0[256] dst=acc1[0] count=256 swap accumulate    # cycle    2305  mxu.array
+8 ldw src=sram6[80]                                             # cycle    2313  mxu.load
+248 mma src=sram1[0] dst=acc1[0] count=256 swap accumulate      # cycle    2561  mxu.array
+8 ldw src=sram6[88]                                             # cycle    2569  mxu.load
+248 mma src=sram1[256] dst=acc1[0] count=256 swap accumulate    # cycle    2817  mxu.array
+8 ldw src=sram6[96]                                             # cycle    2825  mxu.load
+248 mma src=sram2[0] dst=acc1[0] count=256 swap accumulate      # cycle    3073  mxu.array
+8 ldw src=sram6[104]                                            # cycle    3081  mxu.load
+248 mma src=sram2[256] dst=acc1[0] count=256 swap accumulate    # cycle    3329  mxu.array
+8 ldw src=sram6[112]                                            # cycle    3337  mxu.load
+248 mma src=sram3[0] dst=acc1[0] count=256 swap accumulate      # cycle    3585  mxu.array
+8 ldw src=sram6[120]                                            # cycle    3593  mxu.load
+248 mma src=sram3[256] dst=acc1[0] count=256 swap accumulate    # cycle    3841  mxu.array
+8 ldw src=sram6[128]                                            # cycle    3849  mxu.load
+248 mma src=sram0[0] dst=acc0[0] count=256 swap                 # cycle    4097  mxu.array
+8 ldw src=sram6[136]                                            # cycle    4105  mxu.load
+8 rq src=acc1[0] dst=sram4[256] count=256 param=1               # cycle    4113  vector
+240 mma src=sram0[256] dst=acc0[0] count=256 swap accumulate    # cycle    4353  mxu.array
+8 ldw src=sram6[144]                                            # cycle    4361  mxu.load
+248 mma src=sram1[0] dst=acc0[0] count=256 swap accumulate      # cycle    4609  mxu.array
+8 ldw src=sram6[152]                                            # cycle    4617  mxu.load
+248 mma src=sram1[256] dst=acc0[0] count=256 swap accumulate    # cycle    4865  mxu.array
+8 ldw src=sram6[160]                                            # cycle    4873  mxu.load
+248 mma src=sram2[0] dst=acc0[0] count=256 swap accumulate      # cycle    5121  mxu.array
+8 ldw src=sram6[168]                                            # cycle    5129  mxu.load
+248 mma src=sram2[256] dst=acc0[0] count=256 swap accumulate    # cycle    5377  mxu.array
+8 ldw src=sram6[176]                                            # cycle    5385  mxu.load
+248 mma src=sram3[0] dst=acc0[0] count=256 swap accumulate      # cycle    5633  mxu.array
+8 ldw src=sram6[184]                                            # cycle    5641  mxu.load
+248 mma src=sram3[256] dst=acc0[0] count=256 swap accumulate    # cycle    5889  mxu.array
+8 ldw src=sram6[192]                                            # cycle    5897  mxu.load
+248 mma src=sram4[0] dst=acc1[0] count=256 swap                 # cycle    6145  mxu.array
+8 ldw src=sram6[200]                                            # cycle    6153  mxu.load
+8 rq src=acc0[0] dst=sram5[0] count=256 param=2                 # cycle    6161  vector
+240 mma src=sram4[256] dst=acc1[0] count=256 swap accumulate    # cycle    6401  mxu.array
+8 ldw src=sram6[208]                                            # cycle    6409  mxu.load
+248 mma src=sram5[0] dst=acc1[0] count=256 swap accumulate      # cycle    6657  mxu.array
+8 ldw src=sram6[216]                                            # cycle    6665  mxu.load
+248 mma src=sram4[0] dst=acc0[0] count=256 swap                 # cycle    6913  mxu.array
+8 ldw src=sram6[224]                                            # cycle    6921  mxu.load
+8 rq src=acc1[0] dst=sram7[0] count=256 param=3                 # cycle    6929  vector
+240 mma src=sram4[256] dst=acc0[0] count=256 swap accumulate    # cycle    7169  mxu.array
+8 ldw src=sram6[232]                                            # cycle    7177  mxu.load
+248 mma src=sram5[0] dst=acc0[0] count=256 swap accumulate      # cycle    7425  mxu.array
+272 rq src=acc0[0] dst=sram7[256] count=256 param=4             # cycle    7697  vector
+267 ctl.halt                                                    # cycle    7964  sequencer
