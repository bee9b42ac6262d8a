//! Metronome's model format: a directory with `model.toml` and `.npy` tensors, read into a
//! [`Model`]: a list of typed [`Layer`]s, each naming the tensors it reads.
//!
//! Format 1 (`metronome-model/1`) is a graph of int8 tensors over a feature vector: each layer
//! reads the layer before it, or names what it reads (`input = "fc1"`, or `"input"` for the
//! model's input). A stack of fully-connected layers:
//!
//! ```toml
//! format = "metronome-model/1"
//! name = "digits-mlp"
//!
//! [input]
//! features = 64
//! scale = 0.0627451          # real = (q - zero_point) * scale
//! zero_point = -128
//!
//! [[layers]]
//! name = "fc1"
//! kind = "fully_connected"
//! inputs = 64
//! outputs = 24
//! activation = "relu"                        # or "none", "relu6"
//! weights = "fc1.weights.npy"                # int8 [outputs, inputs], symmetric, in -127..=127
//! weight_scales = "fc1.weight_scales.npy"    # float32 [outputs] (per channel) or [1]
//! bias = "fc1.bias.npy"                      # int32 [outputs], scale input_scale * weight_scale
//! output_scale = 0.05
//! output_zero_point = -128
//! float_weights = "fc1.float_weights.npy"    # optional: float32 [outputs, inputs]
//! float_bias = "fc1.float_bias.npy"          # optional: float32 [outputs]
//!
//! [[layers]]
//! name = "act"
//! kind = "tanh"                              # or "logistic": TFLite's int8 table
//! output_scale = 0.0078125
//! output_zero_point = 0
//!
//! [[layers]]
//! name = "sum"
//! kind = "quantized_add"                     # or "quantized_mul": TFLite's int8 ADD, MUL
//! inputs = ["act", "fc1"]                   # two tensors of one width
//! activation = "none"                        # "relu", "relu6"
//! output_scale = 0.05
//! output_zero_point = 0
//!
//! [test]                                     # optional held-out split
//! inputs = "test_inputs.npy"                 # float32 (or integer) [samples, features]
//! labels = "test_labels.npy"                 # any integer type [samples]
//! ```
//!
//! Format 2 (`metronome-model/2`) reads tokens (`[input]` has `vocab`, `context` and
//! `symbols`; `[test]` a held-out `text`) and adds the layer kinds of a decoder-only
//! transformer: `embedding`, `rms_norm`, `attention`, `mlp` and `add`. Each layer names the
//! tensor it reads (`input`, or `inputs` for `add`) and is the tensor it makes (`name`);
//! `docs/transformer.md` has every kind's fields and numerics.
//!
//! The quantization scheme is TFLite's int8 one (see `docs/numerics.md`): per-channel symmetric
//! weights, asymmetric per-tensor activations, int32 bias. Everything is checked on load; a
//! malformed model is a [`ModelError`] that names the file or field and what is wrong.

pub mod float;
mod load;
mod save;
mod validate;

use std::path::PathBuf;

pub use load::{Embedded, Files, ModelSource, CHARLM, DIGITS_MLP, DIGITS_WIDE};
pub use save::INPUT_NAME;

/// The formats this version reads: feature models (int8 tensors over a feature vector) and
/// token models (the transformer's layers).
pub const FORMATS: [&str; 2] = ["metronome-model/1", "metronome-model/2"];

/// The widest layer input: `MAX_INPUTS * 127 * 255 < 2^31` (weights in -127..=127, inputs
/// with their zero point in -255..=255), so no dot product can wrap an int32 accumulator.
pub const MAX_INPUTS: usize = 65_000;

/// The longest context of a token model: a softmax's sum of up to `MAX_CONTEXT` entries of
/// 2^14 stays below 2^31.
pub const MAX_CONTEXT: usize = (1 << 17) - 1;

/// The widest residual stream of a token model: a norm's sum of up to `MAX_WIDTH` squares
/// of int8 values (at most 2^14) stays below 2^30, the range its normalisation assumes.
pub const MAX_WIDTH: usize = (1 << 16) - 1;

