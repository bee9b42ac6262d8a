//! The model directory reader (`model.toml` and its `.npy` tensors): each shipped model with
//! one of its files replaced by the fuzzer's bytes.
#![no_main]

use compiler::model::{Files, CHARLM, DIGITS_MLP, DIGITS_WIDE};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let [base, file, bytes @ ..] = data else {
        return;
    };
    let shipped = [&DIGITS_MLP, &CHARLM, &DIGITS_WIDE][*base as usize % 3];
    let mut files: Vec<(String, Vec<u8>)> = shipped
        .0
        .iter()
        .map(|(name, bytes)| (name.to_string(), bytes.to_vec()))
        .collect();
    // model.toml is the first file: favour it.
    let which = (*file as usize % (files.len() + 4)).saturating_sub(4);
    files[which].1 = bytes.to_vec();
    if let Ok(model) = compiler::Model::load_from(&Files(files)) {
        let _ = model.feature_graph();
        let _ = model.files();
    }
});
