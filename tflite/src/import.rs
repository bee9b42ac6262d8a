//! A TFLite graph -> a feature model, operator by operator, checking every tensor it reads.

use std::collections::HashMap;

use compiler::model::{
    BinaryOp, Clamp, Dense, Elementwise, Function, Input, Layer, Model, Quant, Source, Table,
};

use crate::flatbuffer::Malformed;
use crate::schema::{self, dtype, op, options, File, Operator, OperatorCode, SubGraph, Tensor};

/// What the importer reads, for error messages.
pub const SUPPORTED: &str = "FULLY_CONNECTED, LOGISTIC, TANH, ADD, MUL and RESHAPE on int8 \
                             tensors, QUANTIZE of a float input and DEQUANTIZE of the output";

/// How to make a model this importer reads, for error messages.
const HOW_TO_CONVERT: &str = "convert it with full integer quantization: \
    converter.optimizations = [tf.lite.Optimize.DEFAULT], a representative_dataset, and \
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]";

/// The widest tensor the importer takes (the compiler refuses far less).
const MAX_WIDTH: u64 = 1 << 24;

/// Why a `.tflite` file could not be imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("malformed .tflite file: {0}")]
    Malformed(#[from] Malformed),
    #[error("operator {index} ({name}): {problem}")]
    Operator {
        index: usize,
        name: String,
        problem: String,
    },
    #[error("{0}")]
    Model(String),
}

/// An imported model and its edges.
#[derive(Clone, Debug)]
pub struct Imported {
    pub model: Model,
    /// The `.tflite` model takes float32 and quantizes it (its QUANTIZE) onto the model's
    /// input grid.
    pub float_input: bool,
    /// The `.tflite` model dequantizes its output (its DEQUANTIZE) to float32.
    pub float_output: bool,
}

/// A tensor of the graph as the importer knows it.
#[derive(Clone, Copy, Debug)]
enum Value {
    /// The model's float input, before its QUANTIZE.
    FloatInput,
    /// Int8 values of the model.
    Int8 {
        source: Source,
        width: usize,
        quant: Quant,
    },
    /// The model's output dequantized.
    FloatOutput(Source),
}

/// Imports the model in `bytes`, naming it `name`.
pub fn import(bytes: &[u8], name: &str) -> Result<Imported, ImportError> {
    let file = File::parse(bytes)?;
    match file.subgraphs()? {
        1 => {}
        n => {
            return Err(ImportError::Model(format!(
                "the model has {n} subgraphs; import reads models with one (no control flow)"
            )))
        }
    }
    let graph = file.subgraph(0)?;
    let (inputs, outputs) = (graph.inputs()?, graph.outputs()?);
    let [input] = inputs[..] else {
        return Err(ImportError::Model(format!(
            "the model has {} input tensors; import reads models with one",
            inputs.len()
        )));
    };
    let [output] = outputs[..] else {
        return Err(ImportError::Model(format!(
            "the model has {} output tensors; import reads models with one",
            outputs.len()
        )));
    };
    let mut importer = Importer {
        file: &file,
        graph: &graph,
        values: HashMap::new(),
        layers: Vec::new(),
        input: None,
        counts: HashMap::new(),
    };
    let t = importer.tensor(input, "the model's input")?;
    let value = match t.dtype {
        dtype::INT8 => {
            let quant =
                int8_quant(&t).map_err(|p| ImportError::Model(format!("the input: {p}")))?;
            let width = width(&t).map_err(|p| ImportError::Model(format!("the input: {p}")))?;
            importer.input = Some((width, quant));
            Value::Int8 {
                source: Source::Input,
                width,
                quant,
            }
        }
        dtype::FLOAT32 => Value::FloatInput,
        other => {
            return Err(ImportError::Model(format!(
                "the input is {}; import reads int8 inputs, or float32 ones the model quantizes",
                dtype::name(other)
            )))
        }
    };
    importer.values.insert(input, value);
    for index in 0..graph.operator_count() {
        importer.operator(index)?;
    }
    let Importer { layers, input, .. } = importer;
    let last = layers.len().checked_sub(1).map(Source::Layer);
    let float_output =
        match importer.values.get(&output).copied() {
            Some(Value::Int8 { source, .. }) if Some(source) == last => false,
            Some(Value::FloatOutput(source)) if Some(source) == last => true,
            _ => return Err(ImportError::Model(
                "the model's output is not what its last operator computes (an empty model, or \
                 operators after the output); import reads a chain of operators ending in the \
                 output"
                    .into(),
            )),
        };
    let (features, quant) = input.expect("an int8 input or a QUANTIZE before any layer");
    let model = Model {
        name: name.to_string(),
        description: format!(
            "imported from TFLite ({} operators, {} tensors)",
            graph.operator_count(),
            graph.tensor_count()
        ),
        input: Input::Features { features, quant },
        layers,
        test: None,
    };
    model
        .validate()
        .map_err(|e| ImportError::Model(format!("the imported model is not valid: {e}")))?;
    Ok(Imported {
        model,
        float_input: matches!(value, Value::FloatInput),
        float_output,
    })
}

