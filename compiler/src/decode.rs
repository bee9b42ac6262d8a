//! Decoding a token model (format 2) one position at a time, with a KV cache in SRAM.
//!
//! The ISA has no branches and static addresses, so each position has its own program
//! ([`Decoder::step`]): the program for position `p` reads the token's embedding row, which the
//! host writes to a fixed SRAM address before the step ([`Decoder::token_image`]), adds
//! position `p`'s row, runs every layer, writes row `p` of each attention's K and V into the
//! cache, attends over rows `0..=p` (whole tiles of `N` positions, the last one masked by a
//! mask row of the image) and leaves the int8 logits at a fixed address
//! ([`Decoder::logits`]). Everything else (weights, position rows, masks, tables,
//! requantization entries) is the image loaded once ([`Decoder::image`]); the cache stays in
//! SRAM between steps. The integer recipes are those of `docs/transformer.md`.
//!
//! Memory: the last two SRAM banks hold the small per-step tensors (the token's row, each
//! layer's int8 output, scratch), the others the weight tiles, position rows and the cache, so
//! that an `LDW` and the `MMA` it feeds read different banks. Accumulator rows hold the residual
//! stream and every int32 intermediate.
//!
//! The cache of attention `a`, per dimension tile `c` (`N` dimensions) of K and V:
//! - `V[c]`: row `t` holds position `t`'s dimensions; a tile of `N` rows is `MMA`'s weights
//!   for attention x V (rows are positions);
//! - `K[c]`: the same layout for K, written row by row, and `KT[c]`, its tiles transposed by
//!   `PERM` after each write, whose tiles are `MMA`'s weights for `q . k` (rows are
//!   dimensions, lanes positions).
//!
//! Over a system of `C` chips every chip has the same layout, and the work splits (tensor
//! parallelism, docs/transformer.md): head `h` is chip `h mod C`'s (its `q`, `k`, `v` tiles,
//! its cache, its softmax), and every other projection's output tile `c` is chip `c mod C`'s,
//! which holds its weight tiles. The residual stream is sharded the same way: chip `k` holds
//! (and adds) the stream's tiles `c = k mod C`, which the attention's and the MLP's output
//! projections write. What a chip needs whole it receives with `XFER`: a norm's int8 rows
//! (each chip requantizes its tiles and sends them; every chip then computes the norm's
//! statistics), the heads' contexts, the MLP's activations, and the logits (to chip 0). The
//! embedding, tables, entries and masks are on every chip.

use isa::config::OMITTABLE;
use isa::ops::{
    Ctl, CtlFunc, Ldw, Lut, Mma, Mov, Perm, PermFunc, Red, RedFunc, Rq, Vop, VopFunc, Xfer,
};
use isa::{Addr, Chunk, HwConfig, MemImage, Op, ParamEntry, Program, Region, Rows};

use crate::lower::{layer_params, rq_multiplier, tiles, weight_tiles};
use crate::model::{Attention, Input, Layer, Mlp, Model, Projection, Quant, Source, Vocabulary};
use crate::schedule::Schedule;
use crate::CompileError;

/// A compiled step: the program of one position, a program a chip.
pub struct Step {
    pub position: usize,
    pub program: Program,
    /// Each chip's schedule.
    pub schedules: Vec<Schedule>,
    /// Tiles the busiest chip loads into its array (`LDW`s): the model's weights and the
    /// cache's.
    pub loaded_tiles: u64,
}

impl Step {
    /// Cycles the step runs (the slowest chip's).
    pub fn cycles(&self) -> u64 {
        crate::schedule::system_cycles(&self.schedules)
    }
}

/// One attention's K and V rows, by position, as the chips hold them.
pub struct CachedKeysValues {
    pub keys: Vec<Vec<i8>>,
    pub values: Vec<Vec<i8>>,
}

/// A model's layout on a chip (each chip of a system alike), and the programs of its
/// positions.
pub struct Decoder {
    cfg: HwConfig,
    vocabulary: Vocabulary,
    /// The embedding table the host gathers rows from: `[vocab][width]`.
    tokens: Vec<i8>,
    width: usize,
    /// Where the host writes the token's row.
    token_at: Addr,
    /// Where each step leaves the logits, and how many.
    logits_at: Addr,
    vocab: usize,
    /// The logits' scale: real = q * scale (zero point 0).
    logit_scale: f32,
    plan: Vec<Planned>,
    temps: Temps,
    image: MemImage,
    /// Weight tiles of the model's projections (each step loads every one).
    pub weight_tiles: u64,
    /// Sequences decoded side by side.
    batch: usize,
    /// Positions each sequence steps through (the cache's length).
    positions: usize,
    /// Rows of one sequence's cache per dimension tile: `positions` rounded up to whole tiles.
    cache_rows: u32,
}

/// Positions a prompt of `prompt` tokens and `count` new ones take in a model whose context
/// is `context`, or why they cannot.
pub fn positions_needed(
    prompt: usize,
    count: usize,
    context: usize,
) -> Result<usize, CompileError> {
    if prompt == 0 || count == 0 {
        return Err(CompileError::Input(
            "the prompt must hold at least one character, and at least one token must be \
             generated"
                .into(),
        ));
    }
    let positions = prompt + count - 1;
    if positions > context {
        return Err(CompileError::Input(format!(
            "a prompt of {prompt} and {count} new tokens need {positions} positions; the \
             model's context holds {context}"
        )));
    }
    Ok(positions)
}

/// The most sequences a decoder takes at once.
pub const MAX_BATCH: usize = 64;

/// A weight matrix placed as tiles, with its first requantization entry.
#[derive(Clone)]
struct Placed {
    /// `tile[c * k_tiles + j]`.
    tiles: Vec<Addr>,
    k_tiles: u32,
    c_tiles: u32,
    param: u32,
    /// Set when the input is a norm's, folded into this projection.
    fold: Option<NormFold>,
    /// The chip that computes each output tile (and holds its weight tiles).
    owner: Vec<u32>,
}

/// Each layer's placement.
enum Planned {
    Embedding {
        out: Addr,
        positions: Addr,
        params: u32,
    },
    Norm {
        input: usize,
        out: Addr,
        params: u32,
        /// Its own factor and shift rows: live until its last reader, whatever norms run
        /// between.
        fold: NormFold,
    },
    Attention(Box<AttentionPlan>),
    Mlp {
        input: usize,
        w1: Placed,
        hidden: Addr,
        activated: Addr,
        table: u32,
        w2: Placed,
        out: Addr,
    },
    Add {
        inputs: Vec<usize>,
        out: Addr,
    },
    Dense {
        input: usize,
        w: Placed,
        out: Addr,
    },
}

struct AttentionPlan {
    input: usize,
    heads: usize,
    wq: Placed,
    wk: Placed,
    wv: Placed,
    wo: Placed,
    /// Per dimension tile: the first row of K (natural), its transpose, and V.
    k: Vec<Addr>,
    kt: Vec<Addr>,
    v: Vec<Addr>,
    q: Addr,
    context: Addr,
    scores_param: u32,
    context_param: u32,
    exp_table: u32,
    out: Addr,
}

/// Output tiles of projections' sums held at once: projections go round the ring one after
/// another ([`Emit::ring`]), a tile's group requantized long before the ring comes back to
/// its slot.
const SUMS_RING: u32 = 8;

/// Output tiles of a projection requantized together: a folded norm's factor and shift
/// apply to the group with one `VOP` each (instructions are scarce on `lm`). Divides
/// [`SUMS_RING`], so that a group's slots are consecutive.
const FOLD_GROUP: u32 = 4;

/// Sets of per-head intermediates in a batch.
const HEAD_SETS: usize = 2;

/// Intermediates every layer of a kind shares (the scheduler orders their reuse).
struct Temps {
    /// A projection's int32 sums: [`SUMS_RING`] output tiles, a row per sequence each.
    sums: Addr,
    /// The embedding's two rows widened, in different accumulator banks.
    embed: [Addr; 2],
    norm: NormTemps,
    /// Per head, in [`HEAD_SETS`] sets (sequence `s` uses set `s mod HEAD_SETS`, so that
    /// one sequence's softmax runs while the next one's scores stream): see [`HeadTemps`].
    heads: Vec<Vec<HeadTemps>>,
    /// A copy of a residual row in each accumulator bank, for adding two rows of one bank
    /// (a `VOP` reads its two operands in the same cycle, and a bank has one read port); only
    /// for models with such an add.
    bounce: Option<[Addr; 2]>,
    /// The mask rows: row `r` is 1 in lanes `0..=r`, 0 above.
    masks: Addr,
    recip_table: u32,
    /// The folded norm's factor table ([`NormFold`]).
    norm_table: u32,
}

/// The norm's intermediates, a row (or a vector's rows) per sequence. Accumulator bank A
/// holds `x_wide`, `half`, `shift` and `mantissa`; bank B `total`: every `VOP` reads its
/// operands from two banks. `spare` has rows in both for the sum's tree ([`Emit::reduce`]).
struct NormTemps {
    /// The int8 input widened, squared in place.
    x_wide: Addr,
    spare: [Addr; 2],
    total: Addr,
    half: Addr,
    shift: Addr,
    mantissa: Addr,
    /// The table's index (SRAM).
    index: Addr,
}

