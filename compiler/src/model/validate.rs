//! [`Model::validate`]: shapes, ranges, scales, and that each layer reads a tensor made
//! before it, of the kind it takes.

use super::*;

/// What a tensor holds, for checking that each layer reads what it can.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Value {
    /// Token ids.
    Tokens,
    /// `width` int8 values.
    Int8 { width: usize, quant: Quant },
    /// `width` int32 values of the residual stream on grid `scale`.
    Residual { width: usize, scale: f32 },
}

impl Value {
    fn describe(&self) -> String {
        match self {
            Value::Tokens => "token ids".into(),
            Value::Int8 { width, .. } => format!("{width} int8 values"),
            Value::Residual { width, .. } => format!("{width} residual-stream values"),
        }
    }
}

impl Model {
    /// Checks shapes, ranges, scales and what each layer reads; [`Model::load`] calls it,
    /// and so should whoever builds a model in memory.
    pub fn validate(&self) -> Result<(), ModelError> {
        if self.layers.is_empty() {
            return Err(invalid("layers", "the model has no layers"));
        }
        for (i, l) in self.layers.iter().enumerate() {
            check_layer_name(i, l.name(), &self.layers[..i])?;
        }
        let input = match &self.input {
            Input::Features { features, quant } => {
                if !(1..=MAX_INPUTS).contains(features) {
                    return Err(invalid(
                        "input.features",
                        format!("is {features}; it must be in 1..={MAX_INPUTS}"),
                    ));
                }
                check_quant("input.scale", "input.zero_point", *quant)?;
                Value::Int8 {
                    width: *features,
                    quant: *quant,
                }
            }
            Input::Tokens(v) => {
                if v.symbols.is_empty() {
                    return Err(invalid("input.symbols", "the vocabulary is empty"));
                }
                if let Some((k, s)) = v
                    .symbols
                    .iter()
                    .enumerate()
                    .find(|(k, s)| v.symbols[..*k].contains(s))
                {
                    return Err(invalid(
                        "input.symbols",
                        format!("symbol {k} ({s:?}) appears twice"),
                    ));
                }
                // A softmax sums up to `context` entries of 2^14 in int32.
                if !(1..=MAX_CONTEXT).contains(&v.context) {
                    return Err(invalid(
                        "input.context",
                        format!("is {}; it must be in 1..={MAX_CONTEXT}", v.context),
                    ));
                }
                Value::Tokens
            }
        };
        let mut values: Vec<Value> = Vec::with_capacity(self.layers.len());
        for (i, l) in self.layers.iter().enumerate() {
            let at = |f: &str| format!("layers[{i}] ({}).{f}", l.name());
            let read = |field: &str, s: Source| -> Result<Value, ModelError> {
                match s {
                    Source::Input => Ok(input),
                    Source::Layer(j) if j < i => Ok(values[j]),
                    Source::Layer(j) => Err(invalid(
                        at(field),
                        format!("reads layer {j}, which does not run before it"),
                    )),
                }
            };
            let value = match l {
                Layer::Dense(d) => {
                    // Format 2's tensors all have zero point 0 (docs/transformer.md).
                    if matches!(self.input, Input::Tokens(_)) && d.output.zero_point != 0 {
                        return Err(invalid(
                            at("output_zero_point"),
                            format!(
                                "is {}; a token model's zero points are all 0",
                                d.output.zero_point
                            ),
                        ));
                    }
                    check_dense(d, read("input", d.input)?, &at)?
                }
                Layer::Table(t) => {
                    let width =
                        int8_values(read("input", t.input)?, &at("input"), t.function.kind())?;
                    check_quant(&at("output_scale"), &at("output_zero_point"), t.output)?;
                    Value::Int8 {
                        width,
                        quant: t.output,
                    }
                }
                Layer::Elementwise(e) => {
                    let width =
                        |s: Source| int8_values(read("inputs", s)?, &at("inputs"), e.op.kind());
                    let (a, b) = (width(e.inputs[0])?, width(e.inputs[1])?);
                    if a != b {
                        return Err(invalid(
                            at("inputs"),
                            format!("the inputs differ in width ({a} and {b})"),
                        ));
                    }
                    check_quant(&at("output_scale"), &at("output_zero_point"), e.output)?;
                    Value::Int8 {
                        width: a,
                        quant: e.output,
                    }
                }
                Layer::Embedding(e) => self.check_embedding(e, &at)?,
                Layer::RmsNorm(n) => {
                    let width = residual_width(read("input", n.input)?, &at("input"))?;
                    check_scale(&at("input_scale"), n.input_scale)?;
                    check_scale(&at("output_scale"), n.output_scale)?;
                    Value::Int8 {
                        width,
                        quant: Quant {
                            scale: n.output_scale,
                            zero_point: 0,
                        },
                    }
                }
                Layer::Attention(a) => {
                    let width = int8_width(read("input", a.input)?, &at("input"))?;
                    check_attention(a, width, &at)?;
                    Value::Residual {
                        width,
                        scale: a.output_scale,
                    }
                }
                Layer::Mlp(m) => {
                    let width = int8_width(read("input", m.input)?, &at("input"))?;
                    check_projection(&at("w1"), &m.w1, width, m.w1.outputs)?;
                    check_projection(&at("w2"), &m.w2, m.w1.outputs, width)?;
                    for (f, s) in [
                        ("hidden_scale", m.hidden_scale),
                        ("activation_scale", m.activation_scale),
                        ("output_scale", m.output_scale),
                    ] {
                        check_scale(&at(f), s)?;
                    }
                    Value::Residual {
                        width,
                        scale: m.output_scale,
                    }
                }
                Layer::Add(a) => {
                    check_scale(&at("output_scale"), a.output_scale)?;
                    if a.inputs.len() < 2 {
                        return Err(invalid(at("inputs"), "an add reads at least two tensors"));
                    }
                    let mut width = None;
                    for s in &a.inputs {
                        let v = read("inputs", *s)?;
                        let w = residual_width(v, &at("inputs"))?;
                        if width.is_some_and(|x| x != w) {
                            return Err(invalid(
                                at("inputs"),
                                format!("the inputs differ in width ({} and {w})", width.unwrap()),
                            ));
                        }
                        width = Some(w);
                        if let Value::Residual { scale, .. } = v {
                            if scale != a.output_scale {
                                return Err(invalid(
                                    at("inputs"),
                                    format!(
                                        "an input is on grid {scale}, the output on {}; this \
                                         version adds residual tensors on one grid",
                                        a.output_scale
                                    ),
                                ));
                            }
                        }
                    }
                    Value::Residual {
                        width: width.expect("at least two inputs"),
                        scale: a.output_scale,
                    }
                }
            };
            values.push(value);
        }
        let last = *values.last().expect("checked non-empty");
        match (&self.input, last) {
            (Input::Features { .. }, Value::Int8 { .. }) => {}
            (Input::Tokens(v), Value::Int8 { width, .. }) if width == v.symbols.len() => {}
            (Input::Tokens(v), other) => {
                return Err(invalid(
                    "layers",
                    format!(
                        "the last layer makes {}; a token model ends in {} int8 logits, one per \
                         symbol",
                        other.describe(),
                        v.symbols.len()
                    ),
                ))
            }
            (Input::Features { .. }, other) => {
                return Err(invalid(
                    "layers",
                    format!(
                        "the last layer makes {}, not int8 outputs",
                        other.describe()
                    ),
                ))
            }
        }
        match (&self.test, &self.input) {
            (None, _) => {}
            (Some(TestSet::Samples(t)), Input::Features { features, .. }) => {
                check_samples(t, *features, self.outputs())?
            }
            (Some(TestSet::Text(text)), Input::Tokens(v)) => {
                if let Some((at, c)) = text
                    .chars()
                    .enumerate()
                    .find(|(_, c)| v.token(*c).is_none())
                {
                    return Err(invalid(
                        "test.text",
                        format!("character {at} ({c:?}) is not one of the model's symbols"),
                    ));
                }
            }
            (Some(_), _) => {
                return Err(invalid(
                    "test",
                    "a feature model's test split is samples and labels, a token model's a text",
                ))
            }
        }
        Ok(())
    }