/// Per-tensor affine quantization: `real = (q - zero_point) * scale`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Quant {
    pub scale: f32,
    pub zero_point: i32,
}

impl Quant {
    /// TFLite's `Quantize`: divide in float32, round half away from zero, add the zero
    /// point, saturate to int8 (a float64 division rounds some ties the other way).
    pub fn quantize(&self, x: f32) -> i8 {
        let q = (x / self.scale).round() as f64 + self.zero_point as f64;
        q.clamp(-128.0, 127.0) as i8
    }
    pub fn dequantize(&self, q: i8) -> f32 {
        (q as i32 - self.zero_point) as f32 * self.scale
    }
}

/// A quantized model: its input, its layers in the order they run, and a held-out split.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    pub name: String,
    pub description: String,
    pub input: Input,
    pub layers: Vec<Layer>,
    pub test: Option<TestSet>,
}

/// What a model reads.
#[derive(Clone, Debug, PartialEq)]
pub enum Input {
    /// A vector of `features` int8 values (format 1).
    Features { features: usize, quant: Quant },
    /// Token ids, one position at a time (format 2).
    Tokens(Vocabulary),
}

/// A token model's symbols and context.
#[derive(Clone, Debug, PartialEq)]
pub struct Vocabulary {
    /// Token `k` is `symbols[k]`.
    pub symbols: Vec<char>,
    /// Positions the model attends over.
    pub context: usize,
}

impl Vocabulary {
    /// The token of `symbol`, if the vocabulary has it.
    pub fn token(&self, symbol: char) -> Option<usize> {
        self.symbols.iter().position(|s| *s == symbol)
    }
}

/// A model's held-out split.
#[derive(Clone, Debug, PartialEq)]
pub enum TestSet {
    /// Samples with their labels (format 1).
    Samples(Samples),
    /// Text in the model's symbols (format 2).
    Text(String),
}

/// Held-out samples with their labels.
#[derive(Clone, Debug, PartialEq)]
pub struct Samples {
    /// One row of `features` floats per sample.
    pub inputs: Vec<Vec<f32>>,
    pub labels: Vec<usize>,
}

/// Where a layer's operand comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// The model's input.
    Input,
    /// The output of the layer with this index, which runs earlier.
    Layer(usize),
}

impl Source {
    /// What layer `i` reads when it names nothing: the layer before it, or the input.
    pub fn before(i: usize) -> Source {
        match i {
            0 => Source::Input,
            _ => Source::Layer(i - 1),
        }
    }
}

/// One layer: a kind of computation with its weights and scales.
#[derive(Clone, Debug, PartialEq)]
pub enum Layer {
    /// `fully_connected`.
    Dense(Dense),
    /// `logistic`, `tanh`: a function of each int8 value, by a table.
    Table(Table),
    /// `quantized_add`, `quantized_mul`: TFLite's int8 ADD and MUL of two tensors.
    Elementwise(Elementwise),
    Embedding(Embedding),
    RmsNorm(RmsNorm),
    Attention(Attention),
    Mlp(Mlp),
    Add(Add),
}

impl Layer {
    pub fn name(&self) -> &str {
        match self {
            Layer::Dense(l) => &l.name,
            Layer::Table(l) => &l.name,
            Layer::Elementwise(l) => &l.name,
            Layer::Embedding(l) => &l.name,
            Layer::RmsNorm(l) => &l.name,
            Layer::Attention(l) => &l.name,
            Layer::Mlp(l) => &l.name,
            Layer::Add(l) => &l.name,
        }
    }