/// A norm folded into the projections that read it: they multiply the int32 sums `W x` of
/// the norm's int8 input `x` by the row `factor` (`F[i] = round(2^K / sqrt(i + 192.5))`) and shift
/// them right by the row `down` (`15 - h`) before requantizing. Both hold a row per sequence
/// for each tile of a fold group (`[tile][sequence]`, as the sums' ring), in bank B (the sums
/// are in bank A). See docs/transformer.md.
#[derive(Clone, Copy)]
struct NormFold {
    factor: Addr,
    down: Addr,
}

/// The folded norm's factor table's bits `K` for a model `width` wide: the most for which
/// `W x` times the table's largest entry stays in int32 (`|W x| <= width * 128 * 127`, the
/// largest entry `round(2^K / sqrt(64.5))`), or `None` below 8 bits.
pub fn norm_factor_bits(width: usize) -> Option<i32> {
    let bound = width as f64 * 128.0 * 127.0;
    (8..=30)
        .rev()
        .find(|&k| bound * (2f64.powi(k) / 64.5f64.sqrt()).round() <= i32::MAX as f64)
}

/// The grid of a folded norm's scaled sums, per unit of a weight's scale: `sqrt(width) x
/// 2^(4 - K)`, as `f32` like every scale.
pub fn norm_fold_unit(width: usize, bits: i32) -> f32 {
    ((width as f64).sqrt() * 2f64.powi(4 - bits)) as f32
}

/// A head's softmax intermediates. Bank A holds what the array writes (`scores`, one row per
/// position tile, and `context_sums`) and the single rows `total`, `recip` and `shift`; bank B
/// the rows the vector unit works on (`work`, the scores requantized and then their
/// exponentials) and `less_one`. `spare` has rows in both for the reductions' trees.
struct HeadTemps {
    scores: Addr,
    work: Addr,
    spare: [Addr; 2],
    total: Addr,
    less_one: Addr,
    recip: Addr,
    shift: Addr,
    /// SRAM: the exp table's inputs, the probabilities, the reciprocal table's index.
    exp_in: Addr,
    probs: Addr,
    index: Addr,
    context_sums: Addr,
}

/// Where a planned layer leaves its output.
fn plan_out(planned: &Planned) -> Addr {
    match planned {
        Planned::Embedding { out, .. }
        | Planned::Norm { out, .. }
        | Planned::Mlp { out, .. }
        | Planned::Add { out, .. }
        | Planned::Dense { out, .. } => *out,
        Planned::Attention(a) => a.out,
    }
}

/// Buffers that hold a layer's result until its last reader, then serve a later layer.
struct Reuse<T> {
    /// `(layer, buffer)` in use.
    held: Vec<(usize, T)>,
    free: Vec<T>,
}

impl<T: Copy> Reuse<T> {
    fn new() -> Self {
        Reuse {
            held: Vec::new(),
            free: Vec::new(),
        }
    }

    /// Frees the buffers of the layers `done` says no one reads any more.
    fn release(&mut self, done: impl Fn(usize) -> bool) {
        let (gone, kept): (Vec<_>, Vec<_>) = self.held.iter().partition(|(j, _)| done(*j));
        self.held = kept;
        self.free.extend(gone.into_iter().map(|(_, b)| b));
    }

    /// A buffer for layer `layer`: a free one that `suits`, or a new one from `make`.
    fn take(
        &mut self,
        layer: usize,
        suits: impl Fn(&T) -> bool,
        make: impl FnOnce() -> Result<T, CompileError>,
    ) -> Result<T, CompileError> {
        let buffer = match self.free.iter().position(suits) {
            Some(k) => self.free.swap_remove(k),
            None => make()?,
        };
        self.held.push((layer, buffer));
        Ok(buffer)
    }
}

/// Rows taken from each bank, first free row by bank.
struct Banks {
    next: Vec<u32>,
    depth: u32,
    what: &'static str,
}

impl Banks {
    fn new(banks: u32, depth: u32, what: &'static str) -> Self {
        Banks {
            next: vec![0; banks as usize],
            depth,
            what,
        }
    }

    /// `rows` consecutive rows in `bank`.
    fn take(
        &mut self,
        bank: u32,
        rows: u32,
        space: fn(u32, u32) -> Addr,
    ) -> Result<Addr, CompileError> {
        let next = &mut self.next[bank as usize];
        if *next + rows > self.depth {
            return Err(CompileError::DoesNotFit(format!(
                "{}: bank {bank} has {} of its {} rows free; {rows} more are needed",
                self.what,
                self.depth - *next,
                self.depth
            )));
        }
        let at = space(bank, *next);
        *next += rows;
        Ok(at)
    }

    /// `rows` consecutive rows in the emptiest of `banks`.
    fn take_any(
        &mut self,
        banks: impl Iterator<Item = u32>,
        rows: u32,
        space: fn(u32, u32) -> Addr,
    ) -> Result<Addr, CompileError> {
        let bank = banks
            .min_by_key(|b| (self.next[*b as usize], *b))
            .expect("at least one bank");
        self.take(bank, rows, space)
    }
}

/// One table of 256 entries: entry `e` for input `e - 128`.
fn table(f: impl Fn(i64) -> i64) -> Vec<i32> {
    (-128..=127).map(|i| f(i) as i32).collect()
}

/// Everything that goes into the image, as it is planned.
struct ImageBuilder {
    n: usize,
    /// SRAM rows: on one chip, or on every chip (`None`).
    chunks: Vec<(Option<u32>, Chunk)>,
    params: Vec<ParamEntry>,
    tables: Vec<Vec<i32>>,
}

impl ImageBuilder {
    /// Rows every chip holds.
    fn sram(&mut self, at: Addr, rows: Vec<i8>) {
        self.sram_on(None, at, rows);
    }

    fn sram_on(&mut self, chip: Option<u32>, at: Addr, rows: Vec<i8>) {
        let chunk = Chunk {
            chip: 0,
            region: Region::Sram { bank: at.bank },
            start: at.row,
            rows: Rows::I8(rows),
        };
        self.chunks.push((chip, chunk));
    }

    /// The image of a system of `chips`: the tables and entries on every chip, like the rows
    /// not given to one.
    fn finish(self, chips: u32) -> MemImage {
        let mut chunks = Vec::new();
        let mut place = |owner: Option<u32>, chunk: Chunk| match owner {
            Some(chip) => chunks.push(Chunk { chip, ..chunk }),
            None => chunks.extend((0..chips).map(|chip| Chunk {
                chip,
                ..chunk.clone()
            })),
        };
        for (owner, chunk) in self.chunks {
            place(owner, chunk);
        }
        for (t, entries) in self.tables.into_iter().enumerate() {
            let chunk = Chunk {
                chip: 0,
                region: Region::Lut { table: t as u32 },
                start: 0,
                rows: Rows::I32(entries),
            };
            place(None, chunk);
        }
        let params = Chunk {
            chip: 0,
            region: Region::Params,
            start: 0,
            rows: Rows::Params(self.params),
        };
        place(None, params);
        MemImage { chunks }
    }

    fn table(&mut self, entries: Vec<i32>) -> u32 {
        self.tables.push(entries);
        self.tables.len() as u32 - 1
    }

    /// One entry for every lane: `real` to int8 (`act` int8) or int32.
    fn per_tensor(&mut self, real: f64, int8: bool, layer: &str) -> Result<u32, CompileError> {
        let (m, s) = rq_multiplier(real, layer, 0)?;
        let mut e = ParamEntry::zero(self.n);
        e.multiplier = vec![m; self.n];
        e.shift = vec![s as i8; self.n];
        (e.act_min, e.act_max) = if int8 {
            (-128, 127)
        } else {
            (i32::MIN, i32::MAX)
        };
        self.params.push(e);
        Ok(self.params.len() as u32 - 1)
    }

    /// One entry per output tile of the bias-free projection `w`: channel `c`'s multiplier
    /// `in_scale * w.scales[c] / out_scale`, to int8 or int32.
    fn projection(
        &mut self,
        w: &Projection,
        in_scale: f32,
        out_scale: f32,
        int8: bool,
        layer: &str,
    ) -> Result<u32, CompileError> {
        let first = self.params.len() as u32;
        for c in 0..tiles(w.outputs, self.n) as usize {
            let mut e = ParamEntry::zero(self.n);
            (e.act_min, e.act_max) = if int8 {
                (-128, 127)
            } else {
                (i32::MIN, i32::MAX)
            };
            for x in 0..self.n {
                let ch = c * self.n + x;
                if ch < w.outputs {
                    let real = in_scale as f64 * w.scales[ch] as f64 / out_scale as f64;
                    let (m, s) = rq_multiplier(real, layer, ch)?;
                    e.multiplier[x] = m;
                    e.shift[x] = s as i8;
                }
            }
            self.params.push(e);
        }
        Ok(first)
    }
}

impl Decoder {
    /// Lays `model` out on `cfg`'s chip for one sequence over its whole context, refusing
    /// what cannot fit or run there.
    pub fn new(model: &Model, cfg: &HwConfig) -> Result<Decoder, CompileError> {
        let context = match &model.input {
            Input::Tokens(v) => v.context,
            Input::Features { .. } => 1,
        };
        Decoder::batched(model, cfg, 1, context)
    }

