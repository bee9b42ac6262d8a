//! Lowering: a feature model -> SRAM regions, weight tiles, requantization parameters, lookup
//! tables and a logical list of `LDW`, `MMA`, `RQ`, `LUT` and `VOP` steps.
//!
//! A table layer (`logistic`, `tanh`) is one `LUT` a block of its input into the same block of
//! its output. An elementwise layer (`quantized_add`, `quantized_mul`) is, a block, two `LUT`s
//! into two accumulator banks (each input's int32 term, [`crate::model::Elementwise::recipe`]),
//! a `VOP` of the two and an `RQ`.
//!
//! Fully-connected layer `l` computes `Y (M x O) = X (M x K) W^T` over the `N x N` array:
//! - activations are stored as k-tiles, cut into chunks of the batch: block `(j, h)` of a
//!   tensor holds one row per sample of chunk `h`, lane `x` being feature `j * N + x`;
//! - the weights are `ceil(K/N) x ceil(O/N)` tiles of `N` rows, tile `(j, c)` row `r` lane `x`
//!   holding `W[c*N + x][j*N + r]`; padding is zero, so padded input lanes never matter;
//! - output tile `c` accumulates `MMA`s over the k-tiles `j` into one accumulator bank, and one
//!   `RQ` turns it into block `c` of the next activation tensor (the next layer's k-tile `c`).
//!
//! A batch runs in chunks of at most `acc_depth` samples (one accumulator bank's rows); each
//! chunk goes through every layer, and blocks of one chunk fit in any bank with room.
//! The input zero point is folded into the bias, so the array only multiplies raw int8 values:
//! `sum_k (x_k - zp) w_k + b = sum_k x_k w_k + (b - zp * sum_k w_k)`.
//!
//! On a system of `C` chips every layer is split by output tiles (tensor parallelism): chip
//! `c mod C` holds output tile `c`'s weights and requantization entry and computes it, then
//! sends the block with `XFER` to every chip that computes the next layer (the last layer's to
//! chip 0, which holds the outputs). Every chip lays out its SRAM alike: each activation tensor
//! whole (the blocks it computes and the blocks it receives at the same addresses), and its own
//! share of each layer's weight tiles. Each chip starts with `ctl.sync`.

use golden::numerics::quantize_multiplier;
use isa::ops::{Ctl, CtlFunc, Ldw, Lut, Mma, Rq, Vop, VopFunc, Xfer};
use isa::{Addr, HwConfig, Op, Opcode, ParamEntry};

use crate::alloc::{Placement, Region};
use crate::model::{BinaryOp, Dense, FeatureGraph, Layer, Quant, Source};
use crate::CompileError;

/// The largest requantization multiplier the compiler accepts (exclusive).
const MAX_MULTIPLIER: f64 = (1u64 << 29) as f64;

/// A block of a region: `(region, block)`.
pub type BlockRef = (usize, u32);

/// One op before addresses are known.
#[derive(Clone, Copy, Debug)]
pub enum Step {
    /// `ctl.sync`: a barrier across the system, so that the schedule holds on chips that
    /// do not leave reset in the same cycle (it costs `1 + diameter x link latency` cycles).
    Sync,
    /// Load weight tile `tile` into the shadow buffer.
    Load { tile: BlockRef },
    /// Stream the first `count` rows of activation block `input` through the array into rows
    /// `0..count` of accumulator bank `acc`.
    Multiply {
        input: BlockRef,
        count: u32,
        acc: u32,
        accumulate: bool,
    },
    /// Requantize rows `0..count` of accumulator bank `acc` into the first `count` rows of
    /// activation block `output`.
    Requantize {
        acc: u32,
        output: BlockRef,
        count: u32,
        param: u32,
    },
    /// Look up the first `count` rows of activation block `input` in table `table`.
    Lookup {
        input: BlockRef,
        count: u32,
        table: u32,
        output: LookupTo,
    },
    /// `func` of rows `0..count` of accumulator banks `accs[0]` and `accs[1]`, into the first.
    Combine {
        func: VopFunc,
        accs: [u32; 2],
        count: u32,
    },
    /// Copy the first `count` rows of activation block `block` to the same block on chip `to`.
    Send {
        block: BlockRef,
        count: u32,
        to: u32,
    },
}

