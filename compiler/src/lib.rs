//! The Metronome compiler: a quantized model -> a program of the ten ops with a static
//! schedule, an SRAM allocation, a memory image and a predicted cycle count.
//!
//! Named passes, each checked by the next:
//! 1. [`model`]: read and check the model directory (`model.toml` + `.npy` tensors);
//! 2. [`lower`]: fully-connected layers -> weight tiles, requantization entries, SRAM regions
//!    and a logical list of `LDW` / `MMA` / `RQ` steps;
//! 3. [`alloc`]: regions -> SRAM banks and rows, conflicting streams in different banks;
//! 4. [`schedule`]: list scheduling over a resource-reservation table;
//! 5. verify: the golden model's verifier checks the program, and its cycle count must equal
//!    the schedule's;
//! 6. encode: [`Compiled::program`] and [`Compiled::image`].
//!
//! ```
//! use compiler::{compile, model::Model};
//! use isa::HwConfig;
//!
//! let model = Model::digits();
//! let cfg = HwConfig::preset("small").unwrap();
//! let compiled = compile(&model, &cfg, 4).unwrap();
//! let test = model.samples().unwrap();
//! let inputs: Vec<Vec<i8>> = test.inputs[..4].iter().map(|x| model.quantize_input(x)).collect();
//! // An error if the golden model's cycle count differs from the predicted one.
//! let (_image, run) = compiled.run_golden(&inputs).unwrap();
//! let logits = compiled.outputs(&run.state.chips[0]);
//! assert_eq!(logits.len(), 4);
//! assert_eq!(logits[0].len(), 10);
//! ```

pub mod alloc;
pub mod decode;
pub mod lower;
pub mod model;
pub mod npy;
pub mod schedule;
pub mod synthetic;

use golden::ChipState;
use isa::ops::{Ctl, CtlFunc, MAX_DELAY};
use isa::{Addr, Chunk, HwConfig, Instr, MemImage, Op, Program, Region, Rows};

pub use model::{FeatureGraph, Model, ModelError};
pub use schedule::Schedule;

/// `docs/numerics.md`: its examples run as doctests of this crate (which sees both the golden
/// model's arithmetic and the compiler), so the page cannot drift from the code.
#[cfg(doctest)]
#[doc = include_str!("../../docs/numerics.md")]
pub struct NumericsDoc;

/// Why a model could not be compiled for a config.
#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error("the model does not fit the chip: {0}")]
    DoesNotFit(String),
    #[error("layer {layer}, channel {channel}: {problem}")]
    Numerics {
        layer: String,
        channel: usize,
        problem: String,
    },
    #[error("{0}")]
    Unsupported(String),
    #[error("{0}")]
    Input(String),
    #[error("compiler bug: {0}")]
    Internal(String),
}

/// Where an activation tensor lives. The batch is cut into chunks of `chunk` samples; block
/// `j * chunks + h` holds feature tile `j` of chunk `h`, one row per sample, lane `x` of the
/// tile being feature `j * N + x`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TensorLayout {
    pub features: usize,
    pub chunk: u32,
    pub chunks: u32,
    pub blocks: Vec<Addr>,
}

impl TensorLayout {
    /// Where feature `f` of sample `s` lives: `(block index, row in the block, lane)`.
    pub fn position(&self, s: usize, f: usize, lanes: usize) -> (usize, usize, usize) {
        let (h, row) = (s / self.chunk as usize, s % self.chunk as usize);
        ((f / lanes) * self.chunks as usize + h, row, f % lanes)
    }

    /// The SRAM row and lane of feature `f` of sample `s`.
    pub fn locate(&self, s: usize, f: usize, lanes: usize) -> (Addr, usize) {
        let (b, row, lane) = self.position(s, f, lanes);
        let block = self.blocks[b];
        (Addr::sram(block.bank, block.row + row as u32), lane)
    }
}

/// A compiled program for one batch size, on one chip or split over a system's chips (see
/// [`lower`]): the inputs go to every chip, the outputs are chip 0's.
#[derive(Clone, Debug)]
pub struct Compiled {
    pub cfg: HwConfig,
    pub batch: u32,
    pub program: Program,
    /// Each chip's schedule.
    pub schedules: Vec<Schedule>,
    /// Weights and requantization entries (no inputs).
    pub weights: MemImage,
    pub input: TensorLayout,
    pub output: TensorLayout,
    /// Multiply-accumulates the model needs for the batch (padding excluded).
    pub useful_macs: u64,
}

impl Compiled {
    /// Cycles the program runs (the slowest chip's), as scheduled and as the verifier computed it.
    pub fn cycles(&self) -> u64 {
        schedule::system_cycles(&self.schedules)
    }

