//! A feature model as the files of a model directory (format 1), the inverse of loading it:
//! what `metronome import` writes.

use super::*;
use crate::npy::{self, Array, Data};

/// The name a layer gives the model's input in `input`/`inputs` (no layer may take it).
pub const INPUT_NAME: &str = "input";

/// A string as a TOML string (quoted and escaped as TOML, not as Rust, escapes).
fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

/// A float32 as a TOML float that reads back as the same float32: Rust's `Debug` of the
/// float64 (`Display` writes 2.6e36 as an integer, which TOML reads as one and refuses).
fn toml_float(x: f32) -> String {
    format!("{:?}", x as f64)
}

impl Model {
    /// The files of the model's directory, `(name, bytes)`, `model.toml` first; a token model
    /// is refused (format 2 is written by its training script).
    pub fn files(&self) -> Result<Vec<(String, Vec<u8>)>, String> {
        // Validated, layer names are file-name stems that need no escaping in TOML.
        self.validate().map_err(|e| e.to_string())?;
        let Input::Features { features, quant } = self.input else {
            return Err(format!(
                "{} is a token model; only feature models are written",
                self.name
            ));
        };
        let mut toml = format!(
            "format = {}\nname = {}\ndescription = {}\n\n[input]\nfeatures = {features}\n\
             scale = {}  # real = (q - zero_point) * scale\nzero_point = {}\n",
            toml_string(FORMATS[0]),
            toml_string(&self.name),
            toml_string(&self.description),
            toml_float(quant.scale),
            quant.zero_point
        );
        let mut files = Vec::new();
        let npy = |shape: Vec<usize>, data: Data| npy::write(&Array { shape, data });
        for (i, layer) in self.layers.iter().enumerate() {
            let before = Source::before(i);
            toml += &format!(
                "\n[[layers]]\nname = {:?}\nkind = {:?}\n",
                layer.name(),
                layer.kind()
            );
            let output = |q: Quant| {
                format!(
                    "output_scale = {}\noutput_zero_point = {}\n",
                    toml_float(q.scale),
                    q.zero_point
                )
            };
            match layer {
                Layer::Dense(d) => {
                    if d.input != before {
                        toml += &format!("input = {:?}\n", self.tensor_name(d.input));
                    }
                    let n = &d.name;
                    toml += &format!(
                        "inputs = {}\noutputs = {}\nactivation = {:?}\nweights = \"{n}.weights.npy\"\n\
                         weight_scales = \"{n}.weight_scales.npy\"\nbias = \"{n}.bias.npy\"\n{}",
                        d.inputs,
                        d.outputs,
                        d.activation.name(),
                        output(d.output)
                    );
                    files.push((
                        format!("{n}.weights.npy"),
                        npy(vec![d.outputs, d.inputs], Data::I8(d.weights.clone())),
                    ));
                    files.push((
                        format!("{n}.weight_scales.npy"),
                        npy(
                            vec![d.weight_scales.len()],
                            Data::F32(d.weight_scales.clone()),
                        ),
                    ));
                    files.push((
                        format!("{n}.bias.npy"),
                        npy(vec![d.outputs], Data::I32(d.bias.clone())),
                    ));
                    if let Some(f) = &d.float {
                        toml += &format!(
                            "float_weights = \"{n}.float_weights.npy\"\nfloat_bias = \"{n}.float_bias.npy\"\n"
                        );
                        files.push((
                            format!("{n}.float_weights.npy"),
                            npy(vec![d.outputs, d.inputs], Data::F32(f.weights.clone())),
                        ));
                        files.push((
                            format!("{n}.float_bias.npy"),
                            npy(vec![d.outputs], Data::F32(f.bias.clone())),
                        ));
                    }
                }
                Layer::Table(t) => {
                    if t.input != before {
                        toml += &format!("input = {:?}\n", self.tensor_name(t.input));
                    }
                    toml += &output(t.output);
                }
                Layer::Elementwise(e) => {
                    toml += &format!(
                        "inputs = [{:?}, {:?}]\nactivation = {:?}\n{}",
                        self.tensor_name(e.inputs[0]),
                        self.tensor_name(e.inputs[1]),
                        e.activation.name(),
                        output(e.output)
                    );
                }
                other => {
                    return Err(format!(
                        "layer {} is {}, not a feature model's",
                        other.name(),
                        other.kind()
                    ))
                }
            }
        }
        if self.test.is_some() {
            return Err("writing a model's test split is not supported".into());
        }
        files.insert(0, ("model.toml".to_string(), toml.into_bytes()));
        Ok(files)
    }
}