/// Where a lookup writes: int8 rows of an activation block, or int32 rows `0..count` of an
/// accumulator bank.
#[derive(Clone, Copy, Debug)]
pub enum LookupTo {
    Block(BlockRef),
    Acc(u32),
}

/// A weight tile's contents and where it goes: `(chip, block of its region, N x N int8
/// row-major)`.
pub type WeightTile = (u32, u32, Vec<i8>);

/// What lowering produces.
pub struct Lowered {
    pub regions: Vec<Region>,
    /// Pairs of regions streamed in the same layer.
    pub conflicts: Vec<(usize, usize)>,
    /// Each weight region's tiles, chip by chip.
    pub weight_tiles: Vec<(usize, Vec<WeightTile>)>,
    /// Each chip's requantization entries.
    pub params: Vec<Vec<ParamEntry>>,
    /// Lookup tables (on chip 0: only one-chip programs have them), 256 entries each.
    pub tables: Vec<Vec<i32>>,
    /// `(chip, step)` in logical order.
    pub steps: Vec<(u32, Step)>,
    /// The activation regions: the input first, the output last.
    pub activations: Vec<usize>,
    /// Samples per chunk (the last may hold fewer).
    pub chunk: u32,
}

pub(crate) fn tiles(width: usize, n: usize) -> u32 {
    width.div_ceil(n) as u32
}

/// How a system of `chips` chips shares a layer of `outputs` output tiles: tile `c` is chip
/// `c mod chips`'s, at its `c / chips`-th place.
#[derive(Clone, Copy, Debug)]
struct Split {
    chips: u32,
}

impl Split {
    fn owner(self, tile: u32) -> u32 {
        tile % self.chips
    }
    fn slot(self, tile: u32) -> u32 {
        tile / self.chips
    }
    /// The most output tiles any chip computes.
    fn share(self, tiles: u32) -> u32 {
        tiles.div_ceil(self.chips)
    }
    /// The chips that compute any of `tiles` output tiles.
    fn workers(self, tiles: u32) -> u32 {
        tiles.min(self.chips)
    }
}

/// The index of tensor `s` among the activation regions: the input's first, then each
/// layer's output.
fn tensor_index(s: Source) -> usize {
    match s {
        Source::Input => 0,
        Source::Layer(l) => l + 1,
    }
}

