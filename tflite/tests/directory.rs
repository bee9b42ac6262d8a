//! An imported model written as a model directory (what `metronome import` does) loads back
//! as the same model.

use std::path::PathBuf;

#[test]
fn every_imported_model_round_trips_through_its_directory() {
    let data = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let mut models = 0;
    for entry in std::fs::read_dir(&data).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if path.extension().is_none_or(|e| e != "tflite") || name.contains("unsupported") {
            continue;
        }
        let Ok(imported) = tflite::import(&std::fs::read(&path).unwrap(), &name) else {
            assert_eq!(name, "float_model", "only the float model is refused");
            continue;
        };
        let dir = tempfile::tempdir().unwrap();
        for (file, bytes) in imported.model.files().unwrap() {
            std::fs::write(dir.path().join(file), bytes).unwrap();
        }
        let loaded = compiler::Model::load(dir.path()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(loaded, imported.model, "{name}");
        models += 1;
    }
    assert_eq!(models, 10);
}