    /// Lays `model` out for `batch` sequences decoded side by side, each step one position of
    /// every sequence, over `positions` positions (at most the model's context; the cache
    /// holds as many): the weight tiles load once a step and stream a row per sequence.
    pub fn batched(
        model: &Model,
        cfg: &HwConfig,
        batch: usize,
        positions: usize,
    ) -> Result<Decoder, CompileError> {
        model.validate()?;
        let Input::Tokens(vocabulary) = &model.input else {
            return Err(CompileError::Unsupported(format!(
                "{} reads a feature vector; decoding is for token models (compile it instead)",
                model.name
            )));
        };
        if let Some(op) = OMITTABLE.iter().find(|op| cfg.chip.omit.contains(op)) {
            return Err(CompileError::Unsupported(format!(
                "a transformer needs every vector op; this chip omits `{}`",
                op.spec().mnemonic
            )));
        }
        let n = cfg.lanes();
        let nu = n as u32;
        let Some(Layer::Embedding(embedding)) = model.layers.first() else {
            return Err(CompileError::Unsupported(
                "the decoder reads token models that start with their embedding".into(),
            ));
        };
        let width = embedding.width;
        if width % n != 0 {
            return Err(CompileError::Unsupported(format!(
                "the model's width, {width}, is not a multiple of the array's {n} lanes"
            )));
        }
        let rows = (width / n) as u32;
        let chips = cfg.system.chips;
        if batch == 0 || batch > MAX_BATCH {
            return Err(CompileError::Input(format!(
                "a batch of {batch} sequences: the decoder takes 1 to {MAX_BATCH}"
            )));
        }
        if positions == 0 || positions > vocabulary.context {
            return Err(CompileError::Input(format!(
                "{positions} positions: the model's context holds 1 to {}",
                vocabulary.context
            )));
        }
        let context = positions;
        let pos_tiles = context.div_ceil(n) as u32;
        // Every per-sequence tensor is `batch` copies one after another (sequence-major).
        let bsz = batch as u32;
        // Cache rows of one sequence, per dimension tile.
        let cache_rows = pos_tiles * nu;
        // Two scratch banks, so that an op from SRAM to SRAM reads one and writes the other
        // (a bank has one port); the rest, at least two so that `PERM` can read K from one
        // and write its transpose to another, for weights, positions and the cache.
        if cfg.chip.sram_banks < 4 {
            return Err(CompileError::DoesNotFit(
                "the decoder needs at least four SRAM banks".into(),
            ));
        }
        let (scratch_bank, other_scratch_bank) = (cfg.chip.sram_banks - 1, cfg.chip.sram_banks - 2);
        let bulk = 0..other_scratch_bank;
        let mut sram = Banks::new(cfg.chip.sram_banks, cfg.chip.sram_depth, "SRAM");
        let mut acc = Banks::new(cfg.chip.acc_banks, cfg.chip.acc_depth, "accumulator memory");
        if cfg.chip.acc_banks < 2 {
            return Err(CompileError::DoesNotFit(
                "the decoder needs at least two accumulator banks".into(),
            ));
        }
        // Accumulator rows in bank A (0) or B (1).
        let (bank_a, bank_b) = (0u32, 1u32);
        // The last layer reading each layer's output.
        let mut last_reader: Vec<usize> = (0..model.layers.len()).collect();
        for (i, layer) in model.layers.iter().enumerate() {
            for s in layer.sources() {
                if let Source::Layer(j) = s {
                    last_reader[j] = last_reader[j].max(i);
                }
            }
        }
        // Layers' outputs in the accumulators: the banks in turn (an add's operands then sit
        // in two banks); and the norms' folds.
        let (mut streams, mut turn) = (Reuse::<Addr>::new(), 0u32);
        let mut folds = Reuse::<NormFold>::new();
        let mut image = ImageBuilder {
            n,
            chunks: Vec::new(),
            params: Vec::new(),
            tables: Vec::new(),
        };
        // A projection's tiles, each on the chip that computes its output tile: `owner(c)`
        // of every `per_owner` consecutive output tiles (a head's, or one).
        let place = |sram: &mut Banks,
                     image: &mut ImageBuilder,
                     w: &Projection,
                     param: u32,
                     fold: Option<NormFold>,
                     per_owner: u32|
         -> Result<Placed, CompileError> {
            let (k_tiles, c_tiles) = (tiles(w.inputs, n), tiles(w.outputs, n));
            let owner: Vec<u32> = (0..c_tiles).map(|c| c / per_owner % chips).collect();
            let t = weight_tiles(&w.weights, w.inputs, w.outputs, n);
            let mut at = Vec::with_capacity(t.len());
            for (i, rows) in t.into_iter().enumerate() {
                let a = sram.take_any(bulk.clone(), nu, Addr::sram)?;
                image.sram_on(Some(owner[i / k_tiles as usize]), a, rows);
                at.push(a);
            }
            Ok(Placed {
                tiles: at,
                k_tiles,
                c_tiles,
                param,
                fold,
                owner,
            })
        };

        // Shared intermediates first, in the scratch bank.
        let max_heads = model
            .layers
            .iter()
            .filter_map(|l| match l {
                Layer::Attention(a) => Some(a.heads),
                _ => None,
            })
            .max()
            .unwrap_or(0);
        let scratch = |sram: &mut Banks, count: u32| sram.take(scratch_bank, count, Addr::sram);
        let a = |acc: &mut Banks, count| acc.take(bank_a, count, Addr::acc);
        let Some(norm_bits) = norm_factor_bits(width) else {
            return Err(CompileError::Unsupported(format!(
                "a model {width} wide: the norm's factor folded into a projection would keep \
                 fewer than 8 bits in int32"
            )));
        };
        let norm_unit = norm_fold_unit(width, norm_bits);
        let mut temps = Temps {
            sums: a(&mut acc, bsz * SUMS_RING)?,
            embed: [a(&mut acc, bsz * rows)?, acc.take(bank_b, rows, Addr::acc)?],
            norm: NormTemps {
                x_wide: a(&mut acc, bsz * rows)?,
                spare: [
                    a(&mut acc, bsz * rows)?,
                    acc.take(bank_b, bsz * rows, Addr::acc)?,
                ],
                total: acc.take(bank_b, bsz, Addr::acc)?,
                half: a(&mut acc, bsz)?,
                shift: a(&mut acc, bsz)?,
                mantissa: a(&mut acc, bsz)?,
                index: scratch(&mut sram, bsz)?,
            },
            heads: Vec::new(),
            bounce: None,
            masks: scratch(&mut sram, nu)?,
            recip_table: image.table(table(|i| {
                (2f64.powi(24) / (i as f64 + 384.5)).round() as i64
            })),
            norm_table: image.table(table(|i| {
                (2f64.powi(norm_bits) / (i as f64 + 192.5).sqrt()).round() as i64
            })),
        };
        let masks: Vec<i8> = (0..n)
            .flat_map(|r| (0..n).map(move |l| i8::from(l <= r)))
            .collect();
        image.sram(temps.masks, masks);
        let head_dims_tiles = |a: &Attention| (width / a.heads) / n;
        let max_head_tiles = model
            .layers
            .iter()
            .filter_map(|l| match l {
                Layer::Attention(a) => Some(head_dims_tiles(a) as u32),
                _ => None,
            })
            .max()
            .unwrap_or(0);
        // The array writes each head's scores and context sums into bank A while the vector
        // unit works on earlier heads' rows in bank B: a unit's multi-row op in a bank the
        // array writes every N + 1 cycles would find no free run of write cycles.
        for set in 0..batch.min(HEAD_SETS) {
            temps.heads.push(Vec::with_capacity(max_heads));
            for _ in 0..max_heads {
                temps.heads[set].push(HeadTemps {
                    scores: a(&mut acc, pos_tiles)?,
                    work: acc.take(bank_b, pos_tiles, Addr::acc)?,
                    spare: [
                        a(&mut acc, pos_tiles)?,
                        acc.take(bank_b, pos_tiles, Addr::acc)?,
                    ],
                    total: a(&mut acc, 1)?,
                    less_one: acc.take(bank_b, 1, Addr::acc)?,
                    recip: a(&mut acc, 1)?,
                    shift: a(&mut acc, 1)?,
                    exp_in: scratch(&mut sram, pos_tiles)?,
                    probs: scratch(&mut sram, pos_tiles)?,
                    index: scratch(&mut sram, 1)?,
                    context_sums: a(&mut acc, max_head_tiles)?,
                });
            }
        }
        let token_at = scratch(&mut sram, bsz * rows)?;

        // A projection reading a norm's output scales its sums by the norm's factor.
        let folded = |plan: &[Planned], input: usize| match plan[input] {
            Planned::Norm { fold, .. } => Some(fold),
            _ => None,
        };
        let mut plan = Vec::with_capacity(model.layers.len());
        // Each layer's output grid.
        let mut made: Vec<f32> = Vec::with_capacity(model.layers.len());
        let mut weight_tile_count = 0u64;
        let source = |s: Source| match s {
            Source::Layer(j) => j,
            Source::Input => unreachable!("validated: only the embedding reads the tokens"),
        };
        for (i, layer) in model.layers.iter().enumerate() {
            let name = layer.name();
            streams.release(|j| last_reader[j] < i);
            folds.release(|j| last_reader[j] < i);
            let mut acc_out = |acc: &mut Banks| {
                turn += 1;
                let bank = turn % 2;
                streams.take(
                    i,
                    |a| a.bank == bank,
                    || acc.take(bank, bsz * rows, Addr::acc),
                )
            };
            let (planned, output) = match layer {
                Layer::Table(_) | Layer::Elementwise(_) => {
                    return Err(CompileError::Unsupported(format!(
                        "layer {name}: {} is a layer of feature models, not token models",
                        layer.kind()
                    )))
                }
                Layer::Embedding(e) => {
                    if i != 0 {
                        return Err(CompileError::Unsupported(format!(
                            "layer {name}: an embedding must be the first layer"
                        )));
                    }
                    let positions =
                        sram.take_any(bulk.clone(), context as u32 * rows, Addr::sram)?;
                    image.sram(positions, e.positions[..context * width].to_vec());
                    let os = e.output_scale as f64;
                    let params = image.per_tensor(e.token_scale as f64 / os, false, name)?;
                    image.per_tensor(e.position_scale as f64 / os, false, name)?;
                    let out = acc_out(&mut acc)?;
                    (
                        Planned::Embedding {
                            out,
                            positions,
                            params,
                        },
                        e.output_scale,
                    )
                }
                Layer::RmsNorm(nrm) => {
                    let input = source(nrm.input);
                    let params = image.per_tensor(
                        made[input] as f64 / nrm.input_scale as f64,
                        true,
                        name,
                    )?;
                    let out = scratch(&mut sram, bsz * rows)?;
                    let fold = folds.take(
                        i,
                        |_| true,
                        || {
                            Ok(NormFold {
                                factor: acc.take(bank_b, FOLD_GROUP * bsz, Addr::acc)?,
                                down: acc.take(bank_b, FOLD_GROUP * bsz, Addr::acc)?,
                            })
                        },
                    )?;
                    // The projections reading it (the loader lets nothing else read int8
                    // rows) see the folded grid.
                    (
                        Planned::Norm {
                            input,
                            out,
                            params,
                            fold,
                        },
                        norm_unit,
                    )
                }
                Layer::Attention(a) => {
                    let input = source(a.input);
                    let hd = width / a.heads;
                    if hd % n != 0 {
                        return Err(CompileError::Unsupported(format!(
                            "layer {name}: heads of {hd} dimensions are not whole tiles of the \
                             array's {n} lanes"
                        )));
                    }
                    let head_tiles = (hd / n) as u32;
                    let s_y = made[input];
                    let fold = folded(&plan, input);
                    let pq = image.projection(&a.wq, s_y, a.q_scale, true, name)?;
                    let pk = image.projection(&a.wk, s_y, a.k_scale, true, name)?;
                    let pv = image.projection(&a.wv, s_y, a.v_scale, true, name)?;
                    let po =
                        image.projection(&a.wo, a.context_scale, a.output_scale, false, name)?;
                    let scores_param = image.per_tensor(
                        a.q_scale as f64 * a.k_scale as f64
                            / (hd as f64).sqrt()
                            / a.scores_scale as f64,
                        true,
                        name,
                    )?;
                    let context_param = image.per_tensor(
                        a.v_scale as f64 / 128.0 / a.context_scale as f64,
                        true,
                        name,
                    )?;
                    let ss = a.scores_scale as f64;
                    let exp_table = image.table(table(|i| {
                        if i > 0 {
                            0
                        } else {
                            (16384.0 * (ss * i as f64).exp()).round() as i64
                        }
                    }));
                    // A tile of K and its transpose in different banks: `PERM` reads one and
                    // writes the other.
                    let (mut k, mut kt, mut v) = (Vec::new(), Vec::new(), Vec::new());
                    let cache = bsz * cache_rows;
                    for _ in 0..rows {
                        let natural = sram.take_any(bulk.clone(), cache, Addr::sram)?;
                        let others = bulk.clone().filter(|b| *b != natural.bank);
                        kt.push(sram.take_any(others, cache, Addr::sram)?);
                        k.push(natural);
                        v.push(sram.take_any(bulk.clone(), cache, Addr::sram)?);
                    }
                    let plan = AttentionPlan {
                        input,
                        heads: a.heads,
                        wq: place(&mut sram, &mut image, &a.wq, pq, fold, head_tiles)?,
                        wk: place(&mut sram, &mut image, &a.wk, pk, fold, head_tiles)?,
                        wv: place(&mut sram, &mut image, &a.wv, pv, fold, head_tiles)?,
                        wo: place(&mut sram, &mut image, &a.wo, po, None, 1)?,
                        k,
                        kt,
                        v,
                        q: scratch(&mut sram, bsz * rows)?,
                        context: scratch(&mut sram, bsz * rows)?,
                        scores_param,
                        context_param,
                        exp_table,
                        out: acc_out(&mut acc)?,
                    };
                    weight_tile_count += [&plan.wq, &plan.wk, &plan.wv, &plan.wo]
                        .iter()
                        .map(|w| w.tiles.len() as u64)
                        .sum::<u64>();
                    (Planned::Attention(Box::new(plan)), a.output_scale)
                }
                Layer::Mlp(m) => {
                    let input = source(m.input);
                    let (p1, p2, table_id) = mlp_params(&mut image, m, made[input], name)?;
                    let fold = folded(&plan, input);
                    let w1 = place(&mut sram, &mut image, &m.w1, p1, fold, 1)?;
                    let w2 = place(&mut sram, &mut image, &m.w2, p2, None, 1)?;
                    weight_tile_count += (w1.tiles.len() + w2.tiles.len()) as u64;
                    let hidden_rows = tiles(m.w1.outputs, n);
                    let out = acc_out(&mut acc)?;
                    (
                        Planned::Mlp {
                            input,
                            w1,
                            hidden: scratch(&mut sram, bsz * hidden_rows)?,
                            activated: sram.take(
                                other_scratch_bank,
                                bsz * hidden_rows,
                                Addr::sram,
                            )?,
                            table: table_id,
                            w2,
                            out,
                        },
                        m.output_scale,
                    )
                }
                Layer::Add(a) => {
                    let inputs: Vec<usize> = a.inputs.iter().map(|s| source(*s)).collect();
                    let out = acc_out(&mut acc)?;
                    // The running sum (the first input, then `out`) meets each further input.
                    let one_bank = inputs[1..].iter().enumerate().any(|(k, &j)| {
                        let sum = if k == 0 {
                            plan_out(&plan[inputs[0]])
                        } else {
                            out
                        };
                        plan_out(&plan[j]).bank == sum.bank
                    });
                    if one_bank && temps.bounce.is_none() {
                        temps.bounce = Some([
                            acc.take(bank_a, bsz * rows, Addr::acc)?,
                            acc.take(bank_b, bsz * rows, Addr::acc)?,
                        ]);
                    }
                    (Planned::Add { inputs, out }, a.output_scale)
                }
                Layer::Dense(d) => {
                    // The logits: a dense layer anywhere else could change the stream's width,
                    // which every other layer's plan takes from the embedding.
                    if i + 1 != model.layers.len() {
                        return Err(CompileError::Unsupported(format!(
                            "layer {name}: the decoder takes a fully_connected layer only as \
                             the last (the logits)"
                        )));
                    }
                    let input = source(d.input);
                    let fold = folded(&plan, input);
                    let input_grid = Quant {
                        scale: made[input],
                        zero_point: 0,
                    };
                    // The bias moves from the norm's output grid to the folded one.
                    let mut d = d.clone();
                    if let (Some(_), Some(Layer::RmsNorm(nrm))) = (fold, model.layers.get(input)) {
                        for b in &mut d.bias {
                            let real = *b as f64 * nrm.output_scale as f64 / norm_unit as f64;
                            *b = real.round().clamp(i32::MIN as f64, i32::MAX as f64) as i32;
                        }
                    }
                    let d = &d;
                    let param = image.params.len() as u32;
                    image.params.extend(layer_params(d, input_grid, n)?);
                    let w = place(
                        &mut sram,
                        &mut image,
                        &Projection {
                            inputs: d.inputs,
                            outputs: d.outputs,
                            weights: d.weights.clone(),
                            scales: d.weight_scales.clone(),
                        },
                        param,
                        fold,
                        1,
                    )?;
                    weight_tile_count += w.tiles.len() as u64;
                    let out = scratch(&mut sram, bsz * tiles(d.outputs, n))?;
                    (Planned::Dense { input, w, out }, d.output.scale)
                }
            };
            plan.push(planned);
            made.push(output);
        }
        let Some(Planned::Dense { out: logits_at, .. }) = plan.last() else {
            return Err(CompileError::Unsupported(
                "the decoder reads token models that end in a fully_connected layer (the logits)"
                    .into(),
            ));
        };
        let logits_at = *logits_at;
        let Some(Layer::Dense(logits_layer)) = model.layers.last() else {
            unreachable!("the plan's last layer is dense")
        };
        if image.params.len() > cfg.chip.param_depth as usize {
            return Err(CompileError::DoesNotFit(format!(
                "parameters: the model needs {} requantization entries; the chip holds {}",
                image.params.len(),
                cfg.chip.param_depth
            )));
        }
        if image.tables.len() > cfg.chip.lut_tables as usize {
            return Err(CompileError::DoesNotFit(format!(
                "lookup tables: the model needs {} (exp per attention, GELU per MLP, a \
                 reciprocal and a reciprocal square root); the chip has {}",
                image.tables.len(),
                cfg.chip.lut_tables
            )));
        }
        let decoder = Decoder {
            cfg: cfg.clone(),
            vocabulary: vocabulary.clone(),
            tokens: embedding.tokens.clone(),
            width,
            token_at,
            logits_at,
            vocab: vocabulary.symbols.len(),
            logit_scale: logits_layer.output.scale,
            plan,
            temps,
            image: image.finish(chips),
            weight_tiles: weight_tile_count,
            batch,
            positions,
            cache_rows,
        };
        // The longest program is the last position's or, if that one needs no mask (its
        // tile is full), the one before (the same tiles and the mask's two ops a head): if
        // they fit, every step does, and a generation cannot fail half-way for want of
        // instruction memory.
        for p in context.saturating_sub(2)..context {
            decoder.step(p)?;
        }
        Ok(decoder)
    }

