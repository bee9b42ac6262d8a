//! The `.tflite` reader and importer: any bytes are a model or an error, never a panic, a
//! hang or a blow-up; a model imported writes a directory that loads back as itself, and
//! compiles for `small` or is refused with an error.
#![no_main]

use compiler::model::Files;
use isa::HwConfig;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let Ok(imported) = tflite::import(bytes, "fuzzed") else {
        return;
    };
    let files = imported
        .model
        .files()
        .expect("an imported model writes its files");
    let loaded = compiler::Model::load_from(&Files(files)).expect("a written model loads");
    assert_eq!(loaded, imported.model);
    let small = HwConfig::preset("small").expect("a preset");
    let _ = compiler::compile(&imported.model, &small, 1);
});
