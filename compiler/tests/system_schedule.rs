//! The scheduler over a system of chips: random copies within and between chips (`MOV`,
//! `XFER`) in one logical order, scheduled and encoded a program a chip, accepted by the
//! golden verifier (links, arrivals, ports, hazards) and computing what the ops compute one
//! after another in that order, by plain loops over the rows.

use compiler::schedule_program;
use golden::SystemState;
use isa::ops::{Mov, Xfer};
use isa::{Addr, Chunk, HwConfig, MemImage, Op, Region, Rows, SystemConfig, Topology};
use seeded::Rng;

fn system(chips: u32, topology: Topology, link_latency: u32) -> HwConfig {
    HwConfig::preset("tiny")
        .unwrap()
        .with_system(SystemConfig {
            chips,
            topology,
            link_latency,
        })
        .unwrap()
}

/// Rows `0..ROWS` of each bank are in play.
const ROWS: u32 = 12;

/// A random stream of `count` rows in `bank` within the rows in play.
fn stream(rng: &mut Rng, bank: u32, count: u32) -> (Addr, u32) {
    let step = rng.below(2) + 1;
    let start = rng.below(ROWS - (count - 1) * step);
    (Addr::sram(bank, start), step)
}

/// `ops` random copies on `cfg`'s chips: `MOV`s between two banks of one chip and `XFER`s
/// to another chip.
fn random_copies(rng: &mut Rng, cfg: &HwConfig, ops: usize) -> Vec<(u32, Op)> {
    let (chips, banks) = (cfg.system.chips, cfg.chip.sram_banks);
    (0..ops)
        .map(|_| {
            let chip = rng.below(chips);
            let count = rng.below(4) + 1;
            let from = rng.below(banks);
            let (src, src_step) = stream(rng, from, count);
            if rng.chance(50) {
                let to = (from + 1 + rng.below(banks - 1)) % banks;
                let (dst, dst_step) = stream(rng, to, count);
                let op = Op::Mov(Mov {
                    src,
                    src_step,
                    dst,
                    dst_step,
                    count,
                });
                (chip, op)
            } else {
                let other = (chip + 1 + rng.below(chips - 1)) % chips;
                let to = rng.below(banks);
                let (dst, dst_step) = stream(rng, to, count);
                let op = Op::Xfer(Xfer {
                    chip: other,
                    src,
                    src_step,
                    dst,
                    dst_step,
                    count,
                });
                (chip, op)
            }
        })
        .collect()
}

/// Each chip's SRAM rows in play, `[chip][bank][row]`, lane 0 of each row numbered apart.
type Rows8 = Vec<Vec<Vec<Vec<i8>>>>;

fn initial(cfg: &HwConfig) -> Rows8 {
    let n = cfg.lanes();
    (0..cfg.system.chips)
        .map(|c| {
            (0..cfg.chip.sram_banks)
                .map(|b| {
                    (0..ROWS)
                        .map(|r| {
                            let tag = (c * 97 + b * 13 + r) as i8;
                            (0..n).map(|l| tag.wrapping_add(l as i8)).collect()
                        })
                        .collect()
                })
                .collect()
        })
        .collect()
}

/// The copies one after another, each row read before any is written.
fn sequentially(mut rows: Rows8, ops: &[(u32, Op)]) -> Rows8 {
    for (chip, op) in ops {
        let (to_chip, src, src_step, dst, dst_step, count) = match op {
            Op::Mov(m) => (*chip, m.src, m.src_step, m.dst, m.dst_step, m.count),
            Op::Xfer(x) => (x.chip, x.src, x.src_step, x.dst, x.dst_step, x.count),
            _ => unreachable!("copies only"),
        };
        let read: Vec<Vec<i8>> = (0..count)
            .map(|i| {
                rows[*chip as usize][src.bank as usize][(src.row + i * src_step) as usize].clone()
            })
            .collect();
        for (i, row) in read.into_iter().enumerate() {
            let at = (dst.row + i as u32 * dst_step) as usize;
            rows[to_chip as usize][dst.bank as usize][at] = row;
        }
    }
    rows
}

fn image(rows: &Rows8) -> MemImage {
    let mut chunks = Vec::new();
    for (chip, banks) in rows.iter().enumerate() {
        for (bank, bank_rows) in banks.iter().enumerate() {
            chunks.push(Chunk {
                chip: chip as u32,
                region: Region::Sram { bank: bank as u32 },
                start: 0,
                rows: Rows::I8(bank_rows.concat()),
            });
        }
    }
    MemImage { chunks }
}

fn check(cfg: &HwConfig, seeds: std::ops::Range<u64>) {
    for seed in seeds {
        let mut rng = Rng::new(seed);
        let ops = random_copies(&mut rng, cfg, 24);
        let (program, schedules) =
            schedule_program(&ops, cfg).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        assert_eq!(schedules.len(), cfg.system.chips as usize);
        let start = initial(cfg);
        let state = SystemState::from_image(cfg, &image(&start)).unwrap();
        let run = golden::run(&program, cfg, state, None).unwrap();
        let expected = sequentially(start, &ops);
        for (c, chip) in expected.iter().enumerate() {
            for (b, bank) in chip.iter().enumerate() {
                for (r, row) in bank.iter().enumerate() {
                    let got: Vec<i8> = (0..cfg.lanes())
                        .map(|l| run.state.chips[c].sram[[b, r, l]])
                        .collect();
                    assert_eq!(&got, row, "seed {seed}: chip {c} sram{b}[{r}]");
                }
            }
        }
    }
}

#[test]
fn random_copies_across_a_ring_of_two_compute_what_they_say_in_order() {
    check(&system(2, Topology::Ring, 2), 0..40);
}