    /// The matrix units' utilization over the program: useful multiply-accumulates over what
    /// every chip's array could do in its cycles.
    pub fn utilization(&self) -> f64 {
        array_utilization(self.cfg.chip.n, self.useful_macs, self.cycles())
            / self.cfg.system.chips as f64
    }

    /// Cycles in which `unit` is busy, summed over the chips.
    pub fn busy(&self, unit: isa::Unit) -> u64 {
        self.schedules.iter().map(|s| s.busy(unit)).sum()
    }

    /// The program's memory image with `inputs` (quantized samples, at most `batch`) loaded;
    /// missing samples are zero.
    pub fn image(&self, inputs: &[Vec<i8>]) -> Result<MemImage, CompileError> {
        let lanes = self.cfg.lanes();
        if inputs.len() > self.batch as usize {
            return Err(CompileError::Input(format!(
                "{} samples given for a program compiled for a batch of {}",
                inputs.len(),
                self.batch
            )));
        }
        if let Some((s, x)) = inputs
            .iter()
            .enumerate()
            .find(|(_, x)| x.len() != self.input.features)
        {
            return Err(CompileError::Input(format!(
                "sample {s} has {} features, the model takes {}",
                x.len(),
                self.input.features
            )));
        }
        let layout = &self.input;
        let mut blocks = vec![vec![0i8; layout.chunk as usize * lanes]; layout.blocks.len()];
        for (s, x) in inputs.iter().enumerate() {
            for (f, v) in x.iter().enumerate() {
                let (b, row, lane) = layout.position(s, f, lanes);
                blocks[b][row * lanes + lane] = *v;
            }
        }
        let mut image = self.weights.clone();
        for chip in 0..self.cfg.system.chips {
            for (at, rows) in layout.blocks.iter().zip(&blocks) {
                image.chunks.push(Chunk {
                    chip,
                    region: Region::Sram { bank: at.bank },
                    start: at.row,
                    rows: Rows::I8(rows.clone()),
                });
            }
        }
        Ok(image)
    }

    /// Runs the program on the golden model with `inputs` loaded; returns the memory image it
    /// started from (to run the RTL on the same) and the run. The run's cycle count is the
    /// predicted one.
    pub fn run_golden(&self, inputs: &[Vec<i8>]) -> Result<(MemImage, golden::Run), CompileError> {
        let image = self.image(inputs)?;
        let bug = |e: String| CompileError::Internal(format!("the compiled program: {e}"));
        let state =
            golden::SystemState::from_image(&self.cfg, &image).map_err(|e| bug(e.to_string()))?;
        let run =
            golden::run(&self.program, &self.cfg, state, None).map_err(|e| bug(e.to_string()))?;
        if run.cycles() != self.cycles() {
            return Err(bug(format!(
                "ran {} cycles on the golden model, {} predicted",
                run.cycles(),
                self.cycles()
            )));
        }
        Ok((image, run))
    }

    /// Each sample's int8 outputs from chip 0's final state.
    pub fn outputs(&self, chip: &ChipState) -> Vec<Vec<i8>> {
        let lanes = self.cfg.lanes();
        (0..self.batch as usize)
            .map(|s| {
                (0..self.output.features)
                    .map(|f| {
                        let (addr, lane) = self.output.locate(s, f, lanes);
                        chip.sram[[addr.bank as usize, addr.row as usize, lane]]
                    })
                    .collect()
            })
            .collect()
    }
}

/// A model lowered, placed and materialized: `(chip, op)` in logical order.
struct Planned<'m> {
    graph: FeatureGraph<'m>,
    lowered: lower::Lowered,
    placement: alloc::Placement,
    ops: Vec<(u32, Op)>,
}

/// Lowers, places and materializes `model` for `batch` samples, refusing whatever cannot fit
/// `cfg` before the (costlier) schedule: the checks [`compile`] and [`max_batch`] share.
fn plan<'m>(model: &'m Model, cfg: &HwConfig, batch: u32) -> Result<Planned<'m>, CompileError> {
    model.validate()?;
    if batch == 0 {
        return Err(CompileError::Input(
            "the batch must hold at least one sample".into(),
        ));
    }
    let graph = model.feature_graph().map_err(|why| {
        CompileError::Unsupported(format!("the compiler lowers feature models: {why}"))
    })?;
    let lowered = lower::lower(&graph, cfg, batch)?;
    let placement = alloc::allocate(&lowered.regions, &lowered.conflicts, cfg)?;
    let ops = lower::materialize(&lowered.steps, &placement);
    let busy: u64 = ops
        .iter()
        .map(|(_, op)| isa::timing::occupancy(op, cfg))
        .sum();
    if busy > golden::verify::MAX_BUSY_CYCLES {
        return Err(CompileError::DoesNotFit(format!(
            "verification: the program keeps units busy for {busy} cycles in all; the golden \
             verifier checks at most {}: use a smaller batch",
            golden::verify::MAX_BUSY_CYCLES
        )));
    }
    Ok(Planned {
        graph,
        lowered,
        placement,
        ops,
    })
}

