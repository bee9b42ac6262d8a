//! Seeded random memory images and random programs that the golden verifier accepts: random ops with random operands
//! over a small window of rows (so instructions read each other's results), each issued at the
//! smallest delay that keeps the program valid, and each chip halted as early as it may.

use golden::verify;
use isa::image::LUT_ENTRIES;
use isa::ops::*;
use isa::{Addr, Chunk, HwConfig, Instr, MemImage, ParamEntry, Program, Region, Rows};
use seeded::Rng;

/// Where streams start: the random images fill these rows. (A transpose of two tiles on a
/// wide array reaches past them, into rows that start at zero.)
const WINDOW: u32 = 16;
/// Delays tried before an instruction is given up as one no delay can make valid.
const MAX_DELAY: u32 = 96;
const HALT: Op = Op::Ctl(Ctl {
    func: CtlFunc::Halt,
});

struct Gen<'a> {
    cfg: &'a HwConfig,
    rng: Rng,
}

impl Gen<'_> {
    fn n(&self) -> u32 {
        self.cfg.chip.n
    }

    /// A stream of `count` rows within the window: (first row, step).
    fn rows(&mut self, count: u32, depth: u32) -> (u32, u32) {
        let limit = WINDOW.min(depth);
        let step = if count == 1 { 0 } else { self.rng.below(3) };
        let span = (count - 1) * step;
        let row = self.rng.below(limit.saturating_sub(span).max(1));
        (row, step)
    }

    fn sram(&mut self, count: u32) -> (Addr, u32) {
        let c = &self.cfg.chip;
        let bank = self.rng.below(c.sram_banks);
        let (row, step) = self.rows(count, c.sram_depth);
        (Addr::sram(bank, row), step)
    }

    fn acc(&mut self, count: u32) -> (Addr, u32) {
        let c = &self.cfg.chip;
        let bank = self.rng.below(c.acc_banks);
        let (row, step) = self.rows(count, c.acc_depth);
        (Addr::acc(bank, row), step)
    }

    fn any(&mut self, count: u32) -> (Addr, u32) {
        if self.rng.chance(50) {
            self.sram(count)
        } else {
            self.acc(count)
        }
    }

    fn count(&mut self) -> u32 {
        1 + self.rng.below(2 * self.n())
    }

    /// The ops a random program draws from: every op of the ISA the config can run (a
    /// transfer needs a second chip, the rest their units).
    fn opcodes(&self) -> Vec<Opcode> {
        Opcode::ALL
            .into_iter()
            .filter(|op| *op != Opcode::Xfer || self.cfg.system.chips > 1)
            .filter(|op| self.cfg.implements(*op))
            .collect()
    }

    fn op(&mut self, chip: u32) -> Op {
        let c = self.cfg.chip.clone();
        let chips = self.cfg.system.chips;
        let opcode = self.rng.pick(&self.opcodes());
        match opcode {
            Opcode::Ldw => {
                let (src, src_step) = self.sram(self.n());
                Op::Ldw(Ldw { src, src_step })
            }
            Opcode::Mma => {
                let count = self.count();
                let (src, src_step) = self.sram(count);
                let (dst, dst_step) = self.acc(count);
                Op::Mma(Mma {
                    src,
                    src_step,
                    dst,
                    dst_step,
                    count,
                    swap: self.rng.chance(60),
                    accumulate: self.rng.chance(40),
                })
            }
            Opcode::Rq => {
                let count = self.count();
                let (src, src_step) = self.acc(count);
                let (dst, dst_step) = self.any(count);
                Op::Rq(Rq {
                    src,
                    src_step,
                    dst,
                    dst_step,
                    count,
                    param: self.rng.below(c.param_depth),
                })
            }
            Opcode::Vop => {
                let count = self.count();
                let (a, a_step) = self.any(count);
                let (b, b_step) = match self.rng.below(3) {
                    0 => (Addr::IMM, 0),
                    1 => (a, a_step),
                    _ => self.any(count),
                };
                let (dst, dst_step) = self.any(count);
                Op::Vop(Vop {
                    func: self.rng.pick(VopFunc::ALL),
                    a,
                    a_step,
                    b,
                    b_step,
                    dst,
                    dst_step,
                    count,
                    imm: self.rng.next_u64() as i32 >> self.rng.below(32),
                })
            }
            Opcode::Lut => {
                let count = self.count();
                let (src, src_step) = self.sram(count);
                let (dst, dst_step) = self.any(count);
                Op::Lut(Lut {
                    src,
                    src_step,
                    dst,
                    dst_step,
                    count,
                    table: self.rng.below(c.lut_tables),
                })
            }
            Opcode::Red => {
                let count = self.count();
                let (src, src_step) = self.any(count);
                let (dst, dst_step) = self.any(count);
                Op::Red(Red {
                    func: self.rng.pick(RedFunc::ALL),
                    src,
                    src_step,
                    dst,
                    dst_step,
                    count,
                })
            }
            Opcode::Perm => {
                let func = self.rng.pick(PermFunc::ALL);
                let (count, rows) = match func {
                    PermFunc::Transpose => {
                        let tiles = 1 + self.rng.below(2);
                        (tiles, tiles * self.n())
                    }
                    _ => {
                        let count = self.count();
                        (count, count)
                    }
                };
                let (src, src_step) = self.sram(rows);
                let (dst, dst_step) = self.sram(rows);
                Op::Perm(Perm {
                    func,
                    src,
                    src_step,
                    dst,
                    dst_step,
                    count,
                    amount: self.rng.below(self.n()),
                })
            }
            Opcode::Mov => {
                let count = self.count();
                let (src, src_step) = self.any(count);
                let (dst, dst_step) = self.any(count);
                Op::Mov(Mov {
                    src,
                    src_step,
                    dst,
                    dst_step,
                    count,
                })
            }
            Opcode::Ctl => {
                // `halt` ends every chip's program, at the end.
                let funcs: Vec<CtlFunc> = CtlFunc::ALL
                    .iter()
                    .copied()
                    .filter(|f| *f != CtlFunc::Halt)
                    .collect();
                Op::Ctl(Ctl {
                    func: self.rng.pick(&funcs),
                })
            }
            Opcode::Xfer => {
                let count = self.count();
                let (src, src_step) = self.sram(count);
                let (dst, dst_step) = self.sram(count);
                let other = (chip + 1 + self.rng.below(chips - 1)) % chips;
                Op::Xfer(Xfer {
                    chip: other,
                    src,
                    src_step,
                    dst,
                    dst_step,
                    count,
                })
            }
        }
    }
}

