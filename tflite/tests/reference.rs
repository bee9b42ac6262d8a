//! Every committed test model (`scripts/make_tflite_models.py`) imported, compiled and run on
//! the golden model: each output element equal to what tflite-runtime 2.14's reference
//! kernels (`BUILTIN_REF`) computed for it, recorded beside the model.

use compiler::npy::{self, Data};
use compiler::{compile, Compiled};
use isa::HwConfig;
use tflite::reference::{test_data, Reference, MODELS};

fn read_npy(name: &str) -> npy::Array {
    npy::read(&std::fs::read(test_data().join(name)).unwrap()).unwrap()
}

fn import(name: &str) -> tflite::Imported {
    Reference::load(&test_data(), name).unwrap().imported
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
        let reference = Reference::load(&test_data(), name).unwrap();
        let model = &reference.imported.model;
        // Batches of 16: the 64 inputs take four runs.
        let compiled = compile(model, &cfg, 16).unwrap_or_else(|e| panic!("{name}: {e}"));
        let outputs = run(&compiled, &reference.inputs);
        let differing = reference.differing(&outputs).unwrap();
        report.push(format!(
            "{name}: {differing} of {} differ",
            outputs.len() * model.outputs()
        ));
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