/// Compiles `model` for batches of `batch` samples on `cfg`, split over its chips.
pub fn compile(model: &Model, cfg: &HwConfig, batch: u32) -> Result<Compiled, CompileError> {
    let Planned {
        graph,
        lowered,
        placement,
        ops,
    } = plan(model, cfg, batch)?;
    let (program, schedules) = schedule_program(&ops, cfg)?;
    let layout = |r: usize, features: usize| TensorLayout {
        features,
        chunk: lowered.chunk,
        chunks: batch.div_ceil(lowered.chunk),
        blocks: placement[r].clone(),
    };
    let last = *lowered.activations.last().expect("a model has layers");
    Ok(Compiled {
        cfg: cfg.clone(),
        batch,
        weights: weight_image(&lowered, &placement, cfg),
        input: layout(lowered.activations[0], graph.features),
        output: layout(last, model.outputs()),
        program,
        schedules,
        useful_macs: model.macs_per_sample() * batch as u64,
    })
}

/// Schedules a system's `ops` (`(chip, op)` in one logical order, [`schedule::schedule_system`])
/// and encodes a program a chip, refusing a chip's program its instruction memory cannot
/// hold; the golden verifier must accept the program and agree on its cycles (anything else
/// is a compiler bug, reported as one).
pub fn schedule_program(
    ops: &[(u32, Op)],
    cfg: &HwConfig,
) -> Result<(Program, Vec<Schedule>), CompileError> {
    let schedules = schedule::schedule_system(ops, cfg);
    let program = Program {
        chips: schedules.iter().map(|s| encode(s, cfg)).collect(),
    };
    for (chip, instrs) in program.chips.iter().enumerate() {
        if instrs.len() > cfg.chip.imem_depth as usize {
            return Err(CompileError::DoesNotFit(format!(
                "instruction memory: {} has {} instructions (waits included); the chip holds {}",
                of_chip(cfg.system.chips, chip, "program"),
                instrs.len(),
                cfg.chip.imem_depth
            )));
        }
    }
    let timeline = golden::verify(&program, cfg).map_err(|violations| {
        CompileError::Internal(format!(
            "the verifier refused the schedule ({} violation(s)); first: {}",
            violations.len(),
            violations[0]
        ))
    })?;
    let cycles = schedule::system_cycles(&schedules);
    if timeline.cycles() != cycles {
        return Err(CompileError::Internal(format!(
            "the schedule predicts {cycles} cycles, the verifier {}",
            timeline.cycles()
        )));
    }
    Ok((program, schedules))
}

/// `what` of chip `chip` in a system of `chips`, or of the one chip: "chip 1's program", "the
/// program".
pub(crate) fn of_chip(chips: u32, chip: usize, what: &str) -> String {
    if chips > 1 {
        format!("chip {chip}'s {what}")
    } else {
        format!("the {what}")
    }
}

