//! Lowering: a stack of fully-connected layers -> SRAM regions, weight tiles, requantization
//! parameters and a logical list of `LDW`, `MMA` and `RQ` steps.
//!
//! Layer `l` computes `Y (M x O) = X (M x K) W^T` over the `N x N` array:
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

use golden::numerics::quantize_multiplier;
use isa::ops::{Ldw, Mma, Rq};
use isa::{Addr, HwConfig, Op, ParamEntry};

use crate::alloc::{Placement, Region};
use crate::model::{Dense, DenseStack, Quant};
use crate::CompileError;

/// The largest requantization multiplier the compiler accepts (exclusive).
const MAX_MULTIPLIER: f64 = (1u64 << 29) as f64;

/// A block of a region: `(region, block)`.
pub type BlockRef = (usize, u32);

/// One op before addresses are known.
#[derive(Clone, Copy, Debug)]
pub enum Step {
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
}

/// What lowering produces.
pub struct Lowered {
    pub regions: Vec<Region>,
    /// Pairs of regions streamed in the same layer.
    pub conflicts: Vec<(usize, usize)>,
    /// Each weight region's tiles, `N x N` int8 row-major, by block.
    pub weight_tiles: Vec<(usize, Vec<Vec<i8>>)>,
    pub params: Vec<ParamEntry>,
    pub steps: Vec<Step>,
    /// The activation regions: the input first, the output last.
    pub activations: Vec<usize>,
    /// Samples per chunk (the last may hold fewer).
    pub chunk: u32,
}

pub(crate) fn tiles(width: usize, n: usize) -> u32 {
    width.div_ceil(n) as u32
}

/// Lowers `model` for a batch of `batch` samples (at least one) on `cfg`'s array. Sizes
/// that cannot fit the chip are refused before anything is built.
pub fn lower(model: &DenseStack, cfg: &HwConfig, batch: u32) -> Result<Lowered, CompileError> {
    let n = cfg.lanes();
    let chunk = batch.min(cfg.chip.acc_depth).min(isa::ops::MAX_COUNT);
    if chunk > cfg.chip.sram_depth {
        return Err(CompileError::DoesNotFit(format!(
            "SRAM: an activation block holds one row per sample of a chunk of {chunk}, more \
             than a bank's {} rows",
            cfg.chip.sram_depth
        )));
    }
    let chunks = batch.div_ceil(chunk);
    // Per chunk: an LDW and an MMA per weight tile, an RQ per output tile; then the halt.
    let per_chunk: u64 = model
        .dense()
        .map(|l| {
            let (k, c) = (tiles(l.inputs, n) as u64, tiles(l.outputs, n) as u64);
            2 * k * c + c
        })
        .sum();
    let instructions = chunks as u64 * per_chunk + 1;
    if instructions > cfg.chip.imem_depth as u64 {
        return Err(CompileError::DoesNotFit(format!(
            "instruction memory: the program has {instructions} instructions; the chip holds {}",
            cfg.chip.imem_depth
        )));
    }
    let mut regions = Vec::new();
    let mut conflicts = Vec::new();
    let mut weight_tiles = Vec::new();
    let mut params = Vec::new();
    let mut activations = vec![0];
    // Activation blocks are (k-tile, chunk) pairs, numbered k-tile-major.
    regions.push(Region {
        name: "input".into(),
        blocks: tiles(model.features, n) * chunks,
        block_rows: chunk,
    });
    let mut input_quant = model.input;
    let mut weight_regions = Vec::new();
    for layer in model.dense() {
        let (input, w, output) = (regions.len() - 1, regions.len(), regions.len() + 1);
        regions.push(Region {
            name: format!("{} weights", layer.name),
            blocks: tiles(layer.inputs, n) * tiles(layer.outputs, n),
            block_rows: n as u32,
        });
        regions.push(Region {
            name: format!("{} output", layer.name),
            blocks: tiles(layer.outputs, n) * chunks,
            block_rows: chunk,
        });
        conflicts.extend([(input, w), (input, output), (w, output)]);
        weight_tiles.push((
            w,
            self::weight_tiles(&layer.weights, layer.inputs, layer.outputs, n),
        ));
        weight_regions.push((w, params.len() as u32));
        params.extend(layer_params(layer, input_quant, n)?);
        activations.push(output);
        input_quant = layer.output;
    }
    if params.len() > cfg.chip.param_depth as usize {
        return Err(CompileError::DoesNotFit(format!(
            "parameters: the model needs {} requantization entries (one per layer and output \
             tile); the chip holds {}",
            params.len(),
            cfg.chip.param_depth
        )));
    }
    let mut steps = Vec::new();
    let mut acc_turn = 0u32;
    for h in 0..chunks {
        let count = chunk.min(batch - h * chunk);
        for (l, layer) in model.dense().enumerate() {
            let (input, output) = (activations[l], activations[l + 1]);
            let (w, param_base) = weight_regions[l];
            let k_tiles = tiles(layer.inputs, n);
            for c in 0..tiles(layer.outputs, n) {
                let acc = acc_turn % cfg.chip.acc_banks;
                acc_turn += 1;
                for j in 0..k_tiles {
                    steps.push(Step::Load {
                        tile: (w, c * k_tiles + j),
                    });
                    steps.push(Step::Multiply {
                        input: (input, j * chunks + h),
                        count,
                        acc,
                        accumulate: j > 0,
                    });
                }
                steps.push(Step::Requantize {
                    acc,
                    output: (output, c * chunks + h),
                    count,
                    param: param_base + c,
                });
            }
        }
    }
    Ok(Lowered {
        regions,
        conflicts,
        weight_tiles,
        params,
        steps,
        activations,
        chunk,
    })
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
        entry.act_min = if layer.relu {
            layer.output.zero_point
        } else {
            -128
        };
        entry.act_max = 127;
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
            let real =
                input.scale as f64 * layer.weight_scales[ch] as f64 / layer.output.scale as f64;
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

/// The ops of `steps` at the addresses of `placement`.
pub fn materialize(steps: &[Step], placement: &Placement) -> Vec<Op> {
    let at = |(region, block): BlockRef| placement[region][block as usize];
    steps
        .iter()
        .map(|step| match *step {
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
        })
        .collect()
}