    /// The kind as `model.toml` spells it.
    pub fn kind(&self) -> &'static str {
        match self {
            Layer::Dense(_) => "fully_connected",
            Layer::Table(l) => l.function.kind(),
            Layer::Elementwise(l) => l.op.kind(),
            Layer::Embedding(_) => "embedding",
            Layer::RmsNorm(_) => "rms_norm",
            Layer::Attention(_) => "attention",
            Layer::Mlp(_) => "mlp",
            Layer::Add(_) => "add",
        }
    }

    /// The tensors the layer reads.
    pub fn sources(&self) -> Vec<Source> {
        match self {
            Layer::Dense(l) => vec![l.input],
            Layer::Table(l) => vec![l.input],
            Layer::Elementwise(l) => l.inputs.to_vec(),
            Layer::Embedding(_) => vec![Source::Input],
            Layer::RmsNorm(l) => vec![l.input],
            Layer::Attention(l) => vec![l.input],
            Layer::Mlp(l) => vec![l.input],
            Layer::Add(l) => l.inputs.clone(),
        }
    }

    /// Multiply-accumulates of the layer's weights for one sample or position (attention's
    /// products of activations with each other not counted).
    pub fn weight_macs(&self) -> u64 {
        let p = |w: &Projection| (w.inputs * w.outputs) as u64;
        match self {
            Layer::Dense(l) => (l.inputs * l.outputs) as u64,
            Layer::Attention(l) => [&l.wq, &l.wk, &l.wv, &l.wo].into_iter().map(p).sum(),
            Layer::Mlp(l) => p(&l.w1) + p(&l.w2),
            Layer::Table(_)
            | Layer::Elementwise(_)
            | Layer::Embedding(_)
            | Layer::RmsNorm(_)
            | Layer::Add(_) => 0,
        }
    }
}

/// A fully-connected layer, `y = act(W x + b)`, quantized.
#[derive(Clone, Debug, PartialEq)]
pub struct Dense {
    pub name: String,
    pub input: Source,
    pub inputs: usize,
    pub outputs: usize,
    /// Applied by the requantization clamp.
    pub activation: Clamp,
    /// `[outputs][inputs]`, row-major.
    pub weights: Vec<i8>,
    /// One per output channel, or one for the whole tensor (which TFLite rescales apart:
    /// [`Dense::multiplier`]).
    pub weight_scales: Vec<f32>,
    /// One per output channel, in units of `input_scale * weight_scale`.
    pub bias: Vec<i32>,
    pub output: Quant,
    /// The float layer the quantized one came from, if the model ships it.
    pub float: Option<FloatDense>,
}

impl Dense {
    /// Weight of input `k` for output `c`.
    pub fn weight(&self, c: usize, k: usize) -> i8 {
        self.weights[c * self.inputs + k]
    }

    /// The real requantization multiplier of output channel `c` for an input on
    /// `input_scale`, as TFLite's FULLY_CONNECTED computes it: per channel
    /// `s_in * s_w[c] / s_out` in float64; per tensor with the product `s_in * s_w` rounded to
    /// float32 first (on tie-heavy models the two differ).
    pub fn multiplier(&self, c: usize, input_scale: f32) -> f64 {
        let product = match self.weight_scales[..] {
            [per_tensor] => (input_scale * per_tensor) as f64,
            ref per_channel => input_scale as f64 * per_channel[c] as f64,
        };
        product / self.output.scale as f64
    }
}

/// The clamp of a layer's int8 output: TFLite's fused activations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clamp {
    None,
    Relu,
    Relu6,
}

impl Clamp {
    /// As `model.toml` spells them.
    pub const NAMES: [&'static str; 3] = ["none", "relu", "relu6"];
    const ALL: [Clamp; 3] = [Clamp::None, Clamp::Relu, Clamp::Relu6];

    pub fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }

    pub fn parse(name: &str) -> Option<Clamp> {
        Self::NAMES
            .iter()
            .position(|n| *n == name)
            .map(|i| Self::ALL[i])
    }

    /// The int8 bounds on `output`'s grid, as TFLite computes them: each real bound `f` at
    /// `zero_point + round(f / scale)` in float32, within -128..=127 (what Quantize does).
    pub fn bounds(self, output: Quant) -> (i32, i32) {
        let at = |f: f32| output.quantize(f) as i32;
        match self {
            Clamp::None => (-128, 127),
            Clamp::Relu => (at(0.0), 127),
            Clamp::Relu6 => (at(0.0), at(6.0)),
        }
    }
}

/// A function of each int8 value of a tensor, applied by a 256-entry table.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    pub name: String,
    pub input: Source,
    pub function: Function,
    pub output: Quant,
}