/// Lowers `model` for a batch of `batch` samples (at least one) on `cfg`'s system, split over
/// its chips (a stack of fully-connected layers; any other graph runs on one chip). Sizes that
/// cannot fit a chip are refused before anything is built.
pub fn lower(model: &FeatureGraph, cfg: &HwConfig, batch: u32) -> Result<Lowered, CompileError> {
    let n = cfg.lanes();
    let split = Split {
        chips: cfg.system.chips,
    };
    if split.chips > 1 && !model.is_stack() {
        return Err(CompileError::Unsupported(
            "a system of chips splits stacks of fully-connected layers, each reading the one \
             before; this model has other layers: compile it for one chip"
                .into(),
        ));
    }
    let chunk = batch.min(cfg.chip.acc_depth).min(isa::ops::MAX_COUNT);
    if chunk > cfg.chip.sram_depth {
        return Err(CompileError::DoesNotFit(format!(
            "SRAM: an activation block holds one row per sample of a chunk of {chunk}, more \
             than a bank's {} rows",
            cfg.chip.sram_depth
        )));
    }
    let chunks = batch.div_ceil(chunk);
    let mut regions = Vec::new();
    let mut conflicts = Vec::new();
    let mut weight_tiles = Vec::new();
    let mut params = vec![Vec::new(); split.chips as usize];
    let mut tables = Tables::default();
    // Activation blocks are (k-tile, chunk) pairs, numbered k-tile-major.
    regions.push(Region {
        name: "input".into(),
        blocks: tiles(model.features, n) * chunks,
        block_rows: chunk,
    });
    let mut activations = vec![0];
    // Per layer, what its steps need besides its tensors.
    let mut plans = Vec::with_capacity(model.layers.len());
    for (l, layer) in model.layers.iter().enumerate() {
        let width = model.width(Source::Layer(l));
        let reads: Vec<usize> = layer
            .sources()
            .into_iter()
            .map(|s| activations[tensor_index(s)])
            .collect();
        // A dense layer's weights region before its output's: the order the allocator
        // places them in, as it did for stacks before other layers existed.
        let weights = match layer {
            Layer::Dense(dense) => {
                regions.push(Region {
                    name: format!("{} weights", dense.name),
                    blocks: tiles(dense.inputs, n) * split.share(tiles(dense.outputs, n)),
                    block_rows: n as u32,
                });
                conflicts.push((reads[0], regions.len() - 1));
                Some(regions.len() - 1)
            }
            _ => None,
        };
        let output = regions.len();
        regions.push(Region {
            name: format!("{} output", layer.name()),
            blocks: tiles(width, n) * chunks,
            block_rows: chunk,
        });
        activations.push(output);
        for (i, a) in reads.iter().enumerate() {
            conflicts.push((*a, output));
            conflicts.extend(reads[..i].iter().filter(|b| *b != a).map(|b| (*b, *a)));
        }
        if let Some(w) = weights {
            conflicts.push((w, output));
        }
        let plan = match layer {
            Layer::Dense(dense) => {
                let k_tiles = tiles(dense.inputs, n);
                let w = weights.expect("a dense layer's weights region");
                let placed = self::weight_tiles(&dense.weights, dense.inputs, dense.outputs, n)
                    .into_iter()
                    .enumerate()
                    .map(|(t, tile)| {
                        let (c, j) = (t as u32 / k_tiles, t as u32 % k_tiles);
                        (split.owner(c), split.slot(c) * k_tiles + j, tile)
                    })
                    .collect();
                weight_tiles.push((w, placed));
                let first_param = params.iter().map(|p| p.len() as u32).collect();
                let input = model.quant(dense.input);
                for (c, entry) in layer_params(dense, input, n)?.into_iter().enumerate() {
                    params[split.owner(c as u32) as usize].push(entry);
                }
                Plan::Dense {
                    weights: w,
                    first_param,
                }
            }
            Layer::Table(t) => Plan::Table(
                tables.add(
                    t.entries(model.quant(t.input))
                        .into_iter()
                        .map(i32::from)
                        .collect(),
                ),
            ),
            Layer::Elementwise(e) => {
                if let Some(missing) = cfg.missing_unit(Opcode::Vop) {
                    return Err(CompileError::DoesNotFit(format!(
                        "{} {} needs VOP: {missing}",
                        e.op.kind(),
                        e.name
                    )));
                }
                if cfg.chip.acc_banks < 2 {
                    return Err(CompileError::DoesNotFit(format!(
                        "accumulators: {} {} needs two accumulator banks; the chip has one",
                        e.op.kind(),
                        e.name
                    )));
                }
                let recipe = e.recipe(model.quant(e.inputs[0]), model.quant(e.inputs[1]));
                let (multiplier, shift) = rq_multiplier(recipe.real_multiplier, &e.name, 0)?;
                let (act_min, act_max) = e.activation.bounds(e.output);
                let mut entry = ParamEntry::zero(n);
                entry.zero_point = e.output.zero_point;
                (entry.act_min, entry.act_max) = (act_min, act_max);
                entry.multiplier.fill(multiplier);
                entry.shift.fill(shift as i8);
                params[0].push(entry);
                let [a, b] = recipe.widen;
                Plan::Elementwise {
                    tables: [tables.add(a), tables.add(b)],
                    combine: match e.op {
                        BinaryOp::Add => VopFunc::Add,
                        BinaryOp::Mul => VopFunc::Mul,
                    },
                    param: params[0].len() as u32 - 1,
                }
            }
            other => {
                return Err(CompileError::Internal(format!(
                    "{} layer {} in a feature model",
                    other.kind(),
                    other.name()
                )))
            }
        };
        plans.push(plan);
    }
    if let Some((chip, p)) = params
        .iter()
        .enumerate()
        .find(|(_, p)| p.len() > cfg.chip.param_depth as usize)
    {
        let whose = if split.chips > 1 {
            format!("chip {chip} needs")
        } else {
            "the model needs".to_string()
        };
        return Err(CompileError::DoesNotFit(format!(
            "parameters: {whose} {} requantization entries (one per layer and output tile, \
             and per elementwise layer); the chip holds {}",
            p.len(),
            cfg.chip.param_depth
        )));
    }
    if let (false, Some(missing)) = (tables.entries.is_empty(), cfg.missing_unit(Opcode::Lut)) {
        return Err(CompileError::DoesNotFit(format!(
            "the model's table and elementwise layers need LUT: {missing}"
        )));
    }
    if tables.entries.len() > cfg.chip.lut_tables as usize {
        return Err(CompileError::DoesNotFit(format!(
            "lookup tables: the model needs {} (one a table layer, two an elementwise one, \
             alike ones shared); the chip holds {}",
            tables.entries.len(),
            cfg.chip.lut_tables
        )));
    }
    let mut acc_turn = vec![0u32; split.chips as usize];
    // The steps of chunk `h`: every chunk has as many, so the first tells whether the
    // instruction memories hold them all before the rest are made. Making stops once there
    // are more than `limit` (a layer of millions of tiles is refused before it is built).
    let mut chunk_steps = |h: u32, limit: usize| {
        let mut steps = Vec::new();
        let count = chunk.min(batch - h * chunk);
        for (l, (layer, plan)) in model.layers.iter().zip(&plans).enumerate() {
            if steps.len() > limit {
                break;
            }
            let output = activations[l + 1];
            let block_of = |s: Source, j: u32| (activations[tensor_index(s)], j * chunks + h);
            let mut next_acc = |chip: u32| {
                let turn = &mut acc_turn[chip as usize];
                *turn += 1;
                (*turn - 1) % cfg.chip.acc_banks
            };
            match (layer, plan) {
                (
                    Layer::Dense(dense),
                    Plan::Dense {
                        weights,
                        first_param,
                    },
                ) => {
                    let (k_tiles, c_tiles) = (tiles(dense.inputs, n), tiles(dense.outputs, n));
                    // Who reads this layer's output: the next layer's chips, or chip 0.
                    let readers = match model.layers.get(l + 1) {
                        Some(Layer::Dense(next)) => split.workers(tiles(next.outputs, n)),
                        _ => 1,
                    };
                    for c in 0..c_tiles {
                        if steps.len() > limit {
                            break;
                        }
                        let chip = split.owner(c);
                        let acc = next_acc(chip);
                        let first = split.slot(c) * k_tiles;
                        for j in 0..k_tiles {
                            steps.push((
                                chip,
                                Step::Load {
                                    tile: (*weights, first + j),
                                },
                            ));
                            steps.push((
                                chip,
                                Step::Multiply {
                                    input: block_of(dense.input, j),
                                    count,
                                    acc,
                                    accumulate: j > 0,
                                },
                            ));
                        }
                        let block = (output, c * chunks + h);
                        steps.push((
                            chip,
                            Step::Requantize {
                                acc,
                                output: block,
                                count,
                                param: first_param[chip as usize] + split.slot(c),
                            },
                        ));
                        steps.extend(
                            (0..readers)
                                .filter(|&to| to != chip)
                                .map(|to| (chip, Step::Send { block, count, to })),
                        );
                    }
                }
                (Layer::Table(t), Plan::Table(table)) => {
                    for j in 0..tiles(model.width(t.input), n) {
                        if steps.len() > limit {
                            break;
                        }
                        steps.push((
                            0,
                            Step::Lookup {
                                input: block_of(t.input, j),
                                count,
                                table: *table,
                                output: LookupTo::Block((output, j * chunks + h)),
                            },
                        ));
                    }
                }
                (
                    Layer::Elementwise(e),
                    Plan::Elementwise {
                        tables,
                        combine,
                        param,
                    },
                ) => {
                    for j in 0..tiles(model.width(e.inputs[0]), n) {
                        if steps.len() > limit {
                            break;
                        }
                        let accs = [next_acc(0), next_acc(0)];
                        for i in 0..2 {
                            steps.push((
                                0,
                                Step::Lookup {
                                    input: block_of(e.inputs[i], j),
                                    count,
                                    table: tables[i],
                                    output: LookupTo::Acc(accs[i]),
                                },
                            ));
                        }
                        steps.push((
                            0,
                            Step::Combine {
                                func: *combine,
                                accs,
                                count,
                            },
                        ));
                        steps.push((
                            0,
                            Step::Requantize {
                                acc: accs[0],
                                output: (output, j * chunks + h),
                                count,
                                param: *param,
                            },
                        ));
                    }
                }
                _ => unreachable!("a plan for each layer of its kind"),
            }
        }
        steps
    };
    // More steps than this puts more than a memory's instructions on some chip; the count
    // is exact up to 16 memories' worth.
    let limit = 16 * (cfg.chip.imem_depth as usize + 1) * split.chips as usize;
    let first = chunk_steps(0, limit);
    // One instruction a step, the sync and the halt; scheduling adds only `ctl.nop`s bridging
    // long waits.
    let mut per_chunk = vec![0u64; split.chips as usize];
    for (chip, _) in &first {
        per_chunk[*chip as usize] += 1;
    }
    let fixed = 1 + u64::from(split.chips > 1);
    let (chip, most) = per_chunk
        .iter()
        .map(|per| fixed + chunks as u64 * per)
        .enumerate()
        .max_by_key(|&(chip, count)| (count, std::cmp::Reverse(chip)))
        .expect("a system has a chip");
    if most > cfg.chip.imem_depth as u64 {
        let at_least = if first.len() > limit { "at least " } else { "" };
        return Err(CompileError::DoesNotFit(format!(
            "instruction memory: {} has {at_least}{most} instructions; the chip holds {}",
            crate::of_chip(split.chips, chip, "program"),
            cfg.chip.imem_depth
        )));
    }
    let mut steps = Vec::new();
    if split.chips > 1 {
        steps.extend((0..split.chips).map(|chip| (chip, Step::Sync)));
    }
    steps.extend(first);
    for h in 1..chunks {
        steps.extend(chunk_steps(h, usize::MAX));
    }
    Ok(Lowered {
        regions,
        conflicts,
        weight_tiles,
        params,
        tables: tables.entries,
        steps,
        activations,
        chunk,
    })
}

