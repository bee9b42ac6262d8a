//! A model's recorded reference: the inputs `scripts/make_tflite_models.py` fed it and the
//! outputs TFLite's reference kernels gave (`NAME.inputs.npy`, `NAME.outputs.npy` beside
//! `NAME.tflite`), and the count of outputs that differ from them.

use std::path::{Path, PathBuf};

use compiler::npy::{self, Data};

use crate::Imported;

/// The test models committed with their reference outputs (`tflite/tests/data`).
pub const MODELS: [&str; 10] = [
    "fc_relu_per_tensor",
    "fc_relu6_per_channel",
    "ties_per_tensor",
    "ties_per_channel",
    "fc_no_bias",
    "logistic",
    "tanh",
    "add",
    "mul",
    "digits_float_io",
];

/// The directory of the committed test models.
pub fn test_data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

/// A model imported with its recorded inputs (quantized) and outputs.
pub struct Reference {
    pub imported: Imported,
    pub inputs: Vec<Vec<i8>>,
    /// int8 outputs, or float32 ones for a model that dequantizes its output.
    pub outputs: Data,
}

impl Reference {
    /// Model `name` of directory `dir`.
    pub fn load(dir: &Path, name: &str) -> Result<Reference, String> {
        let read = |file: String| -> Result<npy::Array, String> {
            let path = dir.join(&file);
            let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            npy::read(&bytes).map_err(|e| format!("{}: {e}", path.display()))
        };
        let path = dir.join(format!("{name}.tflite"));
        let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let imported = crate::import(&bytes, name).map_err(|e| format!("{name}: {e}"))?;
        let inputs = read(format!("{name}.inputs.npy"))?;
        let features = inputs.shape[1..].iter().product::<usize>().max(1);
        let inputs = match (&inputs.data, imported.float_input) {
            (Data::I8(v), false) => v.chunks(features).map(<[i8]>::to_vec).collect(),
            (Data::F32(v), true) => v
                .chunks(features)
                .map(|x| imported.model.quantize_input(x))
                .collect(),
            _ => return Err(format!("{name}: inputs of the wrong type")),
        };
        let outputs = read(format!("{name}.outputs.npy"))?.data;
        Ok(Reference {
            imported,
            inputs,
            outputs,
        })
    }

    /// How many of the elements of `outputs` (the int8 outputs of every input, in order)
    /// differ from the recorded ones, dequantized first if the model's output is float: `Err`
    /// if there are not as many.
    pub fn differing(&self, outputs: &[Vec<i8>]) -> Result<usize, String> {
        let got: Vec<i8> = outputs.concat();
        let quant = self
            .imported
            .model
            .output_quant()
            .ok_or("not a feature model")?;
        let (count, differing) = match (&self.outputs, self.imported.float_output) {
            (Data::I8(want), false) => (
                want.len(),
                got.iter().zip(want).filter(|(g, w)| g != w).count(),
            ),
            (Data::F32(want), true) => (
                want.len(),
                got.iter()
                    .zip(want)
                    .filter(|(g, w)| quant.dequantize(**g).to_bits() != w.to_bits())
                    .count(),
            ),
            _ => return Err("recorded outputs of the wrong type".into()),
        };
        if got.len() != count {
            return Err(format!("{} outputs given, {count} recorded", got.len()));
        }
        Ok(differing)
    }
}
