//! Metronome's model format: a directory with `model.toml` and `.npy` tensors.
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
//! activation = "relu"                        # or "none"
//! weights = "fc1.weights.npy"                # int8 [outputs, inputs], symmetric, in -127..=127
//! weight_scales = "fc1.weight_scales.npy"    # float32 [outputs], one per output channel
//! bias = "fc1.bias.npy"                      # int32 [outputs], scale input_scale * weight_scale
//! output_scale = 0.05
//! output_zero_point = -128
//! float_weights = "fc1.float_weights.npy"    # optional: float32 [outputs, inputs]
//! float_bias = "fc1.float_bias.npy"          # optional: float32 [outputs]
//!
//! [test]                                     # optional held-out split
//! inputs = "test_inputs.npy"                 # float32 (or integer) [samples, features]
//! labels = "test_labels.npy"                 # any integer type [samples]
//! ```
//!
//! The quantization scheme is TFLite's int8 one (see `docs/numerics.md`): per-channel symmetric
//! weights, asymmetric per-tensor activations, int32 bias. Everything is checked on load; a
//! malformed model is a [`ModelError`] that names the file or field and what is wrong.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::npy::{self, Data};

/// The format string this version reads.
pub const FORMAT: &str = "metronome-model/1";

/// The widest layer input: `MAX_INPUTS * 127 * 255 < 2^31` (weights in -127..=127, inputs
/// with their zero point in -255..=255), so no dot product can wrap an int32 accumulator.
pub const MAX_INPUTS: usize = 65_000;

/// Per-tensor affine quantization: `real = (q - zero_point) * scale`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Quant {
    pub scale: f32,
    pub zero_point: i32,
}

impl Quant {
    /// TFLite's `Quantize`: round half away from zero, add the zero point, saturate to int8.
    pub fn quantize(&self, x: f32) -> i8 {
        let q = (x as f64 / self.scale as f64).round() + self.zero_point as f64;
        q.clamp(-128.0, 127.0) as i8
    }
    pub fn dequantize(&self, q: i8) -> f32 {
        (q as i32 - self.zero_point) as f32 * self.scale
    }
}

/// A fully-connected layer, `y = act(W x + b)`, quantized.
#[derive(Clone, Debug, PartialEq)]
pub struct Dense {
    pub name: String,
    pub inputs: usize,
    pub outputs: usize,
    /// ReLU, applied by the requantization clamp.
    pub relu: bool,
    /// `[outputs][inputs]`, row-major.
    pub weights: Vec<i8>,
    /// One per output channel.
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
}

#[derive(Clone, Debug, PartialEq)]
pub struct FloatDense {
    /// `[outputs][inputs]`, row-major.
    pub weights: Vec<f32>,
    pub bias: Vec<f32>,
}

/// Held-out samples with their labels.
#[derive(Clone, Debug, PartialEq)]
pub struct TestSet {
    /// One row of `features` floats per sample.
    pub inputs: Vec<Vec<f32>>,
    pub labels: Vec<usize>,
}

/// A quantized model: a stack of fully-connected layers.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    pub name: String,
    pub description: String,
    pub features: usize,
    pub input: Quant,
    pub layers: Vec<Dense>,
    pub test: Option<TestSet>,
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

/// Only the `format` field of a model file, whatever else it holds.
#[derive(Deserialize)]
struct FormatOnly {
    format: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelFile {
    /// Checked first, through [`FormatOnly`].
    #[serde(rename = "format")]
    _format: String,
    name: String,
    #[serde(default)]
    description: String,
    input: InputFile,
    layers: Vec<LayerFile>,
    test: Option<TestFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InputFile {
    features: usize,
    scale: f64,
    zero_point: i64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LayerFile {
    name: String,
    kind: String,
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
struct TestFile {
    inputs: String,
    labels: String,
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
        self.0
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, bytes)| bytes.to_vec())
            .ok_or_else(|| ModelError::Read {
                path: self.path(name),
                source: std::io::ErrorKind::NotFound.into(),
            })
    }
    fn path(&self, name: &str) -> PathBuf {
        Path::new("<built-in model>").join(name)
    }
}

macro_rules! digits_files {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/../models/digits-mlp/", $name)))),*]
    };
}