    /// Weight tiles the busiest chip holds, and loads every step ([`Decoder::weight_tiles`]
    /// on one chip).
    pub fn weight_tiles_on_busiest_chip(&self) -> u64 {
        let mut per_chip = vec![0u64; self.cfg.system.chips as usize];
        for planned in &self.plan {
            let projections: Vec<&Placed> = match planned {
                Planned::Attention(a) => vec![&a.wq, &a.wk, &a.wv, &a.wo],
                Planned::Mlp { w1, w2, .. } => vec![w1, w2],
                Planned::Dense { w, .. } => vec![w],
                Planned::Embedding { .. } | Planned::Norm { .. } | Planned::Add { .. } => vec![],
            };
            for w in projections {
                for owner in &w.owner {
                    per_chip[*owner as usize] += w.k_tiles as u64;
                }
            }
        }
        per_chip.into_iter().max().unwrap_or(0)
    }

    /// The config the decoder compiled for.
    pub fn config(&self) -> &HwConfig {
        &self.cfg
    }

    /// Positions each sequence steps through, `0..context()`: the model's context, or fewer
    /// for a batch ([`Decoder::batched`]).
    pub fn context(&self) -> usize {
        self.positions
    }

    /// Sequences decoded side by side.
    pub fn batch(&self) -> usize {
        self.batch
    }

