//! One directed test per op on the golden model. Expected values come from naive loops over
//! i64 in this file, never from the code under test. Schedules are worked out by hand in the
//! comments (tiny preset: N = 4, MMA latency 2N = 8, vector latency 4, copy latency 2).

// Plain index loops are the point here: the reference is deliberately naive.
#![allow(clippy::needless_range_loop)]

mod common;

use common::*;
use isa::{Chunk, HwConfig, ParamEntry, Region, Rows, SystemConfig, Topology};

fn naive_matmul(x: &[Vec<i8>], w: &[Vec<i8>]) -> Vec<Vec<i64>> {
    x.iter()
        .map(|row| {
            (0..w[0].len())
                .map(|j| (0..row.len()).map(|k| row[k] as i64 * w[k][j] as i64).sum())
                .collect()
        })
        .collect()
}

#[test]
fn ldw_and_mma_double_buffer_weights_and_accumulate() {
    let cfg = tiny();
    let w1 = random_rows(0x5eed, 4, 4);
    let w2 = random_rows(0x5eee, 4, 4);
    let x = random_rows(0x5eef, 5, 4);
    let program = "
        +0 ldw src=sram0[0]                                # 0: shadow rows written 1..4
        +1 mma src=sram1[0] dst=acc0[0] count=3 swap       # 1: acc writes 9..11
        +4 ldw src=sram0[4]                                # 5: after the swap wavefront (<= k+5)
        +1 mma src=sram1[0] dst=acc0[0] count=3 accumulate # 6: still W1 (no swap); reads 13..15
        +3 mma src=sram1[3] dst=acc0[4] count=2 swap       # 9: W2; writes 17..18
        +10 ctl.halt                                       # 19
    ";
    let r = run_text(
        &cfg,
        program,
        vec![
            sram_chunk(0, 0, 0, &[w1.clone(), w2.clone()].concat()),
            sram_chunk(0, 1, 0, &x),
        ],
    );
    let y1 = naive_matmul(&x[..3], &w1);
    for i in 0..3 {
        let twice: Vec<i64> = y1[i].iter().map(|v| 2 * v).collect();
        assert_eq!(acc_row(&r, 0, 0, i), twice, "row {i}");
    }
    let y2 = naive_matmul(&x[3..], &w2);
    assert_eq!(acc_row(&r, 0, 0, 4), y2[0]);
    assert_eq!(acc_row(&r, 0, 0, 5), y2[1]);
    assert_eq!(r.cycles(), 20);
}

#[test]
fn mma_accumulates_with_int32_wraparound() {
    let cfg = tiny();
    // All-(-128) inputs and weights: each product 16384, a row sums 65536.
    let w = vec![vec![-128i8; 4]; 4];
    let x = vec![vec![-128i8; 4]];
    let start = vec![vec![i32::MAX - 10; 4]];
    let r = run_text(
        &cfg,
        "+0 ldw src=sram0[0]\n+1 mma src=sram1[0] dst=acc0[0] swap accumulate\n+10 ctl.halt\n",
        vec![
            sram_chunk(0, 0, 0, &w),
            sram_chunk(0, 1, 0, &x),
            acc_chunk(0, 0, 0, &start),
        ],
    );
    let expected = wrap32(i32::MAX as i64 - 10 + 65536);
    assert_eq!(acc_row(&r, 0, 0, 0), vec![expected; 4]);
}

fn params_chunk(start: u32, entries: Vec<ParamEntry>) -> Chunk {
    Chunk {
        chip: 0,
        region: Region::Params,
        start,
        rows: Rows::Params(entries),
    }
}