/// The functions a [`Table`] applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Function {
    Logistic,
    Tanh,
}

impl Function {
    pub fn kind(self) -> &'static str {
        match self {
            Function::Logistic => "logistic",
            Function::Tanh => "tanh",
        }
    }

    /// In float32, with the platform's `expf` and `tanhf`, as TFLite's kernels call them.
    pub fn apply(self, x: f32) -> f32 {
        match self {
            Function::Logistic => 1.0 / (1.0 + (-x).exp()),
            Function::Tanh => x.tanh(),
        }
    }
}

impl Table {
    /// The output for each input `v` in -128..=127 (entry `v + 128`) of an input on grid
    /// `input`, as TFLite's int8 LOGISTIC and TANH build their table: in float32,
    /// `round(f(s_in (v - zp_in)) * (1 / s_out)) + zp_out`, saturated.
    pub fn entries(&self, input: Quant) -> Vec<i8> {
        let inverse = 1.0 / self.output.scale;
        (-128..=127)
            .map(|v: i32| {
                let x = input.scale * (v - input.zero_point) as f32;
                let q = (self.function.apply(x) * inverse).round() as f64;
                (q + self.output.zero_point as f64).clamp(-128.0, 127.0) as i8
            })
            .collect()
    }
}

/// TFLite's int8 ADD or MUL of two tensors of one width, with a fused clamp.
#[derive(Clone, Debug, PartialEq)]
pub struct Elementwise {
    pub name: String,
    pub op: BinaryOp,
    pub inputs: [Source; 2],
    pub output: Quant,
    pub activation: Clamp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryOp {
    Add,
    Mul,
}

impl BinaryOp {
    pub fn kind(self) -> &'static str {
        match self {
            BinaryOp::Add => "quantized_add",
            BinaryOp::Mul => "quantized_mul",
        }
    }
}

/// How TFLite's reference kernel computes an [`Elementwise`] op, split where the chip splits
/// it: each input `v` becomes an int32 `widen[i][v + 128]` (a table), the two are added or
/// multiplied, and the result is requantized by `(multiplier, shift)` (a real multiplier
/// below 2^29) with the output's zero point and clamp.
#[derive(Clone, Debug, PartialEq)]
pub struct ElementwiseRecipe {
    pub widen: [Vec<i32>; 2],
    pub real_multiplier: f64,
}

