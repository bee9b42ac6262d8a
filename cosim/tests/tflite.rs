//! Every committed TFLite test model imported, compiled and run on the RTL under Verilator:
//! op by op and cycle by cycle against the golden model, and every output element equal to
//! what tflite-runtime 2.14's reference kernels gave (`tflite/tests/data`).

mod common;

use compiler::compile;
use cosim::verilator::Verilated;
use isa::HwConfig;
use tflite::reference::{test_data, Reference, MODELS};

#[test]
fn every_test_model_on_the_rtl_equals_tflite() {
    let cfg = HwConfig::preset("small").unwrap();
    let mut rtl = Verilated::new(&cfg).unwrap();
    let mut report = Vec::new();
    for name in MODELS {
        let reference = Reference::load(&test_data(), name).unwrap();
        let batch = reference.inputs.len() as u32;
        let compiled = compile(&reference.imported.model, &cfg, batch)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let outputs = common::run_compiled(&mut rtl, &compiled, &reference.inputs, name);
        let differing = reference.differing(&outputs).unwrap();
        report.push(format!(
            "{name}: {differing} differ, {} cycles",
            compiled.cycles()
        ));
    }
    let report = report.join("\n");
    println!("{report}");
    assert!(
        report.lines().all(|l| l.contains(": 0 differ")),
        "outputs differ from TFLite's:\n{report}"
    );
}