    /// The model's symbols: token `k` is `symbols()[k]`.
    pub fn symbols(&self) -> &[char] {
        &self.vocabulary.symbols
    }

    /// The tokens of `text`, or the first character the model does not know.
    pub fn tokenize(&self, text: &str) -> Result<Vec<usize>, CompileError> {
        text.chars()
            .enumerate()
            .map(|(i, c)| {
                self.vocabulary.token(c).ok_or_else(|| {
                    CompileError::Input(format!(
                        "character {i} ({c:?}) is not one of the model's {} symbols",
                        self.vocab
                    ))
                })
            })
            .collect()
    }

    /// The logits' scale (real value = int8 value x scale).
    pub fn logit_scale(&self) -> f32 {
        self.logit_scale
    }

    /// Positions a prompt of `prompt` tokens and `count` new ones take, or why this decoder
    /// cannot run them.
    pub fn positions(&self, prompt: usize, count: usize) -> Result<usize, CompileError> {
        let needed = positions_needed(prompt, count, self.vocabulary.context)?;
        if needed > self.positions {
            return Err(CompileError::Input(format!(
                "a prompt of {prompt} and {count} new tokens need {needed} positions; this \
                 decoder was laid out for {} (the model's context is {})",
                self.positions, self.vocabulary.context
            )));
        }
        Ok(needed)
    }

    /// Runs `prompts` (one a sequence, all of one length) and then `count` generated tokens
    /// each, a position a step: `run` executes a step's program after writing its token image
    /// (on whatever runs it) and returns each sequence's logits; `samplers[s]` picks sequence
    /// `s`'s next token from its last position's logits and `emit(s, token)` sees it. Returns
    /// each sequence's generated tokens.
    pub fn generate<E: From<CompileError>>(
        &self,
        prompts: &[Vec<usize>],
        count: usize,
        samplers: &mut [Sampler],
        mut run: impl FnMut(&Step, &MemImage) -> Result<Vec<Vec<i8>>, E>,
        mut emit: impl FnMut(usize, usize),
    ) -> Result<Vec<Vec<usize>>, E> {
        if prompts.len() != self.batch || samplers.len() != self.batch {
            return Err(CompileError::Input(format!(
                "{} prompts and {} samplers for a batch of {}",
                prompts.len(),
                samplers.len(),
                self.batch
            ))
            .into());
        }
        let length = prompts[0].len();
        if prompts.iter().any(|p| p.len() != length) {
            return Err(CompileError::Input(
                "the prompts of a batch step together, so they must be of one length".into(),
            )
            .into());
        }
        let positions = self.positions(length, count)?;
        let mut tokens = prompts.to_vec();
        let mut generated = vec![Vec::with_capacity(count); self.batch];
        for p in 0..positions {
            let step = self.step(p)?;
            let now: Vec<usize> = tokens.iter().map(|t| t[p]).collect();
            let logits = run(&step, &self.token_image(&now)?)?;
            if p + 1 >= length {
                for (s, sampler) in samplers.iter_mut().enumerate() {
                    let next = sampler.next(&logits[s]);
                    tokens[s].push(next);
                    generated[s].push(next);
                    emit(s, next);
                }
            }
        }
        Ok(generated)
    }

    /// The image loaded once before the first step.
    pub fn image(&self) -> &MemImage {
        &self.image
    }

    /// What the host writes before a step: each sequence's token's embedding row, `tokens`
    /// one a sequence.
    pub fn token_image(&self, tokens: &[usize]) -> Result<MemImage, CompileError> {
        if tokens.len() != self.batch {
            return Err(CompileError::Input(format!(
                "{} tokens for a batch of {}",
                tokens.len(),
                self.batch
            )));
        }
        let mut rows = Vec::with_capacity(self.batch * self.width);
        for &token in tokens {
            if token >= self.vocab {
                return Err(CompileError::Input(format!(
                    "token {token} is not in the model's vocabulary of {}",
                    self.vocab
                )));
            }
            rows.extend_from_slice(&self.tokens[token * self.width..(token + 1) * self.width]);
        }
        // Every chip computes the embedding.
        let chunks = (0..self.cfg.system.chips)
            .map(|chip| Chunk {
                chip,
                region: Region::Sram {
                    bank: self.token_at.bank,
                },
                start: self.token_at.row,
                rows: Rows::I8(rows.clone()),
            })
            .collect();
        Ok(MemImage { chunks })
    }

    /// Runs `step` on the golden model from `state` with `token`'s row written first: what
    /// the chip holds after the step.
    pub fn golden_step(
        &self,
        state: golden::SystemState,
        step: &Step,
        token: &MemImage,
    ) -> Result<golden::Run, CompileError> {
        let mut state = state;
        let bug = |e: String| CompileError::Internal(format!("position {}: {e}", step.position));
        state
            .load(&self.cfg, token)
            .map_err(|e| bug(e.to_string()))?;
        golden::run(&step.program, &self.cfg, state, Some(step.cycles() + 1))
            .map_err(|e| bug(e.to_string()))
    }

    /// The logits a step left in the SRAM of the chip (chip 0 of a system), one vector a
    /// sequence.
    pub fn logits(&self, chip: &golden::ChipState) -> Vec<Vec<i8>> {
        let n = self.cfg.lanes();
        let per_sequence = self.vocab.div_ceil(n);
        (0..self.batch)
            .map(|s| {
                (0..self.vocab)
                    .map(|k| {
                        let row = self.logits_at.row as usize + s * per_sequence + k / n;
                        chip.sram[[self.logits_at.bank as usize, row, k % n]]
                    })
                    .collect()
            })
            .collect()
    }

    /// Each attention's cache of `sequence` (below [`Decoder::batch`]) in a system's SRAM
    /// (each head's on its chip): K and V rows of positions `0..positions`.
    pub fn cached_keys_values(
        &self,
        system: &golden::SystemState,
        sequence: usize,
        positions: usize,
    ) -> Vec<CachedKeysValues> {
        let n = self.cfg.lanes();
        assert!(
            sequence < self.batch,
            "sequence {sequence} of a batch of {}",
            self.batch
        );
        let positions = positions.min(self.context());
        let first = sequence * self.cache_rows as usize;
        // Row `t` of a tensor cached as one region per dimension tile.
        let rows = |a: &AttentionPlan, tiles: &[Addr], t: usize| -> Vec<i8> {
            (0..self.width)
                .map(|j| {
                    let at = tiles[j / n];
                    let chip = &system.chips[a.wk.owner[j / n] as usize];
                    chip.sram[[at.bank as usize, at.row as usize + first + t, j % n]]
                })
                .collect()
        };
        self.plan
            .iter()
            .filter_map(|p| match p {
                Planned::Attention(a) => Some(CachedKeysValues {
                    keys: (0..positions).map(|t| rows(a, &a.k, t)).collect(),
                    values: (0..positions).map(|t| rows(a, &a.v, t)).collect(),
                }),
                _ => None,
            })
            .collect()
    }