impl Elementwise {
    /// TFLite's recipe for inputs on grids `a` and `b`. ADD: each input less its zero point,
    /// shifted left 20 and scaled by `s_i / (2 max(s_a, s_b))`, the sum then by
    /// `2 max / (2^20 s_out)`; MUL: the product of the inputs less their zero points, scaled
    /// by `s_a s_b / s_out` computed in float32. Every rescale is TFLite's
    /// `MultiplyByQuantizedMultiplier` (double rounding).
    pub fn recipe(&self, a: Quant, b: Quant) -> ElementwiseRecipe {
        use golden::numerics::{multiply_by_quantized_multiplier, quantize_multiplier};
        let offsets = |q: Quant, f: &dyn Fn(i32) -> i32| -> Vec<i32> {
            (-128..=127).map(|v: i32| f(v - q.zero_point)).collect()
        };
        match self.op {
            BinaryOp::Add => {
                const LEFT_SHIFT: u32 = 20;
                let twice_max = 2.0 * a.scale.max(b.scale) as f64;
                let widen = |q: Quant| {
                    let (m, shift) = quantize_multiplier(q.scale as f64 / twice_max);
                    offsets(q, &|x| {
                        multiply_by_quantized_multiplier(x << LEFT_SHIFT, m, shift)
                    })
                };
                ElementwiseRecipe {
                    widen: [widen(a), widen(b)],
                    real_multiplier: twice_max
                        / ((1u32 << LEFT_SHIFT) as f32 * self.output.scale) as f64,
                }
            }
            BinaryOp::Mul => ElementwiseRecipe {
                widen: [offsets(a, &|x| x), offsets(b, &|x| x)],
                real_multiplier: (a.scale * b.scale / self.output.scale) as f64,
            },
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct FloatDense {
    /// `[outputs][inputs]`, row-major.
    pub weights: Vec<f32>,
    pub bias: Vec<f32>,
}

/// An int8 weight matrix with a scale per output channel and no bias.
#[derive(Clone, Debug, PartialEq)]
pub struct Projection {
    pub inputs: usize,
    pub outputs: usize,
    /// `[outputs][inputs]`, row-major, in -127..=127.
    pub weights: Vec<i8>,
    /// One per output channel.
    pub scales: Vec<f32>,
}

impl Projection {
    /// Weight of input `k` for output `c`.
    pub fn weight(&self, c: usize, k: usize) -> i8 {
        self.weights[c * self.inputs + k]
    }
}

/// Token and position embeddings summed onto the residual stream's int32 grid.
#[derive(Clone, Debug, PartialEq)]
pub struct Embedding {
    pub name: String,
    /// The width of a row.
    pub width: usize,
    /// `[vocab][width]`, row-major.
    pub tokens: Vec<i8>,
    pub token_scale: f32,
    /// `[context][width]`, row-major.
    pub positions: Vec<i8>,
    pub position_scale: f32,
    /// The residual stream's grid.
    pub output_scale: f32,
}

/// `x / rms(x)` (the gain is folded into the weights that read it): reads the residual
/// stream as int8 on `input_scale`, writes int8 on `output_scale` (zero points 0).
#[derive(Clone, Debug, PartialEq)]
pub struct RmsNorm {
    pub name: String,
    pub input: Source,
    pub input_scale: f32,
    pub output_scale: f32,
}

/// Causal multi-head self-attention with its four projections, onto the residual grid.
#[derive(Clone, Debug, PartialEq)]
pub struct Attention {
    pub name: String,
    pub input: Source,
    pub heads: usize,
    pub wq: Projection,
    pub wk: Projection,
    pub wv: Projection,
    pub wo: Projection,
    pub q_scale: f32,
    pub k_scale: f32,
    pub v_scale: f32,
    /// The int8 scores' grid: that of `q . k / sqrt(head width)`.
    pub scores_scale: f32,
    /// Attention x V, int8.
    pub context_scale: f32,
    /// The residual stream's grid.
    pub output_scale: f32,
}

/// The elementwise nonlinearity of an [`Mlp`], applied by a table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    /// GELU, tanh form.
    Gelu,
}

impl Activation {
    /// The function itself, in f64 (the compiler builds the table from it; the float model
    /// runs it).
    pub fn apply(self, x: f64) -> f64 {
        match self {
            Activation::Gelu => {
                0.5 * x * (1.0 + (0.7978845608028654 * (x + 0.044715 * x * x * x)).tanh())
            }
        }
    }
}

/// `w2 act(w1 x)`, onto the residual grid.
#[derive(Clone, Debug, PartialEq)]
pub struct Mlp {
    pub name: String,
    pub input: Source,
    pub w1: Projection,
    pub hidden_scale: f32,
    pub activation: Activation,
    pub activation_scale: f32,
    pub w2: Projection,
    /// The residual stream's grid.
    pub output_scale: f32,
}

/// The sum of residual-stream tensors, all on the output's grid.
#[derive(Clone, Debug, PartialEq)]
pub struct Add {
    pub name: String,
    pub inputs: Vec<Source>,
    pub output_scale: f32,
}

/// A model of int8 tensors over a feature vector (format 1): what [`crate::compile`] lowers.
/// Each layer is fully-connected, a table or elementwise, and reads tensors made before it.
#[derive(Clone, Debug)]
pub struct FeatureGraph<'a> {
    pub features: usize,
    pub input: Quant,
    pub layers: &'a [Layer],
    /// Each layer's output tensor: its width and grid.
    tensors: Vec<(usize, Quant)>,
}

impl<'a> FeatureGraph<'a> {
    /// The width of tensor `s`.
    pub fn width(&self, s: Source) -> usize {
        match s {
            Source::Input => self.features,
            Source::Layer(l) => self.tensors[l].0,
        }
    }

