//! Reading a model directory (or files built into the binary) into a [`Model`]: the TOML's
//! fields by format, every tensor's file, dtype and shape; [`Model::validate`] then checks
//! how the layers fit together.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::*;
use crate::npy::{self, Data};

/// Only the `format` field of a model file, whatever else it holds.
#[derive(Deserialize)]
struct FormatOnly {
    format: String,
}

/// `model.toml`, with the input and test sections of its format.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelFile<I, T> {
    /// Checked first, through [`FormatOnly`].
    #[serde(rename = "format")]
    _format: String,
    name: String,
    #[serde(default)]
    description: String,
    input: I,
    layers: Vec<LayerFile>,
    test: Option<T>,
}

/// Format 1's input: a feature vector.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FeaturesFile {
    features: usize,
    scale: f64,
    zero_point: i64,
}

/// Format 2's input: tokens.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokensFile {
    vocab: usize,
    context: usize,
    symbols: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SamplesFile {
    inputs: String,
    labels: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TextFile {
    text: String,
}

/// A layer, by its `kind`.
#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum LayerFile {
    FullyConnected(DenseFile),
    Logistic(TableFile),
    Tanh(TableFile),
    QuantizedAdd(ElementwiseFile),
    QuantizedMul(ElementwiseFile),
    Embedding(EmbeddingFile),
    RmsNorm(NormFile),
    Attention(AttentionFile),
    Mlp(MlpFile),
    Add(AddFile),
}

impl LayerFile {
    /// Whether format 1 (feature models) has this kind.
    fn in_feature_models(&self) -> bool {
        matches!(
            self,
            LayerFile::FullyConnected(_)
                | LayerFile::Logistic(_)
                | LayerFile::Tanh(_)
                | LayerFile::QuantizedAdd(_)
                | LayerFile::QuantizedMul(_)
        )
    }