    /// The program of position `position`, scheduled and checked by the verifier.
    pub fn step(&self, position: usize) -> Result<Step, CompileError> {
        if position >= self.context() {
            return Err(CompileError::Input(format!(
                "position {position} is past the {} positions this decoder was laid out for",
                self.context()
            )));
        }
        let ops = self.ops(position);
        let mut loads = vec![0u64; self.cfg.system.chips as usize];
        for (chip, _) in ops.iter().filter(|(_, op)| matches!(op, Op::Ldw(_))) {
            loads[*chip as usize] += 1;
        }
        let loaded_tiles = loads.into_iter().max().unwrap_or(0);
        let (program, schedules) = crate::schedule_program(&ops, &self.cfg)?;
        Ok(Step {
            position,
            program,
            schedules,
            loaded_tiles,
        })
    }

    /// The ops of position `p` in their logical order, each on its chip.
    fn ops(&self, p: usize) -> Vec<(u32, Op)> {
        let n = self.cfg.lanes() as u32;
        let rows = self.width as u32 / n;
        let bsz = self.batch as u32;
        let chips = self.cfg.system.chips;
        let mut e = Emit {
            ops: Vec::new(),
            chips,
            on: 0..chips,
            lanes: n,
            batch: bsz,
            ring: 0,
        };
        if chips > 1 {
            e.push(Op::Ctl(Ctl {
                func: CtlFunc::Sync,
            }));
        }
        let t = &self.temps;
        // Where layer `i`'s output is.
        let output = |i: usize| plan_out(&self.plan[i]);
        for planned in &self.plan {
            match planned {
                Planned::Embedding {
                    out,
                    positions,
                    params,
                } => {
                    // Every chip, every tile: each chip adds its own shard to it later.
                    let [tok, pos] = t.embed;
                    e.mov(self.token_at, tok, bsz * rows);
                    e.rq(tok, tok, bsz * rows, *params);
                    e.mov(offset(*positions, p as u32 * rows), pos, rows);
                    e.rq(pos, pos, rows, params + 1);
                    // One position row for every sequence.
                    for s in 0..bsz {
                        let at = s * rows;
                        e.vop(
                            VopFunc::Add,
                            offset(tok, at),
                            1,
                            pos,
                            1,
                            offset(*out, at),
                            rows,
                            0,
                        );
                    }
                }
                Planned::Norm {
                    input,
                    out,
                    params,
                    fold,
                } => {
                    self.norm(&mut e, output(*input), *out, *params, *fold);
                }
                Planned::Attention(a) => {
                    self.attention(&mut e, a, output(a.input), p);
                }
                Planned::Mlp {
                    input,
                    w1,
                    hidden,
                    activated,
                    table,
                    w2,
                    out,
                } => {
                    let hidden_tiles = w1.c_tiles;
                    e.project(
                        w1,
                        output(*input),
                        t.sums,
                        |c| offset(*hidden, c),
                        hidden_tiles,
                        Gather::Nowhere,
                    );
                    if chips == 1 {
                        // A ring's worth of hidden tiles at a time, so that the second
                        // projection can start on the first tiles while the last are being
                        // requantized.
                        for s in 0..bsz {
                            for (c, count) in runs(hidden_tiles, SUMS_RING) {
                                let at = s * hidden_tiles + c;
                                e.lut(offset(*hidden, at), offset(*activated, at), count, *table);
                            }
                        }
                    } else {
                        // Each chip activates the tiles it computed and sends them to all, a
                        // ring's worth at a time (as on one chip).
                        for chip in 0..chips {
                            e.on_chip(chip);
                            for (first, step, count) in e.shard(hidden_tiles, chip) {
                                for (done, piece) in runs(count, SUMS_RING) {
                                    let at = first + done * step;
                                    e.push(Op::Lut(Lut {
                                        src: offset(*hidden, at),
                                        src_step: step,
                                        dst: offset(*activated, at),
                                        dst_step: step,
                                        count: piece,
                                        table: *table,
                                    }));
                                    e.send(chip, offset(*activated, at), step, piece, 0..chips);
                                }
                            }
                        }
                        e.on_every_chip();
                    }
                    e.project(
                        w2,
                        *activated,
                        t.sums,
                        |c| offset(*out, c),
                        rows,
                        Gather::Nowhere,
                    );
                }
                Planned::Add { inputs, out } => {
                    // Each chip its shard of the residual stream.
                    for chip in 0..chips {
                        e.on_chip(chip);
                        for (first, step, count) in e.shard(rows, chip) {
                            let at = |a: Addr| offset(a, first);
                            let mut sum = output(inputs[0]);
                            for i in &inputs[1..] {
                                let mut b = output(*i);
                                if b.bank == sum.bank {
                                    let bounce = t.bounce.expect("planned with the add");
                                    b = bounce[1 - b.bank as usize];
                                    e.push(Op::Mov(Mov {
                                        src: at(output(*i)),
                                        src_step: step,
                                        dst: at(b),
                                        dst_step: step,
                                        count,
                                    }));
                                }
                                e.vop_rows(VopFunc::Add, at(sum), at(b), at(*out), step, count);
                                sum = *out;
                            }
                        }
                    }
                    e.on_every_chip();
                }
                Planned::Dense { input, w, out } => {
                    e.project(
                        w,
                        output(*input),
                        t.sums,
                        |c| offset(*out, c),
                        w.c_tiles,
                        Gather::FirstChip,
                    );
                }
            }
        }
        e.ops
    }

    /// RMSNorm of each sequence's residual rows at `input`: their int8 rows at `out`, the
    /// projections' input, and the factor and shift the projections fold in ([`NormFold`]).
    fn norm(&self, e: &mut Emit, input: Addr, out: Addr, params: u32, fold: NormFold) {
        let t = &self.temps.norm;
        let rows = self.width as u32 / self.cfg.lanes() as u32;
        let all = self.batch as u32 * rows;
        // The same rows twice, for a VOP that reads its operands from two memories.
        if e.chips == 1 {
            e.rq(input, out, all, params);
            e.rq(input, t.x_wide, all, params);
        } else {
            // Each chip its shard of the stream, sent to every chip; each chip then computes
            // the statistics of the whole rows.
            for chip in 0..e.chips {
                e.on_chip(chip);
                for (first, step, count) in e.shard(rows, chip) {
                    e.push(Op::Rq(Rq {
                        src: offset(input, first),
                        src_step: step,
                        dst: offset(out, first),
                        dst_step: step,
                        count,
                        param: params,
                    }));
                    e.send(chip, offset(out, first), step, count, 0..e.chips);
                }
            }
            e.on_every_chip();
            e.mov(out, t.x_wide, all);
        }
        e.vop(VopFunc::Mul, out, 1, t.x_wide, 1, t.x_wide, all, 0);
        for s in 0..self.batch as u32 {
            let one = |a: Addr| offset(a, s);
            let (total, half, shift) = (one(t.total), one(t.half), one(t.shift));
            let spare = t.spare.map(|a| offset(a, s * rows));
            e.reduce(RedFunc::Sum, offset(t.x_wide, s * rows), rows, spare, total);
            // h = (clz(ss) - 2) >> 1; the table's index ((ss << 2h) >> 22) - 192.
            e.vop_imm(VopFunc::Clz, total, half, 0);
            e.vop_imm(VopFunc::Sub, half, half, 2);
            e.vop_imm(VopFunc::Sra, half, half, 1);
            e.vop_imm(VopFunc::Shl, half, shift, 1);
            e.lookup_mantissa(total, shift, one(t.mantissa), 192, one(t.index));
            // The factor and the shift down (15 - h), once per tile of a fold group.
            let (factor, down) = (one(fold.factor), one(fold.down));
            let batch = self.batch as u32;
            e.push(Op::Lut(Lut {
                src: one(t.index),
                src_step: 0,
                dst: factor,
                dst_step: batch,
                count: FOLD_GROUP,
                table: self.temps.norm_table,
            }));
            let copies = |func, a, a_step, imm| {
                Op::Vop(Vop {
                    func,
                    a,
                    a_step,
                    b: Addr::IMM,
                    b_step: 0,
                    dst: down,
                    dst_step: batch,
                    count: FOLD_GROUP,
                    imm,
                })
            };
            e.push(copies(VopFunc::Mul, half, 0, -1));
            e.push(copies(VopFunc::Add, down, batch, 15));
        }
    }