#[test]
fn random_copies_across_a_mesh_and_a_dragonfly_compute_what_they_say_in_order() {
    check(&system(4, Topology::Mesh { rows: 2, cols: 2 }, 1), 100..130);
    let dragonfly = Topology::Dragonfly {
        groups: 2,
        group_size: 4,
    };
    check(&system(8, dragonfly, 3), 200..220);
}

#[test]
fn transfers_that_share_a_link_take_turns_and_the_receiver_waits_for_arrival() {
    let cfg = system(2, Topology::Ring, 3);
    let xfer = |src: u32, dst: u32| Xfer {
        chip: 1,
        src: Addr::sram(0, src),
        src_step: 1,
        dst: Addr::sram(1, dst),
        dst_step: 1,
        count: 4,
    };
    // Two transfers over the one link 0 -> 1, then chip 1 copies what arrived.
    let ops = vec![
        (0, Op::Xfer(xfer(0, 0))),
        (0, Op::Xfer(xfer(4, 4))),
        (
            1,
            Op::Mov(Mov {
                src: Addr::sram(1, 0),
                src_step: 1,
                dst: Addr::sram(2, 0),
                dst_step: 1,
                count: 8,
            }),
        ),
    ];
    let (_, schedules) = schedule_program(&ops, &cfg).unwrap();
    let issue = |chip: usize, k: usize| schedules[chip].slots[k].issue;
    // The router sends a row a cycle: the second transfer follows the first's four rows.
    assert!(issue(0, 1) >= issue(0, 0) + 4, "{:?}", schedules[0].slots);
    // A row reaches chip 1 after the read (1 cycle), the read registers and one hop of 3:
    // the copy's last row read waits for the second transfer's last arrival.
    let g = cfg.chip.read_registers() as u64;
    let last_arrival = issue(0, 1) + 3 + 1 + g + 3;
    assert!(issue(1, 0) + 7 > last_arrival, "{:?}", schedules[1].slots);
}

#[test]
fn two_chips_sending_through_one_link_at_once_take_turns() {
    // On a dragonfly, two transfers from different chips to different chips whose routes
    // take one link at the same hop: issued together, their rows would meet on it.
    let cfg = system(
        8,
        Topology::Dragonfly {
            groups: 2,
            group_size: 4,
        },
        2,
    );
    let pairs: Vec<(u32, u32)> = (0..8)
        .flat_map(|a| (0..8).map(move |b| (a, b)))
        .filter(|(a, b)| a != b)
        .collect();
    let shares = |(a, b): (u32, u32), (c, d): (u32, u32)| {
        let (one, two) = (cfg.system.route(a, b), cfg.system.route(c, d));
        a != c && b != d && one.iter().zip(&two).any(|(x, y)| x == y)
    };
    let (first, second) = pairs
        .iter()
        .flat_map(|p| pairs.iter().map(move |q| (*p, *q)))
        .find(|(p, q)| shares(*p, *q))
        .expect("a dragonfly has two routes through one link");
    let xfer = |(from, to): (u32, u32)| {
        let op = Op::Xfer(Xfer {
            chip: to,
            src: Addr::sram(0, 0),
            src_step: 1,
            dst: Addr::sram(1, 4 * from),
            dst_step: 1,
            count: 4,
        });
        (from, op)
    };
    let (_, schedules) = schedule_program(&[xfer(first), xfer(second)], &cfg).unwrap();
    let issue = |chip: u32| schedules[chip as usize].slots[0].issue;
    assert!(
        issue(first.0).abs_diff(issue(second.0)) >= 4,
        "{first:?} at {}, {second:?} at {}",
        issue(first.0),
        issue(second.0)
    );
}

#[test]
fn a_compiled_transfer_or_its_reader_moved_earlier_is_refused_naming_chip_instruction_and_link() {
    let cfg = system(2, Topology::Ring, 3);
    let xfer = |src: u32, count: u32| {
        let op = Op::Xfer(Xfer {
            chip: 1,
            src: Addr::sram(0, src),
            src_step: 1,
            dst: Addr::sram(1, src),
            dst_step: 1,
            count,
        });
        (0, op)
    };
    let copy = |count: u32| {
        let op = Op::Mov(Mov {
            src: Addr::sram(1, 0),
            src_step: 1,
            dst: Addr::sram(2, 0),
            dst_step: 1,
            count,
        });
        (1, op)
    };
    // Instruction `index` of `chip` `by` cycles earlier, everything after it where it was.
    let earlier = |ops: &[(u32, Op)], chip: usize, index: usize, by: u32| {
        let (mut program, _) = schedule_program(ops, &cfg).unwrap();
        let instrs = &mut program.chips[chip];
        instrs[index].delay -= by;
        instrs[index + 1].delay += by;
        golden::verify(&program, &cfg).expect_err("a moved instruction breaks a rule")
    };
    let find = |refused: &[golden::verify::Violation], rule| {
        refused
            .iter()
            .find(|v| v.rule == rule)
            .unwrap_or_else(|| panic!("{refused:?}"))
            .clone()
    };
    // The second transfer's first row would enter link 0 -> 1 with the first's last.
    let refused = earlier(&[xfer(0, 4), xfer(4, 4)], 0, 1, 1);
    let link = find(&refused, golden::verify::Rule::LinkConflict);
    assert_eq!((link.chip, link.index), (0, 1), "{link}");
    assert_eq!(link.resource, "link 0->1", "{link}");
    // The copy on chip 1 would read the row before it arrives.
    let refused = earlier(&[xfer(0, 1), copy(1)], 1, 0, 2);
    let stale = find(&refused, golden::verify::Rule::ReadAfterWrite);
    assert_eq!((stale.chip, stale.index), (1, 0), "{stale}");
    assert!(stale.message.contains("chip 0 instruction 0"), "{stale}");
}