struct Importer<'a> {
    file: &'a File<'a>,
    graph: &'a SubGraph<'a>,
    /// Every tensor computed so far.
    values: HashMap<i32, Value>,
    layers: Vec<Layer>,
    /// The model's int8 input: its width and grid.
    input: Option<(usize, Quant)>,
    /// Layers of each kind so far, to name them.
    counts: HashMap<&'static str, usize>,
}

impl Importer<'_> {
    fn tensor(&self, index: i32, what: &str) -> Result<Tensor, ImportError> {
        usize::try_from(index)
            .ok()
            .filter(|i| *i < self.graph.tensor_count())
            .ok_or_else(|| {
                ImportError::Model(format!(
                    "{what} is tensor {index}; the model has {} tensors",
                    self.graph.tensor_count()
                ))
            })
            .and_then(|i| Ok(self.graph.tensor(i)?))
    }

    fn name(&mut self, prefix: &'static str) -> String {
        let n = self.counts.entry(prefix).or_insert(0);
        *n += 1;
        format!("{prefix}{n}")
    }

    fn operator(&mut self, index: usize) -> Result<(), ImportError> {
        let o = self.graph.operator(index)?;
        let named = |name: String, e: ImportError| ImportError::Operator {
            index,
            name,
            problem: match e {
                ImportError::Model(p) => p,
                other => other.to_string(),
            },
        };
        let code = self
            .file
            .operator_code(o.opcode_index)
            .map_err(|e| named(format!("operator code {}", o.opcode_index), e.into()))?;
        let name = match &code.custom {
            Some(c) => format!("custom operator {c:?}"),
            None => schema::builtin_name(code.builtin),
        };
        self.lower(&o, &code).map_err(|e| named(name, e))
    }

    /// Operator `o` as a layer, or as what it makes of a tensor; a problem is an
    /// `ImportError::Model`, which [`Importer::operator`] names by the operator.
    fn lower(&mut self, o: &Operator, code: &OperatorCode) -> Result<(), ImportError> {
        let problem = |p: String| ImportError::Model(p);
        match code.builtin {
            _ if code.custom.is_some() => {
                return Err(problem(format!("not supported; import reads {SUPPORTED}")))
            }
            op::SOFTMAX => {
                return Err(problem(
                    "not supported: TFLite's reference int8 SOFTMAX is gemmlowp fixed point \
                     (exp on negative values, a Newton-Raphson reciprocal), which this version \
                     does not reproduce bit for bit; export the model without its final softmax \
                     (the argmax of the logits is the same)"
                        .into(),
                ))
            }
            op::QUANTIZE
            | op::DEQUANTIZE
            | op::RESHAPE
            | op::FULLY_CONNECTED
            | op::LOGISTIC
            | op::TANH
            | op::ADD
            | op::MUL => {}
            _ => return Err(problem(format!("not supported; import reads {SUPPORTED}"))),
        }
        let [output] = o.outputs[..] else {
            return Err(problem(format!(
                "has {} outputs; the operators import reads have one",
                o.outputs.len()
            )));
        };
        if self.values.contains_key(&output) {
            return Err(problem(format!(
                "writes tensor {output}, which is already the input or an earlier operator's \
                 output"
            )));
        }
        let out = self.tensor(output, "its output")?;
        // The options of the kind this operator has, as TFLite reads them: none (defaults)
        // when the table is of another kind.
        let fused_activation = match (code.builtin, o.options_type) {
            (op::FULLY_CONNECTED, options::FULLY_CONNECTED)
            | (op::ADD, options::ADD)
            | (op::MUL, options::MUL) => o.fused_activation,
            _ => 0,
        };
        let value = match code.builtin {
            op::QUANTIZE => {
                let t = o.inputs.first().copied().unwrap_or(-1);
                if !matches!(self.values.get(&t), Some(Value::FloatInput)) || self.input.is_some() {
                    return Err(problem(
                        "quantizes something other than the model's float input; import \
                         reads QUANTIZE only there"
                            .into(),
                    ));
                }
                let input = self.tensor(t, "its input")?;
                let w = width(&input).map_err(|p| problem(format!("its input: {p}")))?;
                let quant = int8_output(&out, w)?;
                self.input = Some((w, quant));
                Value::Int8 {
                    source: Source::Input,
                    width: w,
                    quant,
                }
            }
            op::DEQUANTIZE => {
                let (source, w, _) = self.operand(o, 0)?;
                let made = width(&out).map_or_else(|p| p, |w| format!("{w} values"));
                if out.dtype != dtype::FLOAT32 || width(&out).ok() != Some(w) {
                    return Err(problem(format!(
                        "must make {w} float32 values; it makes {} ({made})",
                        dtype::name(out.dtype)
                    )));
                }
                Value::FloatOutput(source)
            }
            op::RESHAPE => {
                let (source, w, quant) = self.operand(o, 0)?;
                if int8_output(&out, w)? != quant {
                    return Err(problem(
                        "changes the quantization; a RESHAPE must not".into(),
                    ));
                }
                Value::Int8 {
                    source,
                    width: w,
                    quant,
                }
            }
            op::FULLY_CONNECTED => {
                let (input, inputs, input_quant) = self.operand(o, 0)?;
                let dense = self.dense(o, inputs, input, input_quant, &out, fused_activation)?;
                let width = dense.outputs;
                self.push(Layer::Dense(dense), width)
            }
            op::LOGISTIC | op::TANH => {
                let (input, w, _) = self.operand(o, 0)?;
                let function = if code.builtin == op::LOGISTIC {
                    Function::Logistic
                } else {
                    Function::Tanh
                };
                let output = int8_output(&out, w)?;
                // TFLite's LOGISTIC refuses any other int8 output grid.
                let fixed = Quant {
                    scale: 1.0 / 256.0,
                    zero_point: -128,
                };
                if function == Function::Logistic && output != fixed {
                    return Err(problem(format!(
                        "its output has scale {} and zero point {}; TFLite's int8 LOGISTIC \
                         takes 1/256 and -128",
                        output.scale, output.zero_point
                    )));
                }
                let layer = Layer::Table(Table {
                    name: self.name(function.kind()),
                    input,
                    function,
                    output,
                });
                self.push(layer, w)
            }
            op::ADD | op::MUL => {
                let ((a, wa, qa), (b, _, qb)) = (self.operand(o, 0)?, self.operand(o, 1)?);
                let shapes = [0, 1].map(|k| self.tensor(o.inputs[k], "an input").map(|t| t.shape));
                let [sa, sb] = shapes;
                let (sa, sb) = (sa?, sb?);
                if sa != sb {
                    return Err(problem(format!(
                        "its inputs have shapes {sa:?} and {sb:?}; broadcasting is not supported"
                    )));
                }
                let op = if code.builtin == op::ADD {
                    BinaryOp::Add
                } else {
                    BinaryOp::Mul
                };
                let layer = Elementwise {
                    name: self.name(if op == BinaryOp::Add { "add" } else { "mul" }),
                    op,
                    inputs: [a, b],
                    output: int8_output(&out, wa)?,
                    activation: clamp(fused_activation).map_err(problem)?,
                };
                // TFLite's ADD refuses an output rescale of 1 or more.
                let real = layer.recipe(qa, qb).real_multiplier;
                if op == BinaryOp::Add && real >= 1.0 {
                    return Err(problem(format!(
                        "its output multiplier is {real}; TFLite's int8 ADD takes one below 1 \
                         (an output scale at least 2^-19 times its larger input scale)"
                    )));
                }
                self.push(Layer::Elementwise(layer), wa)
            }
            _ => unreachable!("refused above"),
        };
        self.values.insert(output, value);
        Ok(())
    }

    /// Input `k` of `o`: int8 values the model computes (its input or an earlier layer's).
    fn operand(&self, o: &Operator, k: usize) -> Result<(Source, usize, Quant), ImportError> {
        let problem = |p: String| ImportError::Model(p);
        let t = *o
            .inputs
            .get(k)
            .ok_or_else(|| problem(format!("has no input {k}")))?;
        match self.values.get(&t) {
            Some(Value::Int8 {
                source,
                width,
                quant,
            }) => Ok((*source, *width, *quant)),
            Some(Value::FloatInput) => Err(problem(format!(
                "computes on the float input: this is a float model; import reads int8 models: \
                 {HOW_TO_CONVERT}"
            ))),
            Some(Value::FloatOutput(_)) => Err(problem(
                "reads a dequantized (float) tensor; import reads int8 computations".into(),
            )),
            None => Err(problem(format!(
                "reads tensor {t}, which is neither the input nor made by an earlier operator \
                 (a constant operand is supported only as FULLY_CONNECTED's weights and bias)"
            ))),
        }
    }

    /// Adds a layer; its output's value.
    fn push(&mut self, layer: Layer, width: usize) -> Value {
        let quant = match &layer {
            Layer::Dense(d) => d.output,
            Layer::Table(t) => t.output,
            Layer::Elementwise(e) => e.output,
            _ => unreachable!("the importer makes feature layers"),
        };
        self.layers.push(layer);
        Value::Int8 {
            source: Source::Layer(self.layers.len() - 1),
            width,
            quant,
        }
    }

    /// A FULLY_CONNECTED operator's layer.
    fn dense(
        &mut self,
        o: &Operator,
        inputs: usize,
        input: Source,
        input_quant: Quant,
        out: &Tensor,
        fused_activation: u8,
    ) -> Result<Dense, ImportError> {
        let problem = |p: String| ImportError::Model(p);
        if o.options_type == options::FULLY_CONNECTED && o.weights_format != 0 {
            return Err(problem(
                "its weights are shuffled (weights_format); not supported".into(),
            ));
        }
        let w_index = *o
            .inputs
            .get(1)
            .ok_or_else(|| problem("has no weights".into()))?;
        let w = self.tensor(w_index, "its weights")?;
        let outputs = match w.shape[..] {
            [o, k] if o > 0 && k as usize == inputs => o as usize,
            _ => {
                return Err(problem(format!(
                    "its weights have shape {:?}; [outputs, {inputs}] expected",
                    w.shape
                )))
            }
        };
        if w.dtype != dtype::INT8 {
            return Err(problem(format!(
                "its weights are {}: a float or hybrid model; import reads int8 models: \
                 {HOW_TO_CONVERT}",
                dtype::name(w.dtype)
            )));
        }
        let weights: Vec<i8> = constant(self.file, &w, outputs * inputs, 1, "its weights")?
            .iter()
            .map(|b| *b as i8)
            .collect();
        if let Some(at) = weights.iter().position(|v| *v == -128) {
            return Err(problem(format!(
                "weight [{}, {}] is -128; TFLite's int8 weights are symmetric, in -127..=127",
                at / inputs,
                at % inputs
            )));
        }
        let q = w
            .quantization
            .as_ref()
            .ok_or_else(|| problem("its weights are not quantized".into()))?;
        if q.scale.len() != 1 && q.scale.len() != outputs {
            return Err(problem(format!(
                "its weights have {} scales; 1 or {outputs} (one an output channel) expected",
                q.scale.len()
            )));
        }
        if q.scale.len() == outputs && outputs > 1 && q.quantized_dimension != 0 {
            return Err(problem(format!(
                "its weights are quantized along dimension {}; TFLite quantizes \
                 FULLY_CONNECTED weights along dimension 0",
                q.quantized_dimension
            )));
        }
        if q.zero_point.iter().any(|z| *z != 0) {
            return Err(problem(
                "its weights have a nonzero zero point; TFLite's int8 weights are symmetric".into(),
            ));
        }
        if let Some(s) = q.scale.iter().find(|s| !(s.is_finite() && **s > 0.0)) {
            return Err(problem(format!("its weights have scale {s}")));
        }
        let output = int8_output(out, outputs)?;
        let bias = match o.inputs.get(2).copied() {
            None | Some(-1) => vec![0; outputs],
            Some(b) => {
                let t = self.tensor(b, "its bias")?;
                if t.dtype != dtype::INT32 || width(&t).ok() != Some(outputs) {
                    return Err(problem(format!(
                        "its bias is {} of shape {:?}; {outputs} int32 values expected",
                        dtype::name(t.dtype),
                        t.shape
                    )));
                }
                // TFLite refuses a per-tensor layer whose bias is not on the grid of
                // `s_in * s_w` (within 2 % of the output scale).
                if let ([s_w], Some(s_b)) = (
                    &q.scale[..],
                    t.quantization.as_ref().and_then(|b| b.scale.first()),
                ) {
                    let product = (input_quant.scale * s_w) as f64;
                    if (product - *s_b as f64).abs() / output.scale as f64 > 0.02 {
                        return Err(problem(format!(
                            "its bias has scale {s_b}, not the input's times the weights' \
                             ({product}); TFLite refuses such a layer"
                        )));
                    }
                }
                constant(self.file, &t, outputs, 4, "its bias")?
                    .chunks_exact(4)
                    .map(|b| i32::from_le_bytes(b.try_into().expect("4 bytes")))
                    .collect()
            }
        };
        Ok(Dense {
            name: self.name("fc"),
            input,
            inputs,
            outputs,
            activation: clamp(fused_activation).map_err(problem)?,
            weights,
            weight_scales: q.scale.clone(),
            bias,
            output,
            float: None,
        })
    }
}