/// Whether `program` is valid with each chip's `ctl.halt` issued `halts[chip]` cycles after
/// its last instruction.
fn valid_with_halts(cfg: &HwConfig, chips: &[Vec<Instr>], halts: &[u32]) -> bool {
    let program = Program {
        chips: chips
            .iter()
            .zip(halts)
            .map(|(instrs, halt)| {
                let mut p = instrs.clone();
                p.push(Instr {
                    delay: *halt,
                    op: HALT,
                });
                p
            })
            .collect(),
    };
    verify(&program, cfg).is_ok()
}

/// Builds a program instruction by instruction, each at the smallest delay the verifier
/// accepts, then halts each chip as early as it may.
struct Scheduler<'a> {
    cfg: &'a HwConfig,
    program: Vec<Vec<Instr>>,
    /// While building, halts wait long enough for anything to finish.
    far: Vec<u32>,
}

impl<'a> Scheduler<'a> {
    fn new(cfg: &'a HwConfig) -> Self {
        let chips = cfg.system.chips as usize;
        Scheduler {
            cfg,
            program: vec![Vec::new(); chips],
            far: vec![4 * MAX_DELAY + 8 * cfg.chip.n * cfg.chip.n; chips],
        }
    }

    /// Issues `op` on `chip` at the smallest valid delay; false if no delay up to
    /// [`MAX_DELAY`] makes it valid (the op conflicts with itself or is out of range).
    fn place(&mut self, chip: usize, op: Op) -> bool {
        let first = u32::from(!self.program[chip].is_empty());
        for delay in first..=MAX_DELAY {
            self.program[chip].push(Instr { delay, op });
            if valid_with_halts(self.cfg, &self.program, &self.far) {
                return true;
            }
            self.program[chip].pop();
        }
        false
    }