#[test]
fn rq_requantizes_per_lane_to_int8_and_int32() {
    let cfg = tiny();
    let acc = vec![
        vec![1000, -1000, 3, -3],
        vec![i32::MAX, i32::MIN, 0, 1 << 20],
        vec![255, -255, 64, -64],
    ];
    let to_int8 = ParamEntry {
        bias: vec![10, -10, 1, 0],
        multiplier: vec![1 << 30, 1_518_500_250, 1 << 30, 1_200_000_000],
        shift: vec![-3, -4, 0, -1],
        zero_point: -5,
        act_min: -128,
        act_max: 127,
    };
    let to_int32 = ParamEntry {
        bias: vec![0; 4],
        multiplier: vec![1 << 30; 4],
        shift: vec![4, 4, -31, 0],
        zero_point: 7,
        act_min: -100_000,
        act_max: 100_000,
    };
    // Full int32 clamp range written to SRAM: the store saturates.
    let wide_to_sram = ParamEntry {
        act_min: i32::MIN,
        act_max: i32::MAX,
        ..to_int32.clone()
    };
    let program = "
        +0 rq src=acc0[0] dst=sram0[0] count=3 param=1   # reads 0..2, writes 4..6
        +3 rq src=acc0[0] dst=acc1[0] count=3 param=2    # reads 3..5, writes 7..9
        +3 rq src=acc0[0] dst=sram1[0] count=3 param=3   # reads 6..8, writes 10..12
        +9 ctl.halt                                      # 15
    ";
    let r = run_text(
        &cfg,
        program,
        vec![
            acc_chunk(0, 0, 0, &acc),
            params_chunk(1, vec![to_int8.clone(), to_int32.clone(), wide_to_sram]),
        ],
    );
    for (i, row) in acc.iter().enumerate() {
        let lane = |p: &ParamEntry, l: usize| {
            naive_rq_lane(
                row[l],
                p.bias[l],
                p.multiplier[l],
                p.shift[l] as i32,
                p.zero_point,
                p.act_min,
                p.act_max,
            )
        };
        let int8: Vec<i64> = (0..4).map(|l| lane(&to_int8, l)).collect();
        let int32: Vec<i64> = (0..4).map(|l| lane(&to_int32, l)).collect();
        let saturated: Vec<i64> = (0..4)
            .map(|l| sat8(naive_requant(row[l], 0, 1 << 30, to_int32.shift[l] as i32) + 7))
            .collect();
        assert_eq!(sram_row(&r, 0, 0, i), int8, "int8 row {i}");
        assert_eq!(acc_row(&r, 0, 1, i), int32, "int32 row {i}");
        assert_eq!(sram_row(&r, 0, 1, i), saturated, "saturated row {i}");
    }
    // One value worked by hand: (1000 + 10) * 0.5 * 2^-3 = 63.125 -> 63, - 5 = 58.
    assert_eq!(sram_row(&r, 0, 0, 0)[0], 58);
}

/// The zero bits above the highest one of `x`'s 32 bits, counted one by one.
fn leading_zeros(x: i64) -> i64 {
    let bits = x as u32;
    (0..32).rev().take_while(|b| bits >> b & 1 == 0).count() as i64
}

#[test]
fn vop_functions_on_int32_and_widened_int8_rows() {
    let cfg = tiny();
    let a = vec![
        vec![i32::MAX, -5, 7, i32::MIN],
        vec![100, -100, 0, 123_456_789],
    ];
    let b = vec![vec![1, 3, 0, -1], vec![33, 0, -2, 31]];
    let s = vec![vec![100i8, -100, 27, -128], vec![127, 0, -1, 50]];
    // Each vop: reads at t, t+1; writes at t+4, t+5; issued every 2 cycles.
    let funcs = [
        "add", "sub", "mul", "max", "min", "sel", "shl", "sra", "clz",
    ];
    let mut program = String::new();
    for (f, name) in funcs.iter().enumerate() {
        let delay = if f == 0 { 0 } else { 2 };
        program += &format!(
            "+{delay} vop.{name} a=acc0[0] b=acc1[0] dst=acc1[{}] count=2 imm=-77\n",
            10 + 2 * f
        );
    }
    program += "+2 vop.add a=sram0[0] b=imm imm=100 dst=sram1[0] count=2\n"; // 18
    program += "+2 vop.mul a=sram0[0] b=sram0[0] dst=acc1[30] count=2\n"; // 20: one read a cycle
    program += "+6 ctl.halt\n"; // 26
    let r = run_text(
        &cfg,
        &program,
        vec![
            acc_chunk(0, 0, 0, &a),
            acc_chunk(0, 1, 0, &b),
            sram_chunk(0, 0, 0, &s),
        ],
    );
    for i in 0..2 {
        for l in 0..4 {
            let (x, y) = (a[i][l] as i64, b[i][l] as i64);
            let sh = (y as u64 & 31) as u32;
            let expected = [
                wrap32(x + y),
                wrap32(x - y),
                wrap32(x * y),
                x.max(y),
                x.min(y),
                if y != 0 { x } else { -77 },
                wrap32(x << sh),
                x >> sh,
                leading_zeros(x),
            ];
            for (f, e) in expected.iter().enumerate() {
                assert_eq!(
                    acc_row(&r, 0, 1, 10 + 2 * f + i)[l],
                    *e,
                    "{} row {i} lane {l}",
                    funcs[f]
                );
            }
            let v = s[i][l] as i64;
            assert_eq!(sram_row(&r, 0, 1, i)[l], sat8(v + 100));
            assert_eq!(acc_row(&r, 0, 1, 30 + i)[l], v * v);
        }
    }
}