    /// The grid of tensor `s`.
    pub fn quant(&self, s: Source) -> Quant {
        match s {
            Source::Input => self.input,
            Source::Layer(l) => self.tensors[l].1,
        }
    }

    /// The fully-connected layers in order.
    pub fn dense(&self) -> impl Iterator<Item = &'a Dense> + '_ {
        self.layers.iter().filter_map(|l| match l {
            Layer::Dense(d) => Some(d),
            _ => None,
        })
    }

    /// Whether every layer is fully-connected and reads the one before: the graphs a system
    /// of chips splits.
    pub fn is_stack(&self) -> bool {
        self.layers
            .iter()
            .enumerate()
            .all(|(i, l)| matches!(l, Layer::Dense(d) if d.input == Source::before(i)))
    }
}

/// A malformed model, naming what is wrong.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {message}", path.display())]
    File { path: PathBuf, message: String },
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
}

fn invalid(field: impl Into<String>, message: impl Into<String>) -> ModelError {
    ModelError::Invalid {
        field: field.into(),
        message: message.into(),
    }
}

impl Model {
    /// Loads and checks the model in directory `dir`.
    pub fn load(dir: &std::path::Path) -> Result<Model, ModelError> {
        if !dir.is_dir() {
            return Err(ModelError::File {
                path: dir.to_path_buf(),
                message: "not a directory (a model is a directory holding model.toml)".into(),
            });
        }
        load::load_from(dir)
    }

    /// Loads and checks a model from any source.
    pub fn load_from(src: &(impl ModelSource + ?Sized)) -> Result<Model, ModelError> {
        load::load_from(src)
    }

    /// The shipped digits model.
    pub fn digits() -> Model {
        load::load_from(&DIGITS_MLP).expect("the built-in model is valid")
    }

    /// The shipped wider digits MLP, too big for one `small` chip.
    pub fn digits_wide() -> Model {
        load::load_from(&DIGITS_WIDE).expect("the built-in model is valid")
    }

    /// The shipped language model.
    pub fn charlm() -> Model {
        load::load_from(&CHARLM).expect("the built-in model is valid")
    }

    /// The model as a graph of int8 tensors over a feature vector, or what makes it not one.
    /// Its layers must have been validated ([`Model::validate`]).
    pub fn feature_graph(&self) -> Result<FeatureGraph<'_>, String> {
        let Input::Features { features, quant } = self.input else {
            return Err(format!("{} reads tokens, not a feature vector", self.name));
        };
        let mut graph = FeatureGraph {
            features,
            input: quant,
            layers: &self.layers,
            tensors: Vec::with_capacity(self.layers.len()),
        };
        for (i, l) in self.layers.iter().enumerate() {
            if let Some(later) = l
                .sources()
                .into_iter()
                .find(|s| matches!(s, Source::Layer(j) if *j >= i))
            {
                return Err(format!(
                    "layer {} reads {later:?}, which does not run before it",
                    l.name()
                ));
            }
            let output = match l {
                Layer::Dense(d) => (d.outputs, d.output),
                Layer::Table(t) => (graph.width(t.input), t.output),
                Layer::Elementwise(e) => (graph.width(e.inputs[0]), e.output),
                other => {
                    return Err(format!(
                        "layer {} is {}, which a feature model does not have",
                        other.name(),
                        other.kind()
                    ))
                }
            };
            graph.tensors.push(output);
        }
        Ok(graph)
    }

    /// The name `model.toml` gives tensor `s`: a layer's, or [`INPUT_NAME`].
    pub fn tensor_name(&self, s: Source) -> &str {
        match s {
            Source::Input => INPUT_NAME,
            Source::Layer(l) => self.layers[l].name(),
        }
    }

    /// The held-out samples, if the model ships them.
    pub fn samples(&self) -> Option<&Samples> {
        match &self.test {
            Some(TestSet::Samples(s)) => Some(s),
            _ => None,
        }
    }

    /// Output values per sample or position (the last layer's width).
    pub fn outputs(&self) -> usize {
        match self.layers.last() {
            Some(Layer::Dense(d)) => d.outputs,
            Some(Layer::Table(_) | Layer::Elementwise(_)) => self
                .feature_graph()
                .map_or(0, |g| g.width(Source::Layer(self.layers.len() - 1))),
            Some(Layer::Embedding(e)) => e.width,
            Some(Layer::Attention(a)) => a.wo.outputs,
            Some(Layer::Mlp(m)) => m.w2.outputs,
            Some(Layer::RmsNorm(_) | Layer::Add(_)) | None => 0,
        }
    }

    /// The grid of a feature model's outputs.
    pub fn output_quant(&self) -> Option<Quant> {
        let graph = self.feature_graph().ok()?;
        Some(graph.quant(Source::Layer(self.layers.len() - 1)))
    }

    /// The quantized input of one sample of a feature model.
    pub fn quantize_input(&self, x: &[f32]) -> Vec<i8> {
        match &self.input {
            Input::Features { quant, .. } => x.iter().map(|v| quant.quantize(*v)).collect(),
            Input::Tokens(_) => Vec::new(),
        }
    }

    /// The float model's outputs for one sample of a dense stack, if every layer ships its
    /// float weights.
    pub fn forward_float(&self, x: &[f32]) -> Option<Vec<f32>> {
        let graph = self.feature_graph().ok().filter(FeatureGraph::is_stack)?;
        let mut act = x.to_vec();
        for l in graph.dense() {
            let f = l.float.as_ref()?;
            act = (0..l.outputs)
                .map(|c| {
                    let row = &f.weights[c * l.inputs..(c + 1) * l.inputs];
                    let y = f.bias[c] + row.iter().zip(&act).map(|(w, x)| w * x).sum::<f32>();
                    match l.activation {
                        Clamp::None => y,
                        Clamp::Relu => y.max(0.0),
                        Clamp::Relu6 => y.clamp(0.0, 6.0),
                    }
                })
                .collect();
        }
        Some(act)
    }

    /// Multiply-accumulates of the weights for one sample or position.
    pub fn macs_per_sample(&self) -> u64 {
        self.layers.iter().map(Layer::weight_macs).sum()
    }
}

