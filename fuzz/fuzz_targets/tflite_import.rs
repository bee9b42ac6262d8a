//! The `.tflite` reader and importer: any bytes are a model or an error, never a panic, a
//! hang or a blow-up; a model imported writes a directory that loads back as itself.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let Ok(imported) = tflite::import(bytes, "fuzzed") else {
        return;
    };
    let files = imported
        .model
        .files()
        .expect("an imported model writes its files");
    let source = compiler::model::Files(
        files
            .iter()
            .map(|(name, bytes)| (name.clone(), bytes.clone()))
            .collect(),
    );
    let loaded = compiler::Model::load_from(&source).expect("a written model loads");
    assert_eq!(loaded, imported.model);
});
