//! The host side of the chip's host port: the operations that load a program and a memory
//! image, start the run and read the results back, for any simulator that can drive pins.
//! The register map is [`rtl_gen::host_map`].

use golden::SystemState;
use isa::{HwConfig, Layout, MemImage, ParamEntry, Program, Rows};
use rtl_gen::ctx::Ctx;
use rtl_gen::host_map::{row_command, row_read_latency, start_command, start_latency, Reg, Region};

use crate::trace::TraceEvent;
use crate::{RtlRun, SimError};

/// One host-port operation (chip-addressed; a single chip ignores `chip`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostOp {
    Write {
        chip: u32,
        addr: u32,
        data: u32,
    },
    /// Reads a word; its value is one of the run's outputs, in order.
    Read {
        chip: u32,
        addr: u32,
    },
    /// Waits until every chip has halted, at most `budget` cycles.
    Run {
        budget: u64,
    },
    Idle(u32),
}

/// Builds operation lists for one config.
pub struct HostPort {
    cfg: HwConfig,
    layout: Layout,
    stage_base: u32,
    n: usize,
}

impl HostPort {
    pub fn new(cfg: &HwConfig) -> Self {
        let ctx = Ctx::new(cfg);
        HostPort {
            cfg: cfg.clone(),
            layout: Layout::new(cfg),
            stage_base: 1 << (ctx.host_addr_bits - 1),
            n: cfg.lanes(),
        }
    }

    fn row(&self, ops: &mut Vec<HostOp>, chip: u32, cmd: u32, words: &[u32]) {
        for (w, data) in words.iter().enumerate() {
            ops.push(HostOp::Write {
                chip,
                addr: self.stage_base + w as u32,
                data: *data,
            });
        }
        ops.push(HostOp::Write {
            chip,
            addr: Reg::RowCommand as u32,
            data: cmd,
        });
    }

    /// Every operation of one run on a freshly powered-up chip (memories at zero): read the
    /// config hash, load, start, run to halt within `budget` cycles, read everything back.
    /// The program must pass the verifier and the image must fit the config.
    pub fn session(
        &self,
        program: &Program,
        image: &MemImage,
        budget: u64,
    ) -> Result<Vec<HostOp>, SimError> {
        self.session_on(program, image, budget, false)
    }

    /// [`HostPort::session`] on a chip that may hold `program` already (`program_held`):
    /// then its instructions are not written again.
    pub fn session_on(
        &self,
        program: &Program,
        image: &MemImage,
        budget: u64,
        program_held: bool,
    ) -> Result<Vec<HostOp>, SimError> {
        let mut ops = self.identify();
        ops.extend(self.start_on(program, image, program_held)?);
        ops.push(HostOp::Run { budget });
        ops.extend(self.read_back());
        Ok(ops)
    }

    /// Checks `program` and `image`, loads them and starts every chip; the program's cycle 0
    /// is the cycle after the last operation.
    pub fn start(&self, program: &Program, image: &MemImage) -> Result<Vec<HostOp>, SimError> {
        self.start_on(program, image, false)
    }

    fn start_on(
        &self,
        program: &Program,
        image: &MemImage,
        program_held: bool,
    ) -> Result<Vec<HostOp>, SimError> {
        golden::verify(program, &self.cfg).map_err(SimError::Rejected)?;
        image.validate(&self.cfg)?;
        let mut ops = self.load_and_start(program, image, program_held);
        ops.push(HostOp::Idle(start_latency(&self.cfg) - 1));
        Ok(ops)
    }

    /// The results of a [`HostPort::session`] from the words it read.
    pub fn finish(
        &self,
        words: &[u32],
        trace: Vec<TraceEvent>,
        simulated_cycles: u64,
    ) -> Result<RtlRun, SimError> {
        let reads = |ops: Vec<HostOp>| {
            ops.iter()
                .filter(|op| matches!(op, HostOp::Read { .. }))
                .count()
        };
        let expected = reads(self.identify()) + reads(self.read_back());
        if words.len() != expected {
            return Err(SimError::Output(format!(
                "{} words read back, expected {expected}",
                words.len()
            )));
        }
        self.check_identity(words)?;
        let (cycles, state) = self.parse_readback(&words[2..]);
        Ok(RtlRun {
            cycles,
            state,
            trace,
            simulated_cycles,
        })
    }

    /// Checks the config hash [`HostPort::identify`] read (the first two of `words`).
    pub fn check_identity(&self, words: &[u32]) -> Result<(), SimError> {
        let found = format!("{:08x}{:08x}", words[1], words[0]);
        let want = self.cfg.hash().to_string();
        if found != want {
            return Err(SimError::ConfigMismatch {
                expected: want,
                found,
            });
        }
        Ok(())
    }