    fn len(&self) -> usize {
        self.program.iter().map(Vec::len).sum()
    }

    /// The program with each chip's halt as early as it may be.
    fn finish(mut self) -> Program {
        let mut halts = self.far.clone();
        for chip in 0..self.program.len() {
            let mut lo = u32::from(!self.program[chip].is_empty());
            let mut hi = halts[chip];
            while lo < hi {
                let mid = (lo + hi) / 2;
                halts[chip] = mid;
                if valid_with_halts(self.cfg, &self.program, &halts) {
                    hi = mid;
                } else {
                    lo = mid + 1;
                }
            }
            halts[chip] = lo;
        }
        for (instrs, halt) in self.program.iter_mut().zip(&halts) {
            instrs.push(Instr {
                delay: *halt,
                op: HALT,
            });
        }
        Program {
            chips: self.program,
        }
    }
}

/// `ops` (per chip, in issue order, without halts) scheduled for `cfg`: each at the smallest
/// delay the verifier accepts, each chip halted as early as it may. The error names an op no
/// delay makes valid.
pub fn schedule(cfg: &HwConfig, ops: &[Vec<Op>]) -> Result<Program, String> {
    let mut s = Scheduler::new(cfg);
    for (chip, list) in ops.iter().enumerate() {
        for (i, op) in list.iter().enumerate() {
            if !s.place(chip, *op) {
                return Err(format!(
                    "chip {chip} op {i} ({}) is invalid at any delay",
                    op.mnemonic()
                ));
            }
        }
    }
    Ok(s.finish())
}

/// A valid random program of about `len` instructions per chip (plus each chip's halt).
pub fn random_program(cfg: &HwConfig, seed: u64, len: usize) -> Program {
    let mut g = Gen {
        cfg,
        rng: Rng::new(seed),
    };
    let chips = cfg.system.chips as usize;
    let mut s = Scheduler::new(cfg);
    for _ in 0..len * chips * 4 {
        if s.len() >= len * chips {
            break;
        }
        let chip = g.rng.below(chips as u32) as usize;
        let op = g.op(chip as u32);
        // An op no delay makes valid is dropped.
        s.place(chip, op);
    }
    s.finish()
}

/// How much of each bank a random image fills.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fill {
    /// The rows random programs stream over (the rest stays zero): quick to load.
    Window,
    /// Every row.
    Whole,
}

/// Random contents for the rows of every memory of every chip that random programs use:
/// SRAM, accumulators (some near the int32 limits), lookup tables and valid requantization
/// parameters.
pub fn random_image(cfg: &HwConfig, seed: u64) -> MemImage {
    random_image_filling(cfg, seed, Fill::Window)
}

