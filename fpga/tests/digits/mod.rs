//! The digits model on a board over its serial line, as the board tests run it.

use compiler::model::Model;
use compiler::{compile, max_batch, Compiled};
use cosim::compare::state_mismatches;
use cosim::Backend;
use isa::HwConfig;

/// The digits model compiled for `cfg` in batches of up to 8.
pub fn compiled(cfg: &HwConfig) -> (Model, Compiled) {
    let model = Model::digits();
    let batch = max_batch(&model, cfg, 8).unwrap();
    let compiled = compile(&model, cfg, batch).unwrap();
    (model, compiled)
}

/// Runs test batch `index` on `board` and checks it against the golden model: every memory
/// word, the cycle count, and outputs that are not all zero (they came back over the line).
pub fn check_batch(board: &mut dyn Backend, model: &Model, compiled: &Compiled, index: usize) {
    let test = model.samples().unwrap();
    let from = index * compiled.batch as usize;
    let inputs: Vec<Vec<i8>> = test.inputs[from..from + compiled.batch as usize]
        .iter()
        .map(|x| model.quantize_input(x))
        .collect();
    let (image, golden) = compiled.run_golden(&inputs).unwrap();
    let run = board
        .run(&compiled.program, &image, compiled.cycles() + 1, None)
        .unwrap_or_else(|e| panic!("batch {index}: {e}"));
    let mismatches = state_mismatches(&golden, &run);
    assert!(mismatches.is_empty(), "batch {index}: {mismatches:?}");
    assert_eq!(run.cycles, [compiled.cycles()]);
    let outputs = compiled.outputs(&run.state.chips[0]);
    assert_eq!(outputs, compiled.outputs(&golden.state.chips[0]));
    assert!(outputs.iter().flatten().any(|x| *x != 0), "batch {index}");
}