/// What a layer's steps use besides its tensors.
enum Plan {
    Dense {
        weights: usize,
        /// Each chip's first requantization entry of the layer.
        first_param: Vec<u32>,
    },
    Table(u32),
    Elementwise {
        tables: [u32; 2],
        combine: VopFunc,
        param: u32,
    },
}

/// The lookup tables of a program, each once.
#[derive(Default)]
struct Tables {
    entries: Vec<Vec<i32>>,
}

impl Tables {
    /// The index of a table with `entries`, added if no table has them yet.
    fn add(&mut self, entries: Vec<i32>) -> u32 {
        let index = match self.entries.iter().position(|t| *t == entries) {
            Some(i) => i,
            None => {
                self.entries.push(entries);
                self.entries.len() - 1
            }
        };
        index as u32
    }
}

/// The `N x N` tiles of an `[outputs][inputs]` row-major weight matrix, output tile by output
/// tile, k-tile by k-tile: tile `(j, c)` row `r` lane `x` holds `W[c*N + x][j*N + r]`, zero
/// past the matrix's edges.
pub(crate) fn weight_tiles(
    weights: &[i8],
    inputs: usize,
    outputs: usize,
    n: usize,
) -> Vec<Vec<i8>> {
    let (k_tiles, c_tiles) = (tiles(inputs, n) as usize, tiles(outputs, n) as usize);
    let mut out = Vec::with_capacity(k_tiles * c_tiles);
    for c in 0..c_tiles {
        for j in 0..k_tiles {
            let mut tile = vec![0i8; n * n];
            for r in 0..n {
                for x in 0..n {
                    let (out_ch, in_ch) = (c * n + x, j * n + r);
                    if out_ch < outputs && in_ch < inputs {
                        tile[r * n + x] = weights[out_ch * inputs + in_ch];
                    }
                }
            }
            out.push(tile);
        }
    }
    out
}