    /// Writes zeros over every SRAM and accumulator row of every chip that `known` (the
    /// memories as last read back) does not show to be zero; all of them if `None`. A
    /// board's memories keep what the last run left (and SPRAM powers up undefined), while
    /// a run assumes them zero.
    pub fn clear(&self, known: Option<&SystemState>) -> Vec<HostOp> {
        let mut ops = Vec::new();
        let c = &self.cfg.chip;
        let zeros = vec![0; self.n];
        for chip in 0..self.cfg.system.chips {
            let state = known.map(|s| &s.chips[chip as usize]);
            // A row write leaves the staging row as it was: zeros staged once clear every row.
            let mut zeros_staged = false;
            let memories = [
                (Region::Sram, c.sram_banks, c.sram_depth),
                (Region::Acc, c.acc_banks, c.acc_depth),
            ];
            for (region, banks, depth) in memories {
                for bank in 0..banks {
                    for row in 0..depth {
                        let (b, r) = (bank as usize, row as usize);
                        let dirty = state.is_none_or(|s| {
                            (0..self.n).any(|l| match region {
                                Region::Sram => s.sram[[b, r, l]] != 0,
                                _ => s.acc[[b, r, l]] != 0,
                            })
                        });
                        if dirty {
                            let cmd = row_command(region, bank, row, true);
                            let staged = if zeros_staged { &[][..] } else { &zeros };
                            self.row(&mut ops, chip, cmd, staged);
                            zeros_staged = true;
                        }
                    }
                }
            }
        }
        ops
    }

    /// Reads chip 0's config hash (low word, high word): the first operations of a
    /// [`HostPort::session`].
    pub fn identify(&self) -> Vec<HostOp> {
        [Reg::HashLow, Reg::HashHigh]
            .map(|r| HostOp::Read {
                chip: 0,
                addr: r as u32,
            })
            .into()
    }

    /// Loads `program` (unless the chips hold it) into every chip's instruction memory and
    /// the non-zero rows of `image` (the memories of a powered-up chip are zero), then starts
    /// every chip.
    fn load_and_start(
        &self,
        program: &Program,
        image: &MemImage,
        program_held: bool,
    ) -> Vec<HostOp> {
        let mut ops = Vec::new();
        // An instruction is written as its memory's lines, least significant first.
        let lines = self.cfg.chip.imem_fetch_cycles as usize;
        let to_write = if program_held {
            &[][..]
        } else {
            &program.chips[..]
        };
        for (chip, instrs) in to_write.iter().enumerate() {
            let chip = chip as u32;
            for (i, instr) in instrs.iter().enumerate() {
                let bytes = self
                    .layout
                    .encode(instr)
                    .expect("the verifier checked that every instruction encodes");
                for (k, line) in bytes.chunks(bytes.len() / lines).enumerate() {
                    let words: Vec<u32> = line
                        .chunks(4)
                        .map(|b| {
                            let mut word = [0; 4];
                            word[..b.len()].copy_from_slice(b);
                            u32::from_le_bytes(word)
                        })
                        .collect();
                    let row = (i * lines + k) as u32;
                    self.row(
                        &mut ops,
                        chip,
                        row_command(Region::Imem, 0, row, true),
                        &words,
                    );
                }
            }
        }
        let n = self.n;
        for chunk in &image.chunks {
            let c = chunk.chip;
            let put = |ops: &mut Vec<HostOp>, region, bank, row, words: Vec<u32>| {
                if words.iter().any(|w| *w != 0) {
                    self.row(ops, c, row_command(region, bank, row, true), &words);
                }
            };
            match (&chunk.rows, chunk.region) {
                (Rows::I8(v), isa::Region::Sram { bank }) => {
                    for (r, lanes) in v.chunks(n).enumerate() {
                        let words = lanes.iter().map(|x| *x as i32 as u32).collect();
                        put(&mut ops, Region::Sram, bank, chunk.start + r as u32, words);
                    }
                }
                (Rows::I32(v), isa::Region::Acc { bank }) => {
                    for (r, lanes) in v.chunks(n).enumerate() {
                        let words = lanes.iter().map(|x| *x as u32).collect();
                        put(&mut ops, Region::Acc, bank, chunk.start + r as u32, words);
                    }
                }
                (Rows::I32(v), isa::Region::Lut { table }) => {
                    for (e, x) in v.iter().enumerate() {
                        put(
                            &mut ops,
                            Region::Lut,
                            table,
                            chunk.start + e as u32,
                            vec![*x as u32],
                        );
                    }
                }
                (Rows::Params(entries), isa::Region::Params) => {
                    for (e, p) in entries.iter().enumerate() {
                        let row = chunk.start + e as u32;
                        // A zero entry is not all-zero words (its clamp is the full range).
                        self.row(
                            &mut ops,
                            c,
                            row_command(Region::Param, 0, row, true),
                            &param_words(p),
                        );
                    }
                }
                _ => unreachable!("a validated image has no other chunk shapes"),
            }
        }
        // A write of the control register reaches every chip of a system at once.
        ops.push(HostOp::Write {
            chip: 0,
            addr: Reg::Control as u32,
            data: start_command(),
        });
        ops
    }