/// The grid of `out`, an operator's int8 output of `expected` values.
fn int8_output(out: &Tensor, expected: usize) -> Result<Quant, ImportError> {
    let problem = |p: String| ImportError::Model(p);
    if out.dtype != dtype::INT8 {
        let hint = if out.dtype == dtype::FLOAT32 {
            format!(" (a float model? {HOW_TO_CONVERT})")
        } else {
            String::new()
        };
        return Err(problem(format!(
            "makes {}; import reads int8 computations{hint}",
            dtype::name(out.dtype)
        )));
    }
    let w = width(out).map_err(|p| problem(format!("its output: {p}")))?;
    if w != expected {
        return Err(problem(format!(
            "its output has {w} values; {expected} expected"
        )));
    }
    int8_quant(out).map_err(|p| problem(format!("its output: {p}")))
}

/// The bytes of constant tensor `t`: `count` elements of `size` bytes.
fn constant<'a>(
    file: &File<'a>,
    t: &Tensor,
    count: usize,
    size: usize,
    what: &str,
) -> Result<&'a [u8], ImportError> {
    let bytes = file.buffer(t.buffer)?;
    if bytes.len() != count * size {
        return Err(ImportError::Model(format!(
            "{what}: buffer {} holds {} bytes; {count} values of {size} bytes expected{}",
            t.buffer,
            bytes.len(),
            if bytes.is_empty() {
                " (computed tensors are not supported here)"
            } else {
                ""
            }
        )));
    }
    Ok(bytes)
}