/// The shipped digits MLP (`models/digits-mlp`), built into the binary.
pub const DIGITS_MLP: Embedded = Embedded(digits_files!(
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

impl Model {
    /// Loads and checks the model in directory `dir`.
    pub fn load(dir: &Path) -> Result<Model, ModelError> {
        if !dir.is_dir() {
            return Err(ModelError::File {
                path: dir.to_path_buf(),
                message: "not a directory (a model is a directory holding model.toml)".into(),
            });
        }
        Self::load_from(dir)
    }

    /// The shipped digits model.
    pub fn digits() -> Model {
        Self::load_from(&DIGITS_MLP).expect("the built-in model is valid")
    }

    /// Loads and checks a model from any source.
    pub fn load_from(src: &(impl ModelSource + ?Sized)) -> Result<Model, ModelError> {
        let text = src.read("model.toml")?;
        let toml_error = |message: String| ModelError::File {
            path: src.path("model.toml"),
            message,
        };
        let text = String::from_utf8(text).map_err(|_| toml_error("not UTF-8 text".into()))?;
        // The format first: another format's fields are not this one's mistakes.
        let format: FormatOnly = toml::from_str(&text).map_err(|e| toml_error(e.to_string()))?;
        if format.format != FORMAT {
            return Err(invalid(
                "format",
                format!(
                    "{:?} is not supported (this version reads {FORMAT:?})",
                    format.format
                ),
            ));
        }
        let file: ModelFile = toml::from_str(&text).map_err(|e| toml_error(e.to_string()))?;
        let input = Quant {
            scale: f32_scale("input.scale", file.input.scale)?,
            zero_point: zero_point("input.zero_point", file.input.zero_point)?,
        };
        let mut layers = Vec::with_capacity(file.layers.len());
        for (i, l) in file.layers.iter().enumerate() {
            layers.push(load_layer(src, i, l)?);
        }
        let test = match &file.test {
            None => None,
            Some(t) => Some(load_test(src, t, file.input.features)?),
        };
        let model = Model {
            name: file.name,
            description: file.description,
            features: file.input.features,
            input,
            layers,
            test,
        };
        model.validate()?;
        Ok(model)
    }

    /// Checks shapes, ranges and scales; [`Model::load`] calls it, and so should whoever
    /// builds a model in memory.
    pub fn validate(&self) -> Result<(), ModelError> {
        if self.layers.is_empty() {
            return Err(invalid("layers", "the model has no layers"));
        }
        if self.features == 0 {
            return Err(invalid("input.features", "must be at least 1"));
        }
        check_quant("input.scale", "input.zero_point", self.input)?;
        let mut width = self.features;
        for (i, l) in self.layers.iter().enumerate() {
            let at = |f: &str| format!("layers[{i}] ({}).{f}", l.name);
            if l.inputs != width {
                return Err(invalid(
                    at("inputs"),
                    format!(
                        "is {}, but the previous layer gives {width} values",
                        l.inputs
                    ),
                ));
            }
            if l.outputs == 0 {
                return Err(invalid(at("outputs"), "must be at least 1"));
            }
            // int32 accumulators cannot overflow while K * 127 * 255 stays below 2^31.
            if l.inputs > MAX_INPUTS {
                return Err(invalid(
                    at("inputs"),
                    format!(
                        "is {}; sums over more than {MAX_INPUTS} inputs could overflow the int32 \
                         accumulators",
                        l.inputs
                    ),
                ));
            }
            check_len(&at("weights"), l.weights.len(), l.inputs * l.outputs)?;
            check_len(&at("weight_scales"), l.weight_scales.len(), l.outputs)?;
            check_len(&at("bias"), l.bias.len(), l.outputs)?;
            if let Some(k) = l.weights.iter().position(|w| *w == i8::MIN) {
                return Err(invalid(
                    at("weights"),
                    format!(
                        "weight [{}, {}] is -128; symmetric int8 weights lie in -127..=127",
                        k / l.inputs,
                        k % l.inputs
                    ),
                ));
            }
            for (c, s) in l.weight_scales.iter().enumerate() {
                if !(s.is_finite() && *s > 0.0) {
                    return Err(invalid(
                        at("weight_scales"),
                        format!("channel {c} has scale {s}; scales must be positive and finite"),
                    ));
                }
            }
            check_quant(&at("output_scale"), &at("output_zero_point"), l.output)?;
            if let Some(f) = &l.float {
                check_len(&at("float_weights"), f.weights.len(), l.inputs * l.outputs)?;
                check_len(&at("float_bias"), f.bias.len(), l.outputs)?;
                check_finite(&at("float_weights"), &f.weights)?;
                check_finite(&at("float_bias"), &f.bias)?;
            }
            width = l.outputs;
        }
        if let Some(t) = &self.test {
            if t.inputs.len() != t.labels.len() {
                return Err(invalid(
                    "test",
                    format!("{} inputs but {} labels", t.inputs.len(), t.labels.len()),
                ));
            }
            for (s, x) in t.inputs.iter().enumerate() {
                check_len(&format!("test.inputs[{s}]"), x.len(), self.features)?;
                check_finite(&format!("test.inputs[{s}]"), x)?;
            }
            if let Some(s) = t.labels.iter().position(|l| *l >= width) {
                return Err(invalid(
                    "test.labels",
                    format!(
                        "sample {s} has label {}, but the model has {width} outputs",
                        t.labels[s]
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Output values per sample (the last layer's width).
    pub fn outputs(&self) -> usize {
        self.layers.last().map_or(0, |l| l.outputs)
    }

    /// The quantized input of one sample.
    pub fn quantize_input(&self, x: &[f32]) -> Vec<i8> {
        x.iter().map(|v| self.input.quantize(*v)).collect()
    }

    /// The float model's outputs for one sample, if every layer ships its float weights.
    pub fn forward_float(&self, x: &[f32]) -> Option<Vec<f32>> {
        let mut act = x.to_vec();
        for l in &self.layers {
            let f = l.float.as_ref()?;
            act = (0..l.outputs)
                .map(|c| {
                    let row = &f.weights[c * l.inputs..(c + 1) * l.inputs];
                    let y = f.bias[c] + row.iter().zip(&act).map(|(w, x)| w * x).sum::<f32>();
                    if l.relu {
                        y.max(0.0)
                    } else {
                        y
                    }
                })
                .collect();
        }
        Some(act)
    }

    /// Multiply-accumulates of one inference.
    pub fn macs_per_sample(&self) -> u64 {
        self.layers
            .iter()
            .map(|l| (l.inputs * l.outputs) as u64)
            .sum()
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

fn check_len(field: &str, actual: usize, expected: usize) -> Result<(), ModelError> {
    if actual == expected {
        Ok(())
    } else {
        Err(invalid(
            field,
            format!("has {actual} values, expected {expected}"),
        ))
    }
}

fn check_finite(field: &str, values: &[f32]) -> Result<(), ModelError> {
    match values.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(i) => Err(invalid(
            field,
            format!("value {i} is {}; values must be finite", values[i]),
        )),
    }
}

/// Checks a scale and zero point, naming them as `model.toml` does.
fn check_quant(scale_field: &str, zero_point_field: &str, q: Quant) -> Result<(), ModelError> {
    if !(q.scale.is_finite() && q.scale > 0.0) {
        return Err(invalid(
            scale_field,
            format!("is {}; scales must be positive and finite", q.scale),
        ));
    }
    if !(-128..=127).contains(&q.zero_point) {
        return Err(invalid(
            zero_point_field,
            format!("is {}; it must be in -128..=127", q.zero_point),
        ));
    }
    Ok(())
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

fn load_layer(
    src: &(impl ModelSource + ?Sized),
    i: usize,
    l: &LayerFile,
) -> Result<Dense, ModelError> {
    let at = |f: &str| format!("layers[{i}] ({}).{f}", l.name);
    if l.kind != "fully_connected" {
        return Err(invalid(
            at("kind"),
            format!("{:?} is not supported (only \"fully_connected\")", l.kind),
        ));
    }
    let relu = match l.activation.as_str() {
        "relu" => true,
        "none" => false,
        other => {
            return Err(invalid(
                at("activation"),
                format!("{other:?} is not supported (\"relu\" or \"none\")"),
            ))
        }
    };
    let (o, k) = (l.outputs, l.inputs);
    let weights = match tensor(src, &l.weights, &[o, k])? {
        Data::I8(v) => v,
        other => return Err(wrong_dtype(src, &l.weights, "int8", &other)),
    };
    let weight_scales = float_tensor(src, &l.weight_scales, &[o])?;
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
        inputs: k,
        outputs: o,
        relu,
        weights,
        weight_scales,
        bias,
        output: Quant {
            scale: f32_scale(&at("output_scale"), l.output_scale)?,
            zero_point: zero_point(&at("output_zero_point"), l.output_zero_point)?,
        },
        float,
    })
}

fn load_test(
    src: &(impl ModelSource + ?Sized),
    t: &TestFile,
    features: usize,
) -> Result<TestSet, ModelError> {
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
    Ok(TestSet { inputs, labels })
}

/// Reads a `.npy` file named in `model.toml`; the name must stay inside the model directory.
fn npy_file(src: &(impl ModelSource + ?Sized), name: &str) -> Result<npy::Array, ModelError> {
    let inside = Path::new(name)
        .components()
        .all(|c| matches!(c, std::path::Component::Normal(_)));
    if name.is_empty() || !inside {
        return Err(ModelError::File {
            path: PathBuf::from(name),
            message: "tensor files are named relative to the model directory, without '..'".into(),
        });
    }
    let bytes = src.read(name)?;
    npy::read(&bytes).map_err(|e| ModelError::File {
        path: src.path(name),
        message: e.to_string(),
    })
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
