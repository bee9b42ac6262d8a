//! Every committed test model (`scripts/make_tflite_models.py`) imported, compiled and run on
//! the golden model: each output element equal to what tflite-runtime 2.14's reference
//! kernels (`BUILTIN_REF`) computed for it, recorded beside the model.

use std::path::PathBuf;

use compiler::npy::{self, Data};
use compiler::{compile, Compiled};
use isa::HwConfig;

/// The models with recorded outputs.
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

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn read_npy(name: &str) -> npy::Array {
    npy::read(&std::fs::read(data(name)).unwrap()).unwrap()
}

fn import(name: &str) -> tflite::Imported {
    let bytes = std::fs::read(data(&format!("{name}.tflite"))).unwrap();
    tflite::import(&bytes, name).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Runs `inputs` through `compiled` on the golden model, a batch at a time.
fn run(compiled: &Compiled, inputs: &[Vec<i8>]) -> Vec<Vec<i8>> {
    let mut outputs = Vec::new();
    for batch in inputs.chunks(compiled.batch as usize) {
        let (_, run) = compiled.run_golden(batch).unwrap();
        outputs.extend(
            compiled
                .outputs(&run.state.chips[0])
                .into_iter()
                .take(batch.len()),
        );
    }
    outputs
}

#[test]
fn every_output_equals_tflite_reference_kernels() {
    let cfg = HwConfig::preset("small").unwrap();
    let mut report = Vec::new();
    for name in MODELS {
        let imported = import(name);
        let model = &imported.model;
        let inputs = read_npy(&format!("{name}.inputs.npy"));
        let expected = read_npy(&format!("{name}.outputs.npy"));
        let features = inputs.shape[1..].iter().product::<usize>();
        let quantized: Vec<Vec<i8>> = match (&inputs.data, imported.float_input) {
            (Data::I8(v), false) => v.chunks(features).map(<[i8]>::to_vec).collect(),
            (Data::F32(v), true) => v
                .chunks(features)
                .map(|x| model.quantize_input(x))
                .collect(),
            _ => panic!("{name}: inputs of the wrong type"),
        };
        let compiled = compile(model, &cfg, 16).unwrap_or_else(|e| panic!("{name}: {e}"));
        let outputs = run(&compiled, &quantized);
        let quant = model.output_quant().expect("a feature model");
        let differing = match (&expected.data, imported.float_output) {
            (Data::I8(want), false) => outputs
                .concat()
                .iter()
                .zip(want)
                .filter(|(got, want)| got != want)
                .count(),
            (Data::F32(want), true) => outputs
                .concat()
                .iter()
                .zip(want)
                .filter(|(got, want)| quant.dequantize(**got).to_bits() != want.to_bits())
                .count(),
            _ => panic!("{name}: outputs of the wrong type"),
        };
        let elements = outputs.len() * model.outputs();
        assert_eq!(elements, expected.shape.iter().product::<usize>(), "{name}");
        report.push(format!("{name}: {differing} of {elements} differ"));
    }
    let report = report.join("\n");
    println!("{report}");
    assert!(
        report.lines().all(|l| l.contains(": 0 of")),
        "outputs differ from TFLite's:\n{report}"
    );
}

/// The requantization multipliers of `model` compiled for `small`.
fn multipliers(model: &compiler::Model) -> Vec<i32> {
    let compiled = compile(model, &HwConfig::preset("small").unwrap(), 1).unwrap();
    let mut all = Vec::new();
    for chunk in &compiled.weights.chunks {
        if let isa::Rows::Params(entries) = &chunk.rows {
            all.extend(entries.iter().flat_map(|e| e.multiplier.clone()));
        }
    }
    all
}

#[test]
fn per_tensor_weights_are_rescaled_through_float32() {
    // Per tensor, TFLite rounds `s_in * s_w` to float32 before dividing by `s_out`; with the
    // scale copied to every channel the compiler rescales in float64, as TFLite does per
    // channel. The chip's multipliers move (the outputs rarely do: only ties tell, and the
    // tie-heavy models' power-of-two products are exact either way).
    let name = "fc_relu_per_tensor";
    let mut model = import(name).model;
    let tflite = multipliers(&model);
    for layer in &mut model.layers {
        if let compiler::model::Layer::Dense(d) = layer {
            assert_eq!(d.weight_scales.len(), 1, "{}: per tensor", d.name);
            d.weight_scales = vec![d.weight_scales[0]; d.outputs];
        }
    }
    let per_channel = multipliers(&model);
    let moved = tflite
        .iter()
        .zip(&per_channel)
        .filter(|(a, b)| a != b)
        .count();
    println!(
        "{name}: {moved} of {} multipliers move rescaled per channel",
        tflite.len()
    );
    assert!(moved > 0, "the two rules give the same multipliers");
}

#[test]
fn float_inputs_are_quantized_dividing_in_float32() {
    // Half the recorded inputs of the float model lie halfway between two steps: dividing in
    // float64 rounds some of them the other way.
    let imported = import("digits_float_io");
    let Data::F32(x) = read_npy("digits_float_io.inputs.npy").data else {
        panic!("float inputs")
    };
    let compiler::model::Input::Features { quant, .. } = imported.model.input else {
        panic!("a feature model")
    };
    let in_float64 = |v: f32| {
        ((v as f64 / quant.scale as f64).round() + quant.zero_point as f64).clamp(-128.0, 127.0)
            as i8
    };
    let other = x
        .iter()
        .filter(|v| quant.quantize(**v) != in_float64(**v))
        .count();
    println!(
        "{other} of {} float inputs quantize otherwise in float64",
        x.len()
    );
    assert!(other > 0);
}