/// Index of the largest value; the first one on a tie.
pub fn argmax<T: PartialOrd + Copy>(values: &[T]) -> usize {
    let mut best = 0;
    for (i, v) in values.iter().enumerate() {
        if *v > values[best] {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clamp_bounds_are_tflites_and_never_overflow() {
        let q = |scale, zero_point| Quant { scale, zero_point };
        assert_eq!(Clamp::None.bounds(q(0.1, 3)), (-128, 127));
        assert_eq!(Clamp::Relu.bounds(q(0.1, 3)), (3, 127));
        // 6 / 0.1 = 60 (in float32): 3 + 60.
        assert_eq!(Clamp::Relu6.bounds(q(0.1, 3)), (3, 63));
        assert_eq!(Clamp::Relu6.bounds(q(1.0, 125)), (125, 127));
        // A scale so small that 6 / scale saturates any integer (found in review).
        assert_eq!(Clamp::Relu6.bounds(q(1e-30, 5)), (5, 127));
        assert_eq!(Clamp::Relu6.bounds(q(f32::MIN_POSITIVE, 127)), (127, 127));
    }

    #[test]
    fn table_entries_saturate_whatever_the_grids() {
        let table = |output: Quant| Table {
            name: "t".into(),
            input: Source::Input,
            function: Function::Tanh,
            output,
        };
        let input = Quant {
            scale: 0.05,
            zero_point: 0,
        };
        let tiny = table(Quant {
            scale: 1e-30,
            zero_point: 100,
        });
        let entries = tiny.entries(input);
        assert_eq!((entries[0], entries[128], entries[255]), (-128, 100, 127));
        // TFLite's int8 TANH grid: tanh(0.05 * 127) * 128 = 127.99.. rounds to 128, saturated.
        let tanh = table(Quant {
            scale: 1.0 / 128.0,
            zero_point: 0,
        });
        assert_eq!(tanh.entries(input)[255], 127);
        assert_eq!(tanh.entries(input)[128 + 10], 59); // round(tanh(0.5) * 128) = round(59.14)
    }
}