/// A fused activation.
fn clamp(code: u8) -> Result<Clamp, String> {
    match code {
        0 => Ok(Clamp::None),
        1 => Ok(Clamp::Relu),
        3 => Ok(Clamp::Relu6),
        other => {
            let name = ["NONE", "RELU", "RELU_N1_TO_1", "RELU6", "TANH", "SIGN_BIT"]
                .get(other as usize)
                .map_or_else(|| format!("{other}"), |n| n.to_string());
            Err(format!(
                "its fused activation {name} is not supported (NONE, RELU, RELU6)"
            ))
        }
    }
}

/// The values of one sample of `t`: a batch of one (or no batch dimension) of any shape.
fn width(t: &Tensor) -> Result<usize, String> {
    let dims = match t.shape[..] {
        [] => return Err("a scalar; a tensor of features expected".into()),
        [_] => &t.shape[..],
        [1, ref rest @ ..] => rest,
        _ => {
            return Err(format!(
                "shape {:?}; a batch of one ([1, ...]) expected",
                t.shape
            ))
        }
    };
    let mut w: u64 = 1;
    for d in dims {
        if *d <= 0 {
            return Err(format!(
                "shape {:?} has an empty or unknown dimension",
                t.shape
            ));
        }
        w = w.saturating_mul(*d as u64);
    }
    if w > MAX_WIDTH {
        return Err(format!("shape {:?}: more than {MAX_WIDTH} values", t.shape));
    }
    Ok(w as usize)
}

/// An int8 tensor's grid: one scale and one zero point.
fn int8_quant(t: &Tensor) -> Result<Quant, String> {
    if t.dtype != dtype::INT8 {
        return Err(format!("{}; int8 expected", dtype::name(t.dtype)));
    }
    match &t.quantization {
        Some(q) if q.scale.len() == 1 && q.zero_point.len() == 1 => {
            let (scale, zero_point) = (q.scale[0], q.zero_point[0]);
            if !(scale.is_finite() && scale > 0.0) {
                return Err(format!("scale {scale}; a positive scale expected"));
            }
            if !(-128..=127).contains(&zero_point) {
                return Err(format!("zero point {zero_point}; -128..=127 expected"));
            }
            Ok(Quant {
                scale,
                zero_point: zero_point as i32,
            })
        }
        _ => Err("not quantized per tensor (one scale and zero point)".into()),
    }
}