    /// Attention at position `p` of each sequence's int8 rows at `input`.
    fn attention(&self, e: &mut Emit, a: &AttentionPlan, input: Addr, p: usize) {
        let n = self.cfg.lanes() as u32;
        let t = &self.temps;
        let (bsz, cache_rows) = (self.batch as u32, self.cache_rows);
        let rows = self.width as u32 / n;
        let p32 = p as u32;
        let (tile, lane) = (p32 / n, p32 % n);
        let position_tiles = tile + 1;
        let masked = lane != n - 1;
        let mask = offset(t.masks, lane);
        // Each head's chip: its q, k and v, its cache and its softmax; the heads' contexts
        // then go to every chip.
        let chip_of_tile = |c: usize| a.wk.owner[c];
        let quiet = Gather::Nowhere;
        e.project(&a.wq, input, t.sums, |c| offset(a.q, c), rows, quiet);
        // This position's K and V rows into each sequence's cache; K's tile transposed again.
        let row_p = |at: &[Addr], c: u32| offset(at[c as usize], p32);
        e.project(&a.wk, input, t.sums, |c| row_p(&a.k, c), cache_rows, quiet);
        e.project(&a.wv, input, t.sums, |c| row_p(&a.v, c), cache_rows, quiet);
        for s in 0..bsz {
            let tile_at = s * cache_rows + tile * n;
            for (c, (k, kt)) in a.k.iter().zip(&a.kt).enumerate() {
                e.on_chip(chip_of_tile(c));
                e.push(Op::Perm(Perm {
                    func: PermFunc::Transpose,
                    src: offset(*k, tile_at),
                    src_step: 1,
                    dst: offset(*kt, tile_at),
                    dst_step: 1,
                    count: 1,
                    amount: 0,
                }));
            }
        }
        let head_tiles = a.k.len() as u32 / a.heads as u32;
        let chip_of_head = |h: u32| chip_of_tile((h * head_tiles) as usize);
        // Sequence by sequence, step by step over the heads, so that one head's chain waits
        // under another's work. `(sequence, head, temps)`.
        let sets = t.heads.len() as u32;
        let heads: Vec<(u32, u32, &HeadTemps)> = (0..bsz)
            .flat_map(|s| {
                let set = &t.heads[(s % sets) as usize];
                (0..a.heads as u32).map(move |h| (s, h, &set[h as usize]))
            })
            .collect();
        // Each phase over a group of sequences with their own sets of temps, then the next group.
        for group in heads.chunks(sets as usize * a.heads) {
            for &(s, h, ht) in group {
                e.on_chip(chip_of_head(h));
                for b in 0..position_tiles {
                    for i in 0..head_tiles {
                        let c = (h * head_tiles + i) as usize;
                        e.ldw(offset(a.kt[c], s * cache_rows + b * n));
                        let q = offset(a.q, s * rows + c as u32);
                        e.mma(q, offset(ht.scores, b), i > 0);
                    }
                }
            }
            for &(_, h, ht) in group {
                e.on_chip(chip_of_head(h));
                let s = ht.work;
                let last = offset(s, tile);
                for (b, count) in runs(position_tiles, n) {
                    e.rq(offset(ht.scores, b), offset(s, b), count, a.scores_param);
                }
                if masked {
                    e.vop(VopFunc::Sel, last, 1, mask, 1, last, 1, -128);
                }
                e.reduce(RedFunc::Max, s, position_tiles, ht.spare, ht.total);
                for (b, count) in runs(position_tiles, n) {
                    let s = offset(s, b);
                    e.vop(VopFunc::Sub, s, 1, ht.total, 0, s, count, 0);
                }
                // Saturated into [-128, 0] on the way to the table.
                e.mov(s, ht.exp_in, position_tiles);
                e.lut(ht.exp_in, s, position_tiles, a.exp_table);
                if masked {
                    e.vop(VopFunc::Sel, last, 1, mask, 1, last, 1, 0);
                }
                e.reduce(RedFunc::Sum, s, position_tiles, ht.spare, ht.total);
            }
            for &(_, h, ht) in group {
                e.on_chip(chip_of_head(h));
                // c = clz(S); the table's index ((S << (c - 1)) >> 22) - 384.
                e.vop_imm(VopFunc::Clz, ht.total, ht.shift, 0);
                e.vop_imm(VopFunc::Sub, ht.shift, ht.less_one, 1);
                e.lookup_mantissa(ht.total, ht.less_one, ht.less_one, 384, ht.index);
                e.lut(ht.index, ht.recip, 1, t.recip_table);
                // The shift back: 40 - c.
                e.vop_imm(VopFunc::Sub, ht.shift, ht.shift, 40);
                e.vop_imm(VopFunc::Mul, ht.shift, ht.shift, -1);
            }
            for &(_, h, ht) in group {
                e.on_chip(chip_of_head(h));
                let s = ht.work;
                for (b, count) in runs(position_tiles, n) {
                    let s = offset(s, b);
                    e.vop(VopFunc::Mul, s, 1, ht.recip, 0, s, count, 0);
                    e.vop(VopFunc::Sra, s, 1, ht.shift, 0, s, count, 0);
                }
                e.mov(s, ht.probs, position_tiles);
            }
            for &(s, h, ht) in group {
                e.on_chip(chip_of_head(h));
                for i in 0..head_tiles {
                    let c = h * head_tiles + i;
                    let sums = offset(ht.context_sums, i);
                    for b in 0..position_tiles {
                        e.ldw(offset(a.v[c as usize], s * cache_rows + b * n));
                        e.mma(offset(ht.probs, b), sums, b > 0);
                    }
                    let context = offset(a.context, s * rows + c);
                    e.rq(sums, context, 1, a.context_param);
                    e.send(chip_of_head(h), context, 1, 1, 0..e.chips);
                }
            }
        }
        e.on_every_chip();
        // Into each chip's shard of the residual stream.
        e.project(&a.wo, a.context, t.sums, |c| offset(a.out, c), rows, quiet);
    }
}

/// The MLP's entries and its activation table.
fn mlp_params(
    image: &mut ImageBuilder,
    m: &Mlp,
    s_y: f32,
    name: &str,
) -> Result<(u32, u32, u32), CompileError> {
    let p1 = image.projection(&m.w1, s_y, m.hidden_scale, true, name)?;
    let p2 = image.projection(&m.w2, m.activation_scale, m.output_scale, false, name)?;
    let (hs, acts) = (m.hidden_scale as f64, m.activation_scale as f64);
    let table = image.table(table(|i| {
        (m.activation.apply(i as f64 * hs) / acts)
            .round()
            .clamp(-128.0, 127.0) as i64
    }));
    Ok((p1, p2, table))
}

/// `count` rows as runs of at most `n` (`(first, length)`). With `n` = N: an op that reads
/// or writes accumulator bank A for more than N cycles in a row cannot issue while the array
/// updates a row of it every N + 1 cycles (bank A's ports are the array's).
fn runs(count: u32, n: u32) -> impl Iterator<Item = (u32, u32)> {
    (0..count)
        .step_by(n as usize)
        .map(move |b| (b, n.min(count - b)))
}

fn offset(a: Addr, rows: u32) -> Addr {
    Addr {
        row: a.row + rows,
        ..a
    }
}

/// Where a projection's output tiles go besides the chip that computes each.
#[derive(Clone, Copy)]
enum Gather {
    /// Its readers are on the same chip (a head's, or a shard of the residual stream).
    Nowhere,
    /// The logits, which the host reads from chip 0.
    FirstChip,
}

/// Ops in logical order, each on its chip.
struct Emit {
    ops: Vec<(u32, Op)>,
    /// The system's chips.
    chips: u32,
    /// The chips the next ops go to (each its own copy).
    on: std::ops::Range<u32>,
    /// The array's lanes, N.
    lanes: u32,
    /// Sequences side by side.
    batch: u32,
    /// The sums ring's slot of the next projection's first tile: a projection starts where
    /// the last one stopped, so that it does not wait to reuse the slots the last one's
    /// final group is still being requantized from.
    ring: u32,
}

impl Emit {
    fn push(&mut self, op: Op) {
        for chip in self.on.clone() {
            self.ops.push((chip, op));
        }
    }

    /// The next ops go to every chip.
    fn on_every_chip(&mut self) {
        self.on = 0..self.chips;
    }

    /// The next ops go to `chip` alone.
    fn on_chip(&mut self, chip: u32) {
        self.on = chip..chip + 1;
    }

    /// Chip `chip`'s share of a sharded tensor of `per_sequence` rows a sequence (row `c` of
    /// a sequence is chip `c mod C`'s): runs of `(first row, step, count)`.
    fn shard(&self, per_sequence: u32, chip: u32) -> Vec<(u32, u32, u32)> {
        let c = self.chips;
        if per_sequence.is_multiple_of(c) {
            return vec![(chip, c, self.batch * per_sequence / c)];
        }
        (0..self.batch)
            .filter(|_| chip < per_sequence)
            .map(|s| {
                let count = (per_sequence - chip).div_ceil(c);
                (s * per_sequence + chip, c, count)
            })
            .collect()
    }

    /// `XFER`s of `count` rows `step` apart at `at`, from `from` to the same rows of every
    /// chip in `to`.
    fn send(&mut self, from: u32, at: Addr, step: u32, count: u32, to: std::ops::Range<u32>) {
        for chip in to.filter(|&c| c != from) {
            self.ops.push((
                from,
                Op::Xfer(Xfer {
                    chip,
                    src: at,
                    src_step: step,
                    dst: at,
                    dst_step: step,
                    count,
                }),
            ));
        }
    }

    fn mov(&mut self, src: Addr, dst: Addr, count: u32) {
        self.push(Op::Mov(Mov {
            src,
            src_step: 1,
            dst,
            dst_step: 1,
            count,
        }));
    }