    fn check_embedding(
        &self,
        e: &Embedding,
        at: &dyn Fn(&str) -> String,
    ) -> Result<Value, ModelError> {
        let Input::Tokens(v) = &self.input else {
            return Err(invalid(
                at("kind"),
                "an embedding needs a token model (format 2)",
            ));
        };
        // A norm sums `width` squares of up to 2^14 in a 2^30 range.
        if !(1..=MAX_WIDTH).contains(&e.width) {
            return Err(invalid(
                at("tokens"),
                format!("rows have {} values; at most {MAX_WIDTH}", e.width),
            ));
        }
        check_len(&at("tokens"), e.tokens.len(), v.symbols.len() * e.width)?;
        check_len(&at("positions"), e.positions.len(), v.context * e.width)?;
        for (f, s) in [
            ("token_scale", e.token_scale),
            ("position_scale", e.position_scale),
            ("output_scale", e.output_scale),
        ] {
            check_scale(&at(f), s)?;
        }
        Ok(Value::Residual {
            width: e.width,
            scale: e.output_scale,
        })
    }
}

/// Layer `i`'s name: a file-name stem (its tensors' files are named after it), unique, and not
/// the name of the model's input.
fn check_layer_name(i: usize, name: &str, before: &[Layer]) -> Result<(), ModelError> {
    let field = format!("layers[{i}].name");
    let allowed = |c: char| c.is_ascii_alphanumeric() || "_.-".contains(c);
    if name.is_empty() || name.starts_with('.') || !name.chars().all(allowed) {
        return Err(invalid(
            field,
            format!("{name:?}: names are letters, digits, '_', '-' and '.', not first"),
        ));
    }
    if name == INPUT_NAME {
        return Err(invalid(
            field,
            format!("{INPUT_NAME:?} names the model's input; a layer cannot take it"),
        ));
    }
    if let Some(j) = before.iter().position(|l| l.name() == name) {
        return Err(invalid(field, format!("layers[{j}] has the same name")));
    }
    Ok(())
}