    fn name(&self) -> &str {
        match self {
            LayerFile::FullyConnected(l) => &l.name,
            LayerFile::Logistic(l) | LayerFile::Tanh(l) => &l.name,
            LayerFile::QuantizedAdd(l) | LayerFile::QuantizedMul(l) => &l.name,
            LayerFile::Embedding(l) => &l.name,
            LayerFile::RmsNorm(l) => &l.name,
            LayerFile::Attention(l) => &l.name,
            LayerFile::Mlp(l) => &l.name,
            LayerFile::Add(l) => &l.name,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DenseFile {
    name: String,
    /// The tensor read; without it, the layer before.
    input: Option<String>,
    inputs: usize,
    outputs: usize,
    activation: String,
    weights: String,
    weight_scales: String,
    bias: String,
    output_scale: f64,
    output_zero_point: i64,
    float_weights: Option<String>,
    float_bias: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TableFile {
    name: String,
    input: Option<String>,
    output_scale: f64,
    output_zero_point: i64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ElementwiseFile {
    name: String,
    inputs: [String; 2],
    output_scale: f64,
    output_zero_point: i64,
    activation: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EmbeddingFile {
    name: String,
    tokens: String,
    token_scale: f64,
    positions: String,
    position_scale: f64,
    output_scale: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NormFile {
    name: String,
    input: Option<String>,
    input_scale: f64,
    output_scale: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AttentionFile {
    name: String,
    input: Option<String>,
    heads: usize,
    wq: String,
    wq_scales: String,
    wk: String,
    wk_scales: String,
    wv: String,
    wv_scales: String,
    wo: String,
    wo_scales: String,
    q_scale: f64,
    k_scale: f64,
    v_scale: f64,
    scores_scale: f64,
    context_scale: f64,
    output_scale: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MlpFile {
    name: String,
    input: Option<String>,
    w1: String,
    w1_scales: String,
    hidden_scale: f64,
    activation: String,
    activation_scale: f64,
    w2: String,
    w2_scales: String,
    output_scale: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AddFile {
    name: String,
    inputs: Vec<String>,
    output_scale: f64,
}

/// Where a model's files come from: a directory, or files built into the binary.
pub trait ModelSource {
    /// The file's bytes.
    fn read(&self, name: &str) -> Result<Vec<u8>, ModelError>;
    /// The file's path, for messages.
    fn path(&self, name: &str) -> PathBuf;
}

impl ModelSource for Path {
    fn read(&self, name: &str) -> Result<Vec<u8>, ModelError> {
        let path = self.join(name);
        std::fs::read(&path).map_err(|source| ModelError::Read { path, source })
    }
    fn path(&self, name: &str) -> PathBuf {
        self.join(name)
    }
}

/// Files held in memory, by name.
pub struct Embedded(pub &'static [(&'static str, &'static [u8])]);

impl ModelSource for Embedded {
    fn read(&self, name: &str) -> Result<Vec<u8>, ModelError> {
        let file = self.0.iter().find(|(n, _)| *n == name);
        found(self, name, file.map(|(_, bytes)| *bytes))
    }
    fn path(&self, name: &str) -> PathBuf {
        Path::new("<built-in model>").join(name)
    }
}

/// A model's files in memory, `(name, bytes)`: what [`Model::files`] makes.
pub struct Files(pub Vec<(String, Vec<u8>)>);

impl ModelSource for Files {
    fn read(&self, name: &str) -> Result<Vec<u8>, ModelError> {
        let file = self.0.iter().find(|(n, _)| n == name);
        found(self, name, file.map(|(_, bytes)| &bytes[..]))
    }
    fn path(&self, name: &str) -> PathBuf {
        Path::new("<in memory>").join(name)
    }
}

/// The bytes of file `name` of `src`, if it has one.
fn found(
    src: &(impl ModelSource + ?Sized),
    name: &str,
    bytes: Option<&[u8]>,
) -> Result<Vec<u8>, ModelError> {
    bytes.map(<[u8]>::to_vec).ok_or_else(|| ModelError::Read {
        path: src.path(name),
        source: std::io::ErrorKind::NotFound.into(),
    })
}

/// The files `$name...` of the model directory `models/$dir`, built into the binary.
macro_rules! model_files {
    ($dir:literal: $($name:literal),* $(,)?) => {
        &[$(($name, include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/../models/", $dir, "/", $name)))),*]
    };
}

/// The shipped digits MLP (`models/digits-mlp`), built into the binary.
pub const DIGITS_MLP: Embedded = Embedded(model_files!("digits-mlp":
    "model.toml",
    "fc1.weights.npy",
    "fc1.weight_scales.npy",
    "fc1.bias.npy",
    "fc1.float_weights.npy",
    "fc1.float_bias.npy",
    "fc2.weights.npy",
    "fc2.weight_scales.npy",
    "fc2.bias.npy",
    "fc2.float_weights.npy",
    "fc2.float_bias.npy",
    "test_inputs.npy",
    "test_labels.npy",
));

/// A wider digits MLP (`models/digits-wide`, 64-256-128-10), built into the binary: too big
/// for one `small` chip, the model the system benchmarks split over chips.
pub const DIGITS_WIDE: Embedded = Embedded(model_files!("digits-wide":
    "model.toml",
    "fc1.weights.npy",
    "fc1.weight_scales.npy",
    "fc1.bias.npy",
    "fc1.float_weights.npy",
    "fc1.float_bias.npy",
    "fc2.weights.npy",
    "fc2.weight_scales.npy",
    "fc2.bias.npy",
    "fc2.float_weights.npy",
    "fc2.float_bias.npy",
    "fc3.weights.npy",
    "fc3.weight_scales.npy",
    "fc3.bias.npy",
    "fc3.float_weights.npy",
    "fc3.float_bias.npy",
    "test_inputs.npy",
    "test_labels.npy",
));

/// The shipped language model (`models/charlm`), its float weights and held-out text
/// included, built into the binary.
pub const CHARLM: Embedded = Embedded(model_files!("charlm":
    "b0.attn.wk.npy",
    "b0.attn.wk_scales.npy",
    "b0.attn.wo.npy",
    "b0.attn.wo_scales.npy",
    "b0.attn.wq.npy",
    "b0.attn.wq_scales.npy",
    "b0.attn.wv.npy",
    "b0.attn.wv_scales.npy",
    "b0.mlp.w1.npy",
    "b0.mlp.w1_scales.npy",
    "b0.mlp.w2.npy",
    "b0.mlp.w2_scales.npy",
    "b0.norm1.float.npy",
    "b0.norm2.float.npy",
    "b0.w1.float.npy",
    "b0.w2.float.npy",
    "b0.wk.float.npy",
    "b0.wo.float.npy",
    "b0.wq.float.npy",
    "b0.wv.float.npy",
    "b1.attn.wk.npy",
    "b1.attn.wk_scales.npy",
    "b1.attn.wo.npy",
    "b1.attn.wo_scales.npy",
    "b1.attn.wq.npy",
    "b1.attn.wq_scales.npy",
    "b1.attn.wv.npy",
    "b1.attn.wv_scales.npy",
    "b1.mlp.w1.npy",
    "b1.mlp.w1_scales.npy",
    "b1.mlp.w2.npy",
    "b1.mlp.w2_scales.npy",
    "b1.norm1.float.npy",
    "b1.norm2.float.npy",
    "b1.w1.float.npy",
    "b1.w2.float.npy",
    "b1.wk.float.npy",
    "b1.wo.float.npy",
    "b1.wq.float.npy",
    "b1.wv.float.npy",
    "embed.positions.npy",
    "embed.tokens.npy",
    "float.json",
    "held_out.txt",
    "logits.bias.npy",
    "logits.weight_scales.npy",
    "logits.weights.npy",
    "model.toml",
    "norm.float.npy",
    "out.float.npy",
    "pos.float.npy",
    "tok.float.npy",
));

/// Loads and checks a model from any source: the format first, then its fields.
pub(super) fn load_from(src: &(impl ModelSource + ?Sized)) -> Result<Model, ModelError> {
    let text = src.read("model.toml")?;
    let toml_error = |message: String| ModelError::File {
        path: src.path("model.toml"),
        message,
    };
    let text = String::from_utf8(text).map_err(|_| toml_error("not UTF-8 text".into()))?;
    // The format first: another format's fields are not this one's mistakes.
    let format: FormatOnly = toml::from_str(&text).map_err(|e| toml_error(e.to_string()))?;
    let model = if format.format == FORMATS[0] {
        let file: ModelFile<FeaturesFile, SamplesFile> =
            toml::from_str(&text).map_err(|e| toml_error(e.to_string()))?;
        let input = Input::Features {
            features: file.input.features,
            quant: Quant {
                scale: f32_scale("input.scale", file.input.scale)?,
                zero_point: zero_point("input.zero_point", file.input.zero_point)?,
            },
        };
        let test = match &file.test {
            None => None,
            Some(t) => Some(TestSet::Samples(load_samples(src, t, file.input.features)?)),
        };
        let layers = load_layers(src, &file.layers, false)?;
        Model {
            name: file.name,
            description: file.description,
            input,
            layers,
            test,
        }
    } else if format.format == FORMATS[1] {
        let file: ModelFile<TokensFile, TextFile> =
            toml::from_str(&text).map_err(|e| toml_error(e.to_string()))?;
        let symbols: Vec<char> = file.input.symbols.chars().collect();
        if symbols.len() != file.input.vocab {
            return Err(invalid(
                "input.symbols",
                format!(
                    "has {} symbols, but input.vocab is {}",
                    symbols.len(),
                    file.input.vocab
                ),
            ));
        }
        let input = Input::Tokens(Vocabulary {
            symbols,
            context: file.input.context,
        });
        let test = match &file.test {
            None => None,
            Some(t) => Some(TestSet::Text(load_text(src, &t.text)?)),
        };
        let layers = load_layers(src, &file.layers, true)?;
        Model {
            name: file.name,
            description: file.description,
            input,
            layers,
            test,
        }
    } else {
        return Err(invalid(
            "format",
            format!(
                "{:?} is not supported (this version reads {})",
                format.format,
                FORMATS.map(|f| format!("{f:?}")).join(" and ")
            ),
        ));
    };
    model.validate()?;
    Ok(model)
}

fn f32_scale(field: &str, value: f64) -> Result<f32, ModelError> {
    let s = value as f32;
    if s.is_finite() && s > 0.0 {
        Ok(s)
    } else {
        Err(invalid(
            field,
            format!("is {value}; scales must be positive and finite"),
        ))
    }
}

fn zero_point(field: &str, value: i64) -> Result<i32, ModelError> {
    if (-128..=127).contains(&value) {
        Ok(value as i32)
    } else {
        Err(invalid(
            field,
            format!("is {value}; it must be in -128..=127"),
        ))
    }
}

/// The layers of `files`, their inputs resolved by name; format 1 (`tokens` false) has the
/// kinds of feature models, format 2 those of token models.
fn load_layers(
    src: &(impl ModelSource + ?Sized),
    files: &[LayerFile],
    tokens: bool,
) -> Result<Vec<Layer>, ModelError> {
    let mut layers = Vec::with_capacity(files.len());
    for (i, l) in files.iter().enumerate() {
        let at = |f: &str| format!("layers[{i}] ({}).{f}", l.name());
        // A name, resolved to a layer that runs earlier (`validate` refuses two layers of one
        // name).
        let source = |field: &str, name: &str| -> Result<Source, ModelError> {
            if name == INPUT_NAME {
                return Ok(Source::Input);
            }
            match files.iter().position(|k| k.name() == name) {
                Some(j) if j < i => Ok(Source::Layer(j)),
                Some(j) => Err(invalid(
                    at(field),
                    format!("reads {name:?}, which layers[{j}] makes later"),
                )),
                None => Err(invalid(at(field), format!("no layer is named {name:?}"))),
            }
        };
        // `input`, or the layer before when it is left out.
        let input = |name: &Option<String>| match name {
            Some(name) => source("input", name),
            None => Ok(Source::before(i)),
        };
        if !tokens && !l.in_feature_models() {
            return Err(invalid(
                at("kind"),
                format!(
                    "format {:?} has \"fully_connected\", \"logistic\", \"tanh\", \
                     \"quantized_add\" and \"quantized_mul\" layers",
                    FORMATS[0]
                ),
            ));
        }
        if tokens && l.in_feature_models() && !matches!(l, LayerFile::FullyConnected(_)) {
            return Err(invalid(
                at("kind"),
                format!("is a kind of format {:?} (feature models)", FORMATS[0]),
            ));
        }
        let quant = |scale: f64, zero_point: i64| -> Result<Quant, ModelError> {
            Ok(Quant {
                scale: f32_scale(&at("output_scale"), scale)?,
                zero_point: self::zero_point(&at("output_zero_point"), zero_point)?,
            })
        };
        let clamp = |name: &str| {
            Clamp::parse(name).ok_or_else(|| {
                invalid(
                    at("activation"),
                    format!("{name:?} is not supported ({})", Clamp::NAMES.join(", ")),
                )
            })
        };
        let projection =
            |field: &str, weights: &str, scales: &str, outputs: usize, inputs: usize| {
                load_projection(src, &at(field), weights, scales, outputs, inputs)
            };
        let layer = match l {
            LayerFile::FullyConnected(f) => Layer::Dense(load_dense(
                src,
                f,
                input(&f.input)?,
                clamp(&f.activation)?,
                quant(f.output_scale, f.output_zero_point)?,
                &at,
            )?),
            LayerFile::Logistic(f) | LayerFile::Tanh(f) => Layer::Table(Table {
                name: f.name.clone(),
                input: input(&f.input)?,
                function: if matches!(l, LayerFile::Logistic(_)) {
                    Function::Logistic
                } else {
                    Function::Tanh
                },
                output: quant(f.output_scale, f.output_zero_point)?,
            }),
            LayerFile::QuantizedAdd(f) | LayerFile::QuantizedMul(f) => {
                Layer::Elementwise(Elementwise {
                    name: f.name.clone(),
                    op: if matches!(l, LayerFile::QuantizedAdd(_)) {
                        BinaryOp::Add
                    } else {
                        BinaryOp::Mul
                    },
                    inputs: [
                        source("inputs", &f.inputs[0])?,
                        source("inputs", &f.inputs[1])?,
                    ],
                    output: quant(f.output_scale, f.output_zero_point)?,
                    activation: clamp(&f.activation)?,
                })
            }
            LayerFile::Embedding(f) => {
                let (tokens, width) = int8_matrix(src, &f.tokens, None)?;
                let (positions, _) = int8_matrix(src, &f.positions, Some(width))?;
                Layer::Embedding(Embedding {
                    name: f.name.clone(),
                    width,
                    tokens,
                    token_scale: f32_scale(&at("token_scale"), f.token_scale)?,
                    positions,
                    position_scale: f32_scale(&at("position_scale"), f.position_scale)?,
                    output_scale: f32_scale(&at("output_scale"), f.output_scale)?,
                })
            }
            LayerFile::RmsNorm(f) => Layer::RmsNorm(RmsNorm {
                name: f.name.clone(),
                input: input(&f.input)?,
                input_scale: f32_scale(&at("input_scale"), f.input_scale)?,
                output_scale: f32_scale(&at("output_scale"), f.output_scale)?,
            }),
            LayerFile::Attention(f) => {
                // Q, K, V and the output are square; the first one read fixes the width.
                let wq = projection("wq", &f.wq, &f.wq_scales, 0, 0)?;
                let d = wq.inputs;
                Layer::Attention(Attention {
                    name: f.name.clone(),
                    input: input(&f.input)?,
                    heads: f.heads,
                    wk: projection("wk", &f.wk, &f.wk_scales, d, d)?,
                    wv: projection("wv", &f.wv, &f.wv_scales, d, d)?,
                    wo: projection("wo", &f.wo, &f.wo_scales, d, d)?,
                    wq,
                    q_scale: f32_scale(&at("q_scale"), f.q_scale)?,
                    k_scale: f32_scale(&at("k_scale"), f.k_scale)?,
                    v_scale: f32_scale(&at("v_scale"), f.v_scale)?,
                    scores_scale: f32_scale(&at("scores_scale"), f.scores_scale)?,
                    context_scale: f32_scale(&at("context_scale"), f.context_scale)?,
                    output_scale: f32_scale(&at("output_scale"), f.output_scale)?,
                })
            }
            LayerFile::Mlp(f) => {
                let activation = match f.activation.as_str() {
                    "gelu" => Activation::Gelu,
                    other => {
                        return Err(invalid(
                            at("activation"),
                            format!("{other:?} is not supported (\"gelu\")"),
                        ))
                    }
                };
                let w1 = projection("w1", &f.w1, &f.w1_scales, 0, 0)?;
                let (h, d) = (w1.outputs, w1.inputs);
                Layer::Mlp(Mlp {
                    name: f.name.clone(),
                    input: input(&f.input)?,
                    w2: projection("w2", &f.w2, &f.w2_scales, d, h)?,
                    w1,
                    hidden_scale: f32_scale(&at("hidden_scale"), f.hidden_scale)?,
                    activation,
                    activation_scale: f32_scale(&at("activation_scale"), f.activation_scale)?,
                    output_scale: f32_scale(&at("output_scale"), f.output_scale)?,
                })
            }
            LayerFile::Add(f) => Layer::Add(Add {
                name: f.name.clone(),
                inputs: f
                    .inputs
                    .iter()
                    .map(|name| source("inputs", name))
                    .collect::<Result<_, _>>()?,
                output_scale: f32_scale(&at("output_scale"), f.output_scale)?,
            }),
        };
        layers.push(layer);
    }
    Ok(layers)
}

fn load_dense(
    src: &(impl ModelSource + ?Sized),
    l: &DenseFile,
    input: Source,
    activation: Clamp,
    output: Quant,
    at: &dyn Fn(&str) -> String,
) -> Result<Dense, ModelError> {
    let (o, k) = (l.outputs, l.inputs);
    let weights = match tensor(src, &l.weights, &[o, k])? {
        Data::I8(v) => v,
        other => return Err(wrong_dtype(src, &l.weights, "int8", &other)),
    };
    // One scale a channel, or one for the tensor (the file is read for its shape first).
    let per_tensor = npy_file(src, &l.weight_scales)?.shape == [1];
    let weight_scales = float_tensor(src, &l.weight_scales, &[if per_tensor { 1 } else { o }])?;
    let bias = match tensor(src, &l.bias, &[o])? {
        Data::I32(v) => v,
        other => return Err(wrong_dtype(src, &l.bias, "int32", &other)),
    };
    let float = match (&l.float_weights, &l.float_bias) {
        (None, None) => None,
        (Some(w), Some(b)) => Some(FloatDense {
            weights: float_tensor(src, w, &[o, k])?,
            bias: float_tensor(src, b, &[o])?,
        }),
        _ => {
            return Err(invalid(
                at("float_weights"),
                "float_weights and float_bias come together or not at all",
            ))
        }
    };
    Ok(Dense {
        name: l.name.clone(),
        input,
        inputs: k,
        outputs: o,
        activation,
        weights,
        weight_scales,
        bias,
        output,
        float,
    })
}

/// An int8 `[rows, columns]` tensor, row-major, and its columns; `columns` fixes them.
fn int8_matrix(
    src: &(impl ModelSource + ?Sized),
    name: &str,
    columns: Option<usize>,
) -> Result<(Vec<i8>, usize), ModelError> {
    let a = npy_file(src, name)?;
    let cols = match (a.shape.as_slice(), columns) {
        ([_, c], None) => *c,
        ([_, c], Some(want)) if *c == want => want,
        (_, want) => {
            let want = want.map_or("[rows, columns]".into(), |c| format!("[rows, {c}]"));
            return Err(wrong_shape(src, name, &want, &a.shape));
        }
    };
    match a.data {
        Data::I8(v) => Ok((v, cols)),
        other => Err(wrong_dtype(src, name, "int8", &other)),
    }
}

/// A weight matrix `[outputs, inputs]` and its per-channel scales; a zero size takes the
/// file's.
fn load_projection(
    src: &(impl ModelSource + ?Sized),
    field: &str,
    weights: &str,
    scales: &str,
    outputs: usize,
    inputs: usize,
) -> Result<Projection, ModelError> {
    let a = npy_file(src, weights)?;
    let (o, k) = match a.shape.as_slice() {
        [o, k] if (outputs == 0 || *o == outputs) && (inputs == 0 || *k == inputs) => (*o, *k),
        _ => {
            let dim = |n: usize| {
                if n == 0 {
                    "_".to_string()
                } else {
                    n.to_string()
                }
            };
            let want = format!("[{}, {}] ([outputs, inputs])", dim(outputs), dim(inputs));
            return Err(wrong_shape(src, weights, &want, &a.shape));
        }
    };
    let weights_data = match a.data {
        Data::I8(v) => v,
        other => return Err(wrong_dtype(src, weights, "int8", &other)),
    };
    if o == 0 || k == 0 {
        return Err(invalid(field, "an empty weight matrix"));
    }
    Ok(Projection {
        inputs: k,
        outputs: o,
        weights: weights_data,
        scales: float_tensor(src, scales, &[o])?,
    })
}

/// The held-out text, a UTF-8 file.
fn load_text(src: &(impl ModelSource + ?Sized), name: &str) -> Result<String, ModelError> {
    check_name(name)?;
    String::from_utf8(src.read(name)?).map_err(|_| ModelError::File {
        path: src.path(name),
        message: "not UTF-8 text".into(),
    })
}
fn load_samples(
    src: &(impl ModelSource + ?Sized),
    t: &SamplesFile,
    features: usize,
) -> Result<Samples, ModelError> {
    let inputs = match npy_file(src, &t.inputs)? {
        npy::Array { shape, data } if shape.len() == 2 && shape[1] == features => {
            let flat: Vec<f32> = match data {
                Data::F32(v) => v,
                Data::F64(v) => v.into_iter().map(|x| x as f32).collect(),
                // Integer pixel values are stored exactly as integers.
                Data::I8(v) => v.into_iter().map(f32::from).collect(),
                Data::I32(v) => v.into_iter().map(|x| x as f32).collect(),
                Data::I64(v) => v.into_iter().map(|x| x as f32).collect(),
            };
            flat.chunks(features.max(1)).map(<[f32]>::to_vec).collect()
        }
        a => return Err(wrong_shape(src, &t.inputs, "[samples, features]", &a.shape)),
    };
    let labels = npy_file(src, &t.labels)?;
    if labels.shape.len() != 1 {
        return Err(wrong_shape(src, &t.labels, "[samples]", &labels.shape));
    }
    let labels: Vec<i64> = match labels.data {
        Data::I8(v) => v.into_iter().map(i64::from).collect(),
        Data::I32(v) => v.into_iter().map(i64::from).collect(),
        Data::I64(v) => v,
        other => return Err(wrong_dtype(src, &t.labels, "an integer type", &other)),
    };
    let labels = labels
        .iter()
        .map(|l| usize::try_from(*l))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| ModelError::File {
            path: src.path(&t.labels),
            message: "labels must not be negative".into(),
        })?;
    Ok(Samples { inputs, labels })
}

/// Reads a `.npy` file named in `model.toml`; the name must stay inside the model directory.
fn npy_file(src: &(impl ModelSource + ?Sized), name: &str) -> Result<npy::Array, ModelError> {
    check_name(name)?;
    let bytes = src.read(name)?;
    npy::read(&bytes).map_err(|e| ModelError::File {
        path: src.path(name),
        message: e.to_string(),
    })
}

/// A file named in `model.toml` must stay inside the model directory.
fn check_name(name: &str) -> Result<(), ModelError> {
    let inside = Path::new(name)
        .components()
        .all(|c| matches!(c, std::path::Component::Normal(_)));
    if name.is_empty() || !inside {
        return Err(ModelError::File {
            path: PathBuf::from(name),
            message: "files are named relative to the model directory, without '..'".into(),
        });
    }
    Ok(())
}

/// A tensor of exactly `shape`.
fn tensor(
    src: &(impl ModelSource + ?Sized),
    name: &str,
    shape: &[usize],
) -> Result<Data, ModelError> {
    let a = npy_file(src, name)?;
    if a.shape != shape {
        let want = format!("{shape:?}");
        return Err(wrong_shape(src, name, &want, &a.shape));
    }
    Ok(a.data)
}

/// A float tensor of exactly `shape`, every value finite.
fn float_tensor(
    src: &(impl ModelSource + ?Sized),
    name: &str,
    shape: &[usize],
) -> Result<Vec<f32>, ModelError> {
    let values = match tensor(src, name, shape)? {
        Data::F32(v) => v,
        other => return Err(wrong_dtype(src, name, "float32", &other)),
    };
    if let Some(i) = values.iter().position(|v| !v.is_finite()) {
        return Err(ModelError::File {
            path: src.path(name),
            message: format!("value {i} is {}; values must be finite", values[i]),
        });
    }
    Ok(values)
}

fn wrong_dtype(
    src: &(impl ModelSource + ?Sized),
    name: &str,
    want: &str,
    got: &Data,
) -> ModelError {
    ModelError::File {
        path: src.path(name),
        message: format!("holds {}, expected {want}", got.dtype()),
    }
}

fn wrong_shape(
    src: &(impl ModelSource + ?Sized),
    name: &str,
    want: &str,
    got: &[usize],
) -> ModelError {
    ModelError::File {
        path: src.path(name),
        message: format!("has shape {got:?}, expected {want}"),
    }
}