/// One requantization entry per output tile: folded bias, per-channel multiplier and shift,
/// output zero point, and the clamp (ReLU clamps at the zero point).
pub(crate) fn layer_params(
    layer: &Dense,
    input: Quant,
    n: usize,
) -> Result<Vec<ParamEntry>, CompileError> {
    let mut entries = Vec::new();
    for c in 0..tiles(layer.outputs, n) as usize {
        let mut entry = ParamEntry::zero(n);
        entry.zero_point = layer.output.zero_point;
        (entry.act_min, entry.act_max) = layer.activation.bounds(layer.output);
        for x in 0..n {
            let ch = c * n + x;
            if ch >= layer.outputs {
                continue;
            }
            let weight_sum: i64 = (0..layer.inputs).map(|k| layer.weight(ch, k) as i64).sum();
            let folded = layer.bias[ch] as i64 - input.zero_point as i64 * weight_sum;
            entry.bias[x] = i32::try_from(folded).map_err(|_| CompileError::Numerics {
                layer: layer.name.clone(),
                channel: ch,
                problem: format!(
                    "the bias with the input zero point folded in ({folded}) does not fit int32"
                ),
            })?;
            let real = layer.multiplier(ch, input.scale);
            let (multiplier, shift) = rq_multiplier(real, &layer.name, ch)?;
            entry.multiplier[x] = multiplier;
            entry.shift[x] = shift as i8;
        }
        entries.push(entry);
    }
    Ok(entries)
}