    fn rq(&mut self, src: Addr, dst: Addr, count: u32, param: u32) {
        self.push(Op::Rq(Rq {
            src,
            src_step: 1,
            dst,
            dst_step: 1,
            count,
            param,
        }));
    }

    #[allow(clippy::too_many_arguments)]
    fn vop(
        &mut self,
        func: VopFunc,
        a: Addr,
        a_step: u32,
        b: Addr,
        b_step: u32,
        dst: Addr,
        count: u32,
        imm: i32,
    ) {
        self.push(Op::Vop(Vop {
            func,
            a,
            a_step,
            b,
            b_step,
            dst,
            dst_step: 1,
            count,
            imm,
        }));
    }

    /// `dst = a func b` over `count` rows `step` apart (the same in all three).
    fn vop_rows(&mut self, func: VopFunc, a: Addr, b: Addr, dst: Addr, step: u32, count: u32) {
        self.push(Op::Vop(Vop {
            func,
            a,
            a_step: step,
            b,
            b_step: step,
            dst,
            dst_step: step,
            count,
            imm: 0,
        }));
    }

    /// `dst = a func imm` for one row.
    fn vop_imm(&mut self, func: VopFunc, a: Addr, dst: Addr, imm: i32) {
        self.vop(func, a, 1, Addr::IMM, 0, dst, 1, imm);
    }

    fn lut(&mut self, src: Addr, dst: Addr, count: u32, table: u32) {
        self.push(Op::Lut(Lut {
            src,
            src_step: 1,
            dst,
            dst_step: 1,
            count,
            table,
        }));
    }

    fn ldw(&mut self, src: Addr) {
        self.push(Op::Ldw(Ldw { src, src_step: 1 }));
    }

    fn mma(&mut self, src: Addr, dst: Addr, accumulate: bool) {
        self.push(Op::Mma(Mma {
            src,
            src_step: 1,
            dst,
            dst_step: 1,
            count: 1,
            swap: true,
            accumulate,
        }));
    }

    /// A table's index for the mantissa of the row `value` normalised by the left shift in
    /// the row `shift` (both broadcast): `((value << shift) >> 22) - offset`, computed in the
    /// row `work` (another bank than `value`'s) and saturated to int8 into the SRAM row
    /// `index` that `LUT` reads.
    fn lookup_mantissa(&mut self, value: Addr, shift: Addr, work: Addr, offset: i32, index: Addr) {
        self.vop(VopFunc::Shl, value, 0, shift, 0, work, 1, 0);
        self.vop_imm(VopFunc::Sra, work, work, 22);
        self.vop_imm(VopFunc::Sub, work, work, offset);
        self.mov(work, index, 1);
    }

    /// Reduces the `count` rows at `rows` with `func` across lanes and rows into the row
    /// `total` (every lane): each row across its lanes (`RED`, even rows into `spare[0]`, odd
    /// into `spare[1]`, in different banks), then the row results pairwise as a tree, one
    /// level a `VOP` latency, each pair one row of each bank (a `VOP` reads its operands in
    /// one cycle), each level's results spread over both banks. `spare` has `count` rows in
    /// each. Wrapping sums and maxima do not depend on the order.
    fn reduce(&mut self, func: RedFunc, rows: Addr, count: u32, spare: [Addr; 2], total: Addr) {
        let n = self.lanes;
        let halves = [count.div_ceil(2), count / 2];
        let mut used = [0u32; 2];
        let mut values: Vec<Addr> = Vec::with_capacity(count as usize);
        for (side, half) in halves.into_iter().enumerate() {
            for (b, run) in runs(half, n) {
                self.push(Op::Red(Red {
                    func,
                    src: offset(rows, side as u32 + 2 * b),
                    src_step: 2,
                    dst: offset(spare[side], b),
                    dst_step: 1,
                    count: run,
                }));
            }
            values.extend((0..half).map(|r| offset(spare[side], r)));
            used[side] = half;
        }
        let vop = match func {
            RedFunc::Sum => VopFunc::Add,
            RedFunc::Max => VopFunc::Max,
        };
        while values.len() > 1 {
            let (a, b): (Vec<Addr>, Vec<Addr>) =
                values.iter().partition(|v| v.bank == spare[0].bank);
            let pairs = a.len().min(b.len());
            let mut next: Vec<Addr> = a[pairs..].iter().chain(&b[pairs..]).copied().collect();
            for (x, y) in a.iter().zip(&b) {
                let dst = if values.len() == 2 {
                    total
                } else {
                    // The bank with fewer of the next level's rows, so that it pairs.
                    let in_a = next.iter().filter(|v| v.bank == spare[0].bank).count();
                    let side = usize::from(2 * in_a > next.len());
                    used[side] += 1;
                    debug_assert!(used[side] <= count, "spare has `count` rows a bank");
                    offset(spare[side], used[side] - 1)
                };
                self.vop(vop, *x, 1, *y, 1, dst, 1, 0);
                next.push(dst);
            }
            values = next;
        }
        if values[0] != total {
            self.mov(values[0], total, 1);
        }
    }

    /// `W x` for each sequence's int8 rows at `x` (one per k-tile, `k_tiles` a sequence):
    /// each weight tile loads once and streams a row per sequence, each output tile's sums
    /// into a slot of the ring `sums` (a row per sequence), then requantized by the tile's
    /// entry into `out(c) + sequence * out_step`.
    fn project(
        &mut self,
        w: &Placed,
        x: Addr,
        sums: Addr,
        out: impl Fn(u32) -> Addr,
        out_step: u32,
        gather: Gather,
    ) {
        let (b, ring) = (self.batch, self.ring);
        let slot = |c: u32| offset(sums, (ring + c) % SUMS_RING * b);
        // Whole groups, so that a group's slots stay consecutive.
        self.ring = (ring + w.c_tiles.next_multiple_of(FOLD_GROUP)) % SUMS_RING;
        let owner = |c: u32| w.owner[c as usize];
        for c in 0..w.c_tiles {
            self.on_chip(owner(c));
            for j in 0..w.k_tiles {
                self.ldw(w.tiles[(c * w.k_tiles + j) as usize]);
                self.push(Op::Mma(Mma {
                    src: offset(x, j),
                    src_step: w.k_tiles,
                    dst: slot(c),
                    dst_step: 1,
                    count: b,
                    swap: true,
                    accumulate: j > 0,
                }));
            }
            let group = c - c % FOLD_GROUP;
            if c % FOLD_GROUP != FOLD_GROUP - 1 && c + 1 != w.c_tiles {
                continue;
            }
            if let Some(f) = w.fold {
                // The group's sums times each sequence's factor, shifted down by its shift
                // (rows `[tile][sequence]` both, every tile's the same), a run of the
                // group's tiles one chip computes at a time.
                let mut first = group;
                while first <= c {
                    let last = (first..=c)
                        .take_while(|&t| owner(t) == owner(first))
                        .last()
                        .expect("the run holds its first tile");
                    self.on_chip(owner(first));
                    let (count, row) = ((last + 1 - first) * b, (first - group) * b);
                    let at = slot(first);
                    self.vop(VopFunc::Mul, at, 1, offset(f.factor, row), 1, at, count, 0);
                    self.vop(VopFunc::Sra, at, 1, offset(f.down, row), 1, at, count, 0);
                    first = last + 1;
                }
            }
            for c in group..=c {
                self.on_chip(owner(c));
                self.push(Op::Rq(Rq {
                    src: slot(c),
                    src_step: 1,
                    dst: out(c),
                    dst_step: out_step,
                    count: b,
                    param: w.param + c,
                }));
                let to = match gather {
                    Gather::Nowhere => 0..0,
                    Gather::FirstChip => 0..1,
                };
                self.send(owner(c), out(c), out_step, b, to);
            }
        }
        self.on_every_chip();
    }
}

/// Picks the next token from int8 logits: the largest (the first of equals) at temperature
/// 0, else a draw from `softmax(logits x scale / temperature)` with a seeded generator, so
/// that a run is repeatable and the golden model and the RTL sample alike.
pub struct Sampler {
    temperature: f64,
    scale: f64,
    rng: seeded::Rng,
}

impl Sampler {
    pub fn new(temperature: f64, seed: u64, logit_scale: f32) -> Result<Self, CompileError> {
        if !(temperature.is_finite() && temperature >= 0.0) {
            return Err(CompileError::Input(format!(
                "the temperature must be 0 or more, not {temperature}"
            )));
        }
        Ok(Sampler {
            temperature,
            scale: logit_scale as f64,
            rng: seeded::Rng::new(seed),
        })
    }

    pub fn next(&mut self, logits: &[i8]) -> usize {
        if self.temperature == 0.0 {
            return crate::model::argmax(logits);
        }
        let z: Vec<f64> = logits
            .iter()
            .map(|q| *q as f64 * self.scale / self.temperature)
            .collect();
        let max = z.iter().cloned().fold(f64::MIN, f64::max);
        let weights: Vec<f64> = z.iter().map(|v| (v - max).exp()).collect();
        let mut pick = self.rng.unit() * weights.iter().sum::<f64>();
        for (k, w) in weights.iter().enumerate() {
            if pick < *w {
                return k;
            }
            pick -= w;
        }
        weights.len() - 1
    }
}
