//! Every committed TFLite test model imported, compiled and run on the RTL under Verilator:
//! op by op and cycle by cycle against the golden model, and every output element equal to
//! what tflite-runtime 2.14's reference kernels gave (`tflite/tests/data`).

use compiler::compile;
use cosim::verilator::Verilated;
use cosim::Backend;
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
        let (image, golden) = compiled.run_golden(&reference.inputs).unwrap();
        let run = rtl
            .run(&compiled.program, &image, compiled.cycles() + 1, None)
            .unwrap();
        let mismatches = cosim::compare::mismatches(&golden, &run);
        assert!(
            mismatches.is_empty(),
            "{name}: {:?}",
            &mismatches[..mismatches.len().min(5)]
        );
        assert_eq!(run.cycles, vec![compiled.cycles()], "{name}");
        let outputs = compiled.outputs(&run.state.chips[0]);
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