/// [`random_image`], filling the banks as `fill` says.
pub fn random_image_filling(cfg: &HwConfig, seed: u64, fill: Fill) -> MemImage {
    let mut rng = Rng::new(seed);
    let rows_of = |depth: u32| match fill {
        Fill::Window => WINDOW.min(depth) as usize,
        Fill::Whole => depth as usize,
    };
    let c = &cfg.chip;
    let n = c.n as usize;
    let mut chunks = Vec::new();
    for chip in 0..cfg.system.chips {
        for bank in 0..c.sram_banks {
            let rows = rows_of(c.sram_depth);
            chunks.push(Chunk {
                chip,
                region: Region::Sram { bank },
                start: 0,
                rows: Rows::I8((0..rows * n).map(|_| rng.next_u64() as i8).collect()),
            });
        }
        for bank in 0..c.acc_banks {
            let rows = rows_of(c.acc_depth);
            let lanes = (0..rows * n)
                .map(|i| match i % 7 {
                    0 => rng.next_u64() as i32,
                    _ => rng.range(-40_000, 40_000) as i32,
                })
                .collect();
            chunks.push(Chunk {
                chip,
                region: Region::Acc { bank },
                start: 0,
                rows: Rows::I32(lanes),
            });
        }
        for table in 0..c.lut_tables {
            chunks.push(Chunk {
                chip,
                region: Region::Lut { table },
                start: 0,
                rows: Rows::I32(
                    (0..LUT_ENTRIES)
                        .map(|_| rng.range(-1000, 1000) as i32)
                        .collect(),
                ),
            });
        }
        let params = (0..c.param_depth)
            .map(|e| ParamEntry {
                bias: (0..n).map(|_| rng.range(-5000, 5000) as i32).collect(),
                multiplier: (0..n)
                    .map(|_| rng.range(1 << 30, (1 << 31) - 1) as i32)
                    .collect(),
                // Mostly the shifts real layers use; sometimes the whole range.
                shift: (0..n)
                    .map(|_| {
                        if rng.below(5) == 0 {
                            rng.range(-31, 30) as i8
                        } else {
                            rng.range(-12, 2) as i8
                        }
                    })
                    .collect(),
                zero_point: rng.range(-20, 20) as i32,
                act_min: if e % 2 == 0 { -128 } else { i32::MIN },
                act_max: if e % 2 == 0 { 127 } else { i32::MAX },
            })
            .collect();
        chunks.push(Chunk {
            chip,
            region: Region::Params,
            start: 0,
            rows: Rows::Params(params),
        });
    }
    MemImage { chunks }
}

/// The smallest program still failing `fails`, found by deleting instructions one at a time.
/// A deleted instruction's delay moves to the next one, so every other instruction keeps its
/// issue cycle; a candidate is kept only if the verifier still accepts it.
pub fn shrink(
    cfg: &HwConfig,
    program: &Program,
    mut fails: impl FnMut(&Program) -> bool,
) -> Program {
    let mut best = program.clone();
    loop {
        let mut changed = false;
        for chip in 0..best.chips.len() {
            let mut i = 0;
            // The last instruction is the halt.
            while i + 1 < best.chips[chip].len() {
                let mut candidate = best.clone();
                let removed = candidate.chips[chip].remove(i);
                candidate.chips[chip][i].delay += removed.delay;
                if verify(&candidate, cfg).is_ok() && fails(&candidate) {
                    best = candidate;
                    changed = true;
                } else {
                    i += 1;
                }
            }
        }
        if !changed {
            return best;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_programs_are_valid_use_many_ops_and_repeat_by_seed() {
        let cfg = HwConfig::preset("tiny").unwrap();
        let mut seen = std::collections::HashSet::new();
        for seed in 0..8 {
            let p = random_program(&cfg, seed, 12);
            assert!(verify(&p, &cfg).is_ok(), "seed {seed}");
            assert_eq!(p, random_program(&cfg, seed, 12));
            assert!(p.chips[0].len() > 6, "seed {seed}: {}", p.chips[0].len());
            for i in &p.chips[0] {
                seen.insert(i.op.opcode());
            }
        }
        assert!(seen.len() >= 9, "{seen:?}");
    }

    #[test]
    fn shrinking_keeps_only_what_the_failure_needs() {
        let cfg = HwConfig::preset("tiny").unwrap();
        let program = random_program(&cfg, 3, 14);
        // A "failure" that needs any mma: the shrunk program is one mma and the halt.
        let has_mma = |p: &Program| p.chips[0].iter().any(|i| matches!(i.op, Op::Mma(_)));
        assert!(has_mma(&program));
        let small = shrink(&cfg, &program, has_mma);
        assert_eq!(small.chips[0].len(), 2, "{}", isa::disassemble(&small));
        assert!(has_mma(&small) && small.chips[0][1].op.is_halt());
        assert!(verify(&small, &cfg).is_ok());
    }
}