/// The largest batch (up to `limit`) that fits `cfg`, or why not even one sample does.
pub fn max_batch(model: &Model, cfg: &HwConfig, limit: u32) -> Result<u32, CompileError> {
    let fits = |batch: u32| plan(model, cfg, batch).map(|_| ());
    fits(1)?;
    let (mut lo, mut hi) = (1u32, limit.max(1));
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if fits(mid).is_ok() {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    Ok(lo)
}

/// Useful multiply-accumulates over what an `n x n` array could do in `cycles`.
pub fn array_utilization(n: u32, useful_macs: u64, cycles: u64) -> f64 {
    useful_macs as f64 / ((n as u64).pow(2) * cycles.max(1)) as f64
}

/// Cycles an `M x K` by `K x Nout` product needs at best on an `n x n` array: one input vector
/// per cycle through each weight tile.
pub fn ideal_product_cycles(n: u32, m: u64, k: u64, nout: u64) -> u64 {
    m * k.div_ceil(n as u64) * nout.div_ceil(n as u64)
}

/// The image of everything but the inputs: weight tiles, requantization entries and lookup
/// tables.
fn weight_image(
    lowered: &lower::Lowered,
    placement: &alloc::Placement,
    cfg: &HwConfig,
) -> MemImage {
    let mut chunks = Vec::new();
    for (region, tiles) in &lowered.weight_tiles {
        for (chip, block, rows) in tiles {
            let at = placement[*region][*block as usize];
            chunks.push(Chunk {
                chip: *chip,
                region: Region::Sram { bank: at.bank },
                start: at.row,
                rows: Rows::I8(rows.clone()),
            });
        }
    }
    // A chip with no output tile (a system larger than a model's widest layer) holds none.
    for (chip, params) in lowered
        .params
        .iter()
        .enumerate()
        .filter(|(_, p)| !p.is_empty())
    {
        debug_assert!(params.iter().all(|p| p.check(cfg.lanes()).is_ok()));
        chunks.push(Chunk {
            chip: chip as u32,
            region: Region::Params,
            start: 0,
            rows: Rows::Params(params.clone()),
        });
    }
    chunks.extend(lowered.tables.iter().enumerate().map(|(t, entries)| Chunk {
        chip: 0,
        region: Region::Lut { table: t as u32 },
        start: 0,
        rows: Rows::I32(entries.clone()),
    }));
    MemImage { chunks }
}

/// One chip's program of its schedule: each slot's delay from the one before, with
/// `ctl.nop`s bridging waits longer than one delay field holds, none closer to the next
/// instruction than the issue interval allows.
fn encode(schedule: &Schedule, cfg: &HwConfig) -> Vec<Instr> {
    let interval = isa::timing::issue_interval(cfg);
    let mut instrs = Vec::with_capacity(schedule.slots.len());
    let mut last = 0u64;
    for slot in &schedule.slots {
        let mut wait = slot.issue - last;
        while wait > MAX_DELAY as u64 {
            let step = (MAX_DELAY as u64).min(wait - interval);
            instrs.push(Instr {
                delay: step as u32,
                op: Op::Ctl(Ctl { func: CtlFunc::Nop }),
            });
            wait -= step;
        }
        instrs.push(Instr {
            delay: wait as u32,
            op: slot.op,
        });
        last = slot.issue;
    }
    instrs
}

#[cfg(test)]
mod tests {
    use super::*;
    use schedule::Slot;

    #[test]
    fn long_waits_are_bridged_with_nops_and_keep_every_issue_cycle() {
        let nop = Op::Ctl(Ctl { func: CtlFunc::Nop });
        let halt = Op::Ctl(Ctl {
            func: CtlFunc::Halt,
        });
        let slot = |op, issue| Slot {
            op,
            issue,
            unit: isa::Unit::Sequencer,
            occupancy: 1,
        };
        let wait = 2 * MAX_DELAY as u64 + 7;
        let schedule = Schedule {
            slots: vec![slot(nop, 3), slot(halt, 3 + wait)],
        };
        let program = Program::single(encode(&schedule, &HwConfig::preset("tiny").unwrap()));
        let delays: Vec<u32> = program.chips[0].iter().map(|i| i.delay).collect();
        assert_eq!(delays, [3, MAX_DELAY, MAX_DELAY, 7]);
        assert!(program.chips[0][3].op.is_halt());
        assert_eq!(golden::cycles_from_delays(&program), schedule.cycles());
    }

    #[test]
    fn a_bridging_nop_leaves_the_next_instruction_its_issue_interval() {
        let slot = |func, issue| Slot {
            op: Op::Ctl(Ctl { func }),
            issue,
            unit: isa::Unit::Sequencer,
            occupancy: 1,
        };
        // One cycle past what a delay holds: a nop at MAX_DELAY would leave the halt 1.
        let wait = MAX_DELAY as u64 + 1;
        let schedule = Schedule {
            slots: vec![slot(CtlFunc::Nop, 2), slot(CtlFunc::Halt, 2 + wait)],
        };
        let cfg = HwConfig::preset("up5k").unwrap();
        assert_eq!(isa::timing::issue_interval(&cfg), 2);
        let program = Program::single(encode(&schedule, &cfg));
        let delays: Vec<u32> = program.chips[0].iter().map(|i| i.delay).collect();
        assert_eq!(delays, [2, MAX_DELAY - 1, 2]);
        assert_eq!(golden::cycles_from_delays(&program), schedule.cycles());
    }

    #[test]
    fn run_golden_refuses_a_run_whose_cycles_differ_from_the_prediction() {
        let model = crate::synthetic::random_stack(3, &[6, 5]);
        let cfg = HwConfig::preset("tiny").unwrap();
        let compiled = compile(&model, &cfg, 2).unwrap();
        let inputs = crate::synthetic::random_inputs(3, &model, 2);
        compiled.run_golden(&inputs).unwrap();
        // The same program with a schedule that predicts one cycle more.
        let mut wrong = compiled.clone();
        wrong.schedules[0].slots.last_mut().unwrap().issue += 1;
        let err = wrong.run_golden(&inputs).unwrap_err().to_string();
        assert!(
            err.starts_with("compiler bug: the compiled program: ran")
                && err.ends_with(&format!("{} predicted", compiled.cycles() + 1)),
            "{err}"
        );
    }
}