/// `RQ`'s multiplier and shift for the real multiplier `real` of channel `channel` of
/// `layer`. RQ's shift field ends at 30, so the multiplier must stay below 2^30; a bound of
/// 2^29 keeps the rounding of `QuantizeMultiplier` from reaching it. (Below 2^-32 the
/// multiplier is 0, as in TFLite: the channel outputs its zero point.)
pub(crate) fn rq_multiplier(
    real: f64,
    layer: &str,
    channel: usize,
) -> Result<(i32, i32), CompileError> {
    if real >= MAX_MULTIPLIER {
        return Err(CompileError::Numerics {
            layer: layer.to_string(),
            channel,
            problem: format!(
                "the requantization multiplier {real:e} is not below 2^29, the most RQ applies"
            ),
        });
    }
    Ok(quantize_multiplier(real))
}

/// The ops of `steps` at the addresses of `placement`, each on its chip.
pub fn materialize(steps: &[(u32, Step)], placement: &Placement) -> Vec<(u32, Op)> {
    let at = |(region, block): BlockRef| placement[region][block as usize];
    steps
        .iter()
        .map(|&(chip, step)| {
            let op = match step {
                Step::Sync => Op::Ctl(Ctl {
                    func: CtlFunc::Sync,
                }),
                Step::Load { tile } => Op::Ldw(Ldw {
                    src: at(tile),
                    src_step: 1,
                }),
                Step::Multiply {
                    input,
                    count,
                    acc,
                    accumulate,
                } => Op::Mma(Mma {
                    src: at(input),
                    src_step: 1,
                    dst: Addr::acc(acc, 0),
                    dst_step: 1,
                    count,
                    swap: true,
                    accumulate,
                }),
                Step::Requantize {
                    acc,
                    output,
                    count,
                    param,
                } => Op::Rq(Rq {
                    src: Addr::acc(acc, 0),
                    src_step: 1,
                    dst: at(output),
                    dst_step: 1,
                    count,
                    param,
                }),
                Step::Lookup {
                    input,
                    count,
                    table,
                    output,
                } => Op::Lut(Lut {
                    src: at(input),
                    src_step: 1,
                    dst: match output {
                        LookupTo::Block(block) => at(block),
                        LookupTo::Acc(acc) => Addr::acc(acc, 0),
                    },
                    dst_step: 1,
                    count,
                    table,
                }),
                Step::Combine { func, accs, count } => Op::Vop(Vop {
                    func,
                    a: Addr::acc(accs[0], 0),
                    a_step: 1,
                    b: Addr::acc(accs[1], 0),
                    b_step: 1,
                    dst: Addr::acc(accs[0], 0),
                    dst_step: 1,
                    count,
                    imm: 0,
                }),
                Step::Send { block, count, to } => Op::Xfer(Xfer {
                    chip: to,
                    src: at(block),
                    src_step: 1,
                    dst: at(block),
                    dst_step: 1,
                    count,
                }),
            };
            (chip, op)
        })
        .collect()
}