#[test]
fn lut_looks_up_int8_inputs() {
    let cfg = tiny();
    let table: Vec<i32> = (0..256).map(|e| (e - 128) * 3 - 7).collect();
    let input = vec![vec![-128i8, 127, 0, -1], vec![50, -50, 42, 43]];
    let program = "
        +0 lut src=sram0[0] dst=sram1[0] count=2 table=1  # writes 4..5 (saturated)
        +2 lut src=sram0[0] dst=acc0[0] count=2 table=1   # writes 6..7
        +6 ctl.halt
    ";
    let r = run_text(
        &cfg,
        program,
        vec![
            sram_chunk(0, 0, 0, &input),
            Chunk {
                chip: 0,
                region: Region::Lut { table: 1 },
                start: 0,
                rows: Rows::I32(table),
            },
        ],
    );
    for i in 0..2 {
        for l in 0..4 {
            let v = input[i][l] as i64;
            assert_eq!(acc_row(&r, 0, 0, i)[l], v * 3 - 7);
            assert_eq!(sram_row(&r, 0, 1, i)[l], sat8(v * 3 - 7));
        }
    }
}

#[test]
fn red_sums_with_wraparound_and_takes_max() {
    let cfg = tiny();
    let acc = vec![vec![i32::MAX, 1, 0, 0], vec![-3, -9, -1, -7]];
    let s = vec![vec![100i8, 100, 100, -128]];
    let program = "
        +0 red.sum src=acc0[0] dst=acc1[0] count=2
        +2 red.max src=acc0[0] dst=acc1[2] count=2
        +2 red.sum src=sram0[0] dst=sram1[0]
        +1 red.sum src=sram0[0] dst=acc1[4]
        +5 ctl.halt
    ";
    let r = run_text(
        &cfg,
        program,
        vec![acc_chunk(0, 0, 0, &acc), sram_chunk(0, 0, 0, &s)],
    );
    assert_eq!(acc_row(&r, 0, 1, 0), vec![wrap32(i32::MAX as i64 + 1); 4]);
    assert_eq!(acc_row(&r, 0, 1, 1), vec![-20; 4]);
    assert_eq!(acc_row(&r, 0, 1, 2), vec![i32::MAX as i64; 4]);
    assert_eq!(acc_row(&r, 0, 1, 3), vec![-1; 4]);
    assert_eq!(sram_row(&r, 0, 1, 0), vec![127; 4], "172 saturates");
    assert_eq!(acc_row(&r, 0, 1, 4), vec![172; 4]);
}

#[test]
fn perm_transposes_tiles_and_moves_lanes() {
    let cfg = tiny();
    let src = random_rows(7, 8, 4);
    let program = "
        +0 perm.transpose src=sram0[0] dst=sram1[0] count=2   # busy 13; writes 5..12
        +13 perm.rotate src=sram0[0] dst=sram2[0] amount=1 count=2     # 13: writes 15..16
        +2 perm.shift_down src=sram0[0] dst=sram2[2] amount=2 count=2  # 15: writes 17..18
        +2 perm.shift_up src=sram0[0] dst=sram2[4] amount=3 count=2    # 17: writes 19..20
        +4 ctl.halt                                                    # 21
    ";
    let r = run_text(&cfg, program, vec![sram_chunk(0, 0, 0, &src)]);
    for t in 0..2 {
        for j in 0..4 {
            let column: Vec<i64> = (0..4).map(|k| src[4 * t + k][j] as i64).collect();
            assert_eq!(sram_row(&r, 0, 1, 4 * t + j), column, "tile {t} column {j}");
        }
    }
    for i in 0..2 {
        let row: Vec<i64> = src[i].iter().map(|v| *v as i64).collect();
        assert_eq!(sram_row(&r, 0, 2, i), vec![row[1], row[2], row[3], row[0]]);
        assert_eq!(sram_row(&r, 0, 2, 2 + i), vec![row[2], row[3], 0, 0]);
        assert_eq!(sram_row(&r, 0, 2, 4 + i), vec![0, 0, 0, row[0]]);
    }
}