    /// Reads each chip's cycle count, then every SRAM and accumulator row back; see
    /// [`HostPort::parse_readback`].
    fn read_back(&self) -> Vec<HostOp> {
        let mut ops = Vec::new();
        let c = &self.cfg.chip;
        for chip in 0..self.cfg.system.chips {
            for reg in [Reg::CycleLow, Reg::CycleHigh] {
                ops.push(HostOp::Read {
                    chip,
                    addr: reg as u32,
                });
            }
            let mut fetch = |region, bank, rows| {
                for row in 0..rows {
                    ops.push(HostOp::Write {
                        chip,
                        addr: Reg::RowCommand as u32,
                        data: row_command(region, bank, row, false),
                    });
                    ops.push(HostOp::Idle(row_read_latency(&self.cfg)));
                    for w in 0..self.n as u32 {
                        ops.push(HostOp::Read {
                            chip,
                            addr: self.stage_base + w,
                        });
                    }
                }
            };
            for bank in 0..c.sram_banks {
                fetch(Region::Sram, bank, c.sram_depth);
            }
            for bank in 0..c.acc_banks {
                fetch(Region::Acc, bank, c.acc_depth);
            }
        }
        ops
    }

    /// The cycle counts and memories from the words [`HostPort::read_back`] read, in order
    /// (the caller checked their number).
    fn parse_readback(&self, words: &[u32]) -> (Vec<u64>, SystemState) {
        let mut state = SystemState::new(&self.cfg);
        let mut it = words.iter().copied();
        let mut next = || it.next().expect("the caller checked the word count");
        let mut cycles = Vec::new();
        let c = &self.cfg.chip;
        for chip in state.chips.iter_mut() {
            let lo = next() as u64;
            let hi = next() as u64;
            cycles.push(lo | hi << 32);
            for bank in 0..c.sram_banks as usize {
                for row in 0..c.sram_depth as usize {
                    for lane in 0..self.n {
                        chip.sram[[bank, row, lane]] = next() as i32 as i8;
                    }
                }
            }
            for bank in 0..c.acc_banks as usize {
                for row in 0..c.acc_depth as usize {
                    for lane in 0..self.n {
                        chip.acc[[bank, row, lane]] = next() as i32;
                    }
                }
            }
        }
        (cycles, state)
    }
}

/// A parameter entry as staging words: bias, multiplier, shift per lane, then zero point,
/// act_min, act_max.
fn param_words(p: &ParamEntry) -> Vec<u32> {
    p.bias
        .iter()
        .chain(&p.multiplier)
        .map(|x| *x as u32)
        .chain(p.shift.iter().map(|s| *s as i32 as u32))
        .chain([p.zero_point, p.act_min, p.act_max].map(|x| x as u32))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Clearing unknown memories stages one zero row, then writes it to every SRAM and
    /// accumulator row with a row command each; known memories lose only their non-zero rows.
    #[test]
    fn a_clear_stages_zeros_once_and_writes_every_row_not_known_zero() {
        let cfg = HwConfig::preset("up5k").unwrap();
        let port = HostPort::new(&cfg);
        let c = &cfg.chip;
        let rows = (c.sram_banks * c.sram_depth + c.acc_banks * c.acc_depth) as usize;
        let is_command = |op: &HostOp| matches!(op, HostOp::Write { addr, .. } if *addr == Reg::RowCommand as u32);
        let ops = port.clear(None);
        let commands = ops.iter().filter(|op| is_command(op)).count();
        assert_eq!(commands, rows);
        let staged: Vec<&HostOp> = ops.iter().filter(|op| !is_command(op)).collect();
        assert_eq!(staged.len(), cfg.lanes(), "{staged:?}");
        assert!(staged.iter().all(
            |op| matches!(op, HostOp::Write { data: 0, addr, .. } if *addr >= port.stage_base)
        ));
        assert!(ops[..cfg.lanes()].iter().all(|op| !is_command(op)));

        let mut known = golden::SystemState::new(&cfg);
        assert!(port.clear(Some(&known)).is_empty());
        known.chips[0].sram[[1, 7, 0]] = -3;
        known.chips[0].acc[[0, 2, 1]] = 9;
        let ops = port.clear(Some(&known));
        let expected = [
            row_command(Region::Sram, 1, 7, true),
            row_command(Region::Acc, 0, 2, true),
        ];
        let written: Vec<u32> = ops
            .iter()
            .filter(|op| is_command(op))
            .map(|op| match op {
                HostOp::Write { data, .. } => *data,
                _ => unreachable!(),
            })
            .collect();
        assert_eq!(written, expected);
        assert_eq!(ops.len(), cfg.lanes() + 2);
    }
}