/// The width of int8 values, what layer kind `kind` reads in `field`.
fn int8_values(v: Value, field: &str, kind: &str) -> Result<usize, ModelError> {
    match v {
        Value::Int8 { width, .. } => Ok(width),
        other => Err(invalid(
            field,
            format!("reads {}; {kind} reads int8 values", other.describe()),
        )),
    }
}

/// The width of int8 values with zero point 0, what attention and the MLP read.
fn int8_width(v: Value, field: &str) -> Result<usize, ModelError> {
    match v {
        Value::Int8 { width, quant } if quant.zero_point == 0 => Ok(width),
        Value::Int8 { quant, .. } => Err(invalid(
            field,
            format!(
                "reads int8 values with zero point {}; this kind reads them with zero point 0",
                quant.zero_point
            ),
        )),
        other => Err(invalid(
            field,
            format!("reads {}; this kind reads int8 values", other.describe()),
        )),
    }
}

fn residual_width(v: Value, field: &str) -> Result<usize, ModelError> {
    match v {
        Value::Residual { width, .. } => Ok(width),
        other => Err(invalid(
            field,
            format!(
                "reads {}; this kind reads the residual stream",
                other.describe()
            ),
        )),
    }
}

fn check_dense(d: &Dense, input: Value, at: &dyn Fn(&str) -> String) -> Result<Value, ModelError> {
    let width = int8_values(input, &at("input"), "fully_connected")?;
    if d.inputs != width {
        return Err(invalid(
            at("inputs"),
            format!("is {}, but its input gives {width} values", d.inputs),
        ));
    }
    if !(1..=MAX_INPUTS).contains(&d.outputs) {
        return Err(invalid(
            at("outputs"),
            format!("is {}; it must be in 1..={MAX_INPUTS}", d.outputs),
        ));
    }
    // int32 accumulators cannot overflow while K * 127 * 255 stays below 2^31.
    if d.inputs > MAX_INPUTS {
        return Err(invalid(
            at("inputs"),
            format!(
                "is {}; sums over more than {MAX_INPUTS} inputs could overflow the int32 \
                 accumulators",
                d.inputs
            ),
        ));
    }
    check_len(&at("weights"), d.weights.len(), d.inputs * d.outputs)?;
    if d.weight_scales.len() != 1 {
        check_len(&at("weight_scales"), d.weight_scales.len(), d.outputs)?;
    }
    check_len(&at("bias"), d.bias.len(), d.outputs)?;
    check_symmetric(&at("weights"), &d.weights, d.inputs)?;
    check_channel_scales(&at("weight_scales"), &d.weight_scales)?;
    check_quant(&at("output_scale"), &at("output_zero_point"), d.output)?;
    if let Some(f) = &d.float {
        check_len(&at("float_weights"), f.weights.len(), d.inputs * d.outputs)?;
        check_len(&at("float_bias"), f.bias.len(), d.outputs)?;
        check_finite(&at("float_weights"), &f.weights)?;
        check_finite(&at("float_bias"), &f.bias)?;
    }
    Ok(Value::Int8 {
        width: d.outputs,
        quant: d.output,
    })
}