#[test]
fn mov_widens_saturates_and_strides() {
    let cfg = tiny();
    let s = vec![
        vec![-128i8, 127, 5, -5],
        vec![1, 2, 3, 4],
        vec![9, 9, 9, 9],
        vec![-1, -2, -3, -4],
    ];
    let acc = vec![vec![300, -300, 127, -129]];
    let program = "
        +0 mov src=sram0[0] src_step=2 dst=acc0[1] dst_step=3 count=2   # rows 0,2 -> acc 1,4
        +2 mov src=acc1[0] dst=sram1[0]                                 # saturating store
        +1 mov src=sram0[3] src_step=0 dst=sram2[0] count=3             # broadcast one row
        +5 ctl.halt
    ";
    let r = run_text(
        &cfg,
        program,
        vec![sram_chunk(0, 0, 0, &s), acc_chunk(0, 1, 0, &acc)],
    );
    let widen = |row: &Vec<i8>| row.iter().map(|v| *v as i64).collect::<Vec<_>>();
    assert_eq!(acc_row(&r, 0, 0, 1), widen(&s[0]));
    assert_eq!(acc_row(&r, 0, 0, 4), widen(&s[2]));
    assert_eq!(acc_row(&r, 0, 0, 2), vec![0; 4], "untouched");
    assert_eq!(sram_row(&r, 0, 1, 0), vec![127, -128, 127, -128]);
    for i in 0..3 {
        assert_eq!(sram_row(&r, 0, 2, i), widen(&s[3]));
    }
}

fn system(cfg: HwConfig, chips: u32, topology: Topology, link_latency: u32) -> HwConfig {
    cfg.with_system(SystemConfig {
        chips,
        topology,
        link_latency,
    })
    .unwrap()
}

#[test]
fn xfer_crosses_a_ring_and_a_mesh() {
    // 2-chip ring, latency 2: row i read at t+i arrives at t+i+1+2.
    let cfg = system(tiny(), 2, Topology::Ring, 2);
    let rows = random_rows(3, 3, 4);
    let program = "
        .chip 0
        +0 xfer chip=1 src=sram0[0] dst=sram2[5] count=3   # arrives at chip 1 in cycles 3..5
        +6 ctl.halt
        .chip 1
        +6 mov src=sram2[5] dst=acc0[0] count=3            # reads 6..8, after arrival
        +5 ctl.halt
    ";
    let r = run_text(&cfg, program, vec![sram_chunk(0, 0, 0, &rows)]);
    for (i, row) in rows.iter().enumerate() {
        let expected: Vec<i64> = row.iter().map(|v| *v as i64).collect();
        assert_eq!(sram_row(&r, 1, 2, 5 + i), expected);
        assert_eq!(acc_row(&r, 1, 0, i), expected);
    }
    let send = &r.timeline.chips[0][0];
    assert_eq!((send.issue(), send.completion()), (0, 5));

    // 2x2 mesh, latency 1: chip 0 -> chip 3 is two hops (0->1->3), arriving at t+i+3.
    let cfg = system(tiny(), 4, Topology::Mesh { rows: 2, cols: 2 }, 1);
    let program = "
        .chip 0
        +0 xfer chip=3 src=sram0[0] dst=sram1[0] count=2
        +5 ctl.halt
        .chip 1
        +0 ctl.halt
        .chip 2
        +0 ctl.halt
        .chip 3
        +5 ctl.halt
    ";
    let r = run_text(&cfg, program, vec![sram_chunk(0, 0, 0, &rows[..2])]);
    assert_eq!(
        sram_row(&r, 3, 1, 1),
        rows[1].iter().map(|v| *v as i64).collect::<Vec<_>>()
    );
    let links: Vec<(u64, u32, u32)> = r.timeline.chips[0][0]
        .plan
        .links
        .iter()
        .map(|l| (l.cycle, l.link.from, l.link.to))
        .collect();
    assert_eq!(links, vec![(1, 0, 1), (2, 1, 3), (2, 0, 1), (3, 1, 3)]);
}

#[test]
fn ctl_sync_holds_the_sequencer_for_the_barrier() {
    // 4-chip ring, latency 3: diameter 2, barrier 1 + 2 * 3 = 7 cycles.
    let cfg = system(tiny(), 4, Topology::Ring, 3);
    let chip = "+0 ctl.sync\n+7 ctl.nop\n+1 ctl.halt\n";
    let text: String = (0..4).map(|c| format!(".chip {c}\n{chip}")).collect();
    let r = run_text(&cfg, &text, vec![]);
    assert_eq!(r.cycles(), 9);
    assert_eq!(r.timeline.chips[2][0].completion(), 6);
    let early: String = (0..4)
        .map(|c| format!(".chip {c}\n+0 ctl.sync\n+6 ctl.halt\n"))
        .collect();
    let program = isa::assemble(&early).unwrap();
    let v = golden::verify(&program, &cfg).unwrap_err();
    for chip in 0..4 {
        assert!(v.iter().any(|x| x.rule == golden::Rule::UnitBusy
            && (x.chip, x.index, x.cycle) == (chip, 1, 6)
            && x.resource == "sequencer"));
    }
}