fn check_attention(
    a: &Attention,
    width: usize,
    at: &dyn Fn(&str) -> String,
) -> Result<(), ModelError> {
    if a.heads == 0 || !width.is_multiple_of(a.heads) {
        return Err(invalid(
            at("heads"),
            format!("is {}; it must divide the width, {width}", a.heads),
        ));
    }
    for (f, w) in [("wq", &a.wq), ("wk", &a.wk), ("wv", &a.wv), ("wo", &a.wo)] {
        check_projection(&at(f), w, width, width)?;
    }
    for (f, s) in [
        ("q_scale", a.q_scale),
        ("k_scale", a.k_scale),
        ("v_scale", a.v_scale),
        ("scores_scale", a.scores_scale),
        ("context_scale", a.context_scale),
        ("output_scale", a.output_scale),
    ] {
        check_scale(&at(f), s)?;
    }
    Ok(())
}

fn check_projection(
    field: &str,
    w: &Projection,
    inputs: usize,
    outputs: usize,
) -> Result<(), ModelError> {
    if (w.inputs, w.outputs) != (inputs, outputs) || outputs == 0 {
        return Err(invalid(
            field,
            format!(
                "is [{}, {}] ([outputs, inputs]); expected [{outputs}, {inputs}]",
                w.outputs, w.inputs
            ),
        ));
    }
    check_len(field, w.weights.len(), inputs * outputs)?;
    check_len(&format!("{field}_scales"), w.scales.len(), outputs)?;
    check_symmetric(field, &w.weights, inputs)?;
    check_channel_scales(&format!("{field}_scales"), &w.scales)
}

fn check_symmetric(field: &str, weights: &[i8], inputs: usize) -> Result<(), ModelError> {
    match weights.iter().position(|w| *w == i8::MIN) {
        None => Ok(()),
        Some(k) => Err(invalid(
            field,
            format!(
                "weight [{}, {}] is -128; symmetric int8 weights lie in -127..=127",
                k / inputs,
                k % inputs
            ),
        )),
    }
}

fn check_channel_scales(field: &str, scales: &[f32]) -> Result<(), ModelError> {
    match scales.iter().position(|s| !(s.is_finite() && *s > 0.0)) {
        None => Ok(()),
        Some(c) => Err(invalid(
            field,
            format!(
                "channel {c} has scale {}; scales must be positive and finite",
                scales[c]
            ),
        )),
    }
}

fn check_samples(t: &Samples, features: usize, outputs: usize) -> Result<(), ModelError> {
    if t.inputs.len() != t.labels.len() {
        return Err(invalid(
            "test",
            format!("{} inputs but {} labels", t.inputs.len(), t.labels.len()),
        ));
    }
    for (s, x) in t.inputs.iter().enumerate() {
        check_len(&format!("test.inputs[{s}]"), x.len(), features)?;
        check_finite(&format!("test.inputs[{s}]"), x)?;
    }
    if let Some(s) = t.labels.iter().position(|l| *l >= outputs) {
        return Err(invalid(
            "test.labels",
            format!(
                "sample {s} has label {}, but the model has {outputs} outputs",
                t.labels[s]
            ),
        ));
    }
    Ok(())
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

fn check_scale(field: &str, s: f32) -> Result<(), ModelError> {
    if s.is_finite() && s > 0.0 {
        Ok(())
    } else {
        Err(invalid(
            field,
            format!("is {s}; scales must be positive and finite"),
        ))
    }
}

/// Checks a scale and zero point, naming them as `model.toml` does.
fn check_quant(scale_field: &str, zero_point_field: &str, q: Quant) -> Result<(), ModelError> {
    check_scale(scale_field, q.scale)?;
    if !(-128..=127).contains(&q.zero_point) {
        return Err(invalid(
            zero_point_field,
            format!("is {}; it must be in -128..=127", q.zero_point),
        ));
    }
    Ok(())
}
