//! Malformed model directories are clear errors naming the file or field.

use std::path::{Path, PathBuf};

use compiler::model::Model;
use compiler::npy::{self, Array, Data};

const SHIPPED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../models/digits-mlp");

/// A copy of the shipped model that a test may damage.
fn copy_of_shipped() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("model");
    std::fs::create_dir(&dir).unwrap();
    for entry in std::fs::read_dir(SHIPPED).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
    }
    (tmp, dir)
}

fn error_of(dir: &Path) -> String {
    Model::load(dir).unwrap_err().to_string()
}

fn edit_toml(dir: &Path, from: &str, to: &str) {
    let path = dir.join("model.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "model.toml has no {from:?}");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
}

fn write_npy(dir: &Path, name: &str, shape: &[usize], data: Data) {
    let bytes = npy::write(&Array {
        shape: shape.to_vec(),
        data,
    });
    std::fs::write(dir.join(name), bytes).unwrap();
}

#[test]
fn the_shipped_directory_loads_like_the_built_in_model() {
    assert_eq!(Model::load(Path::new(SHIPPED)).unwrap(), Model::digits());
}

#[test]
fn a_missing_tensor_names_the_file() {
    let (_tmp, dir) = copy_of_shipped();
    std::fs::remove_file(dir.join("fc2.bias.npy")).unwrap();
    let err = error_of(&dir);
    assert!(
        err.starts_with("cannot read ") && err.contains("fc2.bias.npy"),
        "{err}"
    );
}

#[test]
fn a_wrong_shape_names_the_file_and_both_shapes() {
    let (_tmp, dir) = copy_of_shipped();
    write_npy(
        &dir,
        "fc1.weights.npy",
        &[64, 24],
        Data::I8(vec![0; 64 * 24]),
    );
    let err = error_of(&dir);
    assert!(
        err.contains("fc1.weights.npy: has shape [64, 24], expected [24, 64]"),
        "{err}"
    );
}

#[test]
fn a_wrong_dtype_is_named() {
    let (_tmp, dir) = copy_of_shipped();
    write_npy(&dir, "fc1.bias.npy", &[24], Data::F32(vec![0.0; 24]));
    let err = error_of(&dir);
    assert!(
        err.contains("fc1.bias.npy: holds float32, expected int32"),
        "{err}"
    );
}

#[test]
fn a_zero_scale_is_refused_wherever_it_is() {
    let (_tmp, dir) = copy_of_shipped();
    edit_toml(&dir, "scale = 0.062745101749897", "scale = 0.0");
    let err = error_of(&dir);
    assert!(
        err.contains("input.scale: is 0; scales must be positive and finite"),
        "{err}"
    );

    let (_tmp, dir) = copy_of_shipped();
    let mut scales = vec![0.01f32; 10];
    scales[3] = 0.0;
    write_npy(&dir, "fc2.weight_scales.npy", &[10], Data::F32(scales));
    let err = error_of(&dir);
    assert!(
        err.contains("layers[1] (fc2).weight_scales: channel 3 has scale 0"),
        "{err}"
    );
}

#[test]
fn nan_is_refused() {
    let (_tmp, dir) = copy_of_shipped();
    let mut weights = vec![0.5f32; 24 * 64];
    weights[100] = f32::NAN;
    write_npy(&dir, "fc1.float_weights.npy", &[24, 64], Data::F32(weights));
    let err = error_of(&dir);
    assert!(
        err.contains("fc1.float_weights.npy: value 100 is NaN"),
        "{err}"
    );

    let (_tmp, dir) = copy_of_shipped();
    edit_toml(
        &dir,
        "output_scale = 0.0865740105509758",
        "output_scale = nan",
    );
    let err = error_of(&dir);
    assert!(
        err.contains("layers[0] (fc1).output_scale: is NaN"),
        "{err}"
    );
}

#[test]
fn broken_descriptions_are_named() {
    let (_tmp, dir) = copy_of_shipped();
    edit_toml(&dir, "inputs = 24", "inputs = 23");
    let err = error_of(&dir);
    assert!(
        err.contains("fc2.weights.npy: has shape [10, 24], expected [10, 23]"),
        "{err}"
    );

    let (_tmp, dir) = copy_of_shipped();
    edit_toml(&dir, "output_zero_point = -5", "output_zero_point = 300");
    assert!(error_of(&dir).contains("output_zero_point: is 300; it must be in -128..=127"));

    let (_tmp, dir) = copy_of_shipped();
    edit_toml(&dir, "activation = \"relu\"", "activation = \"gelu\"");
    assert!(error_of(&dir).contains("\"gelu\" is not supported"));

    let (_tmp, dir) = copy_of_shipped();
    edit_toml(
        &dir,
        "kind = \"fully_connected\"",
        "kind = \"fully_connected\"\nstride = 2",
    );
    let err = error_of(&dir);
    assert!(
        err.contains("model.toml") && err.contains("unknown field `stride`"),
        "{err}"
    );

    let (_tmp, dir) = copy_of_shipped();
    edit_toml(
        &dir,
        "weights = \"fc1.weights.npy\"",
        "weights = \"../../etc/passwd\"",
    );
    assert!(error_of(&dir).contains("without '..'"));

    let (_tmp, dir) = copy_of_shipped();
    edit_toml(&dir, "format = \"metronome-model/1\"", "format = \"onnx\"");
    assert!(error_of(&dir).contains("format: \"onnx\" is not supported"));

    // A later format's fields do not hide that it is a later format.
    let (_tmp, dir) = copy_of_shipped();
    edit_toml(
        &dir,
        "format = \"metronome-model/1\"",
        "format = \"metronome-model/2\"",
    );
    edit_toml(&dir, "features = 64", "vocab = 96");
    assert!(error_of(&dir).contains("format: \"metronome-model/2\" is not supported"));

    let (_tmp, dir) = copy_of_shipped();
    std::fs::write(dir.join("test_labels.npy"), b"not numpy").unwrap();
    assert!(error_of(&dir).contains("test_labels.npy: not a .npy file"));

    let err = error_of(Path::new("/nonexistent/model"));
    assert!(err.contains("not a directory"), "{err}");
}

#[test]
fn out_of_range_integers_are_refused() {
    let (_tmp, dir) = copy_of_shipped();
    let mut weights = vec![1i8; 10 * 24];
    weights[24 + 5] = -128;
    write_npy(&dir, "fc2.weights.npy", &[10, 24], Data::I8(weights));
    let err = error_of(&dir);
    assert!(err.contains("weight [1, 5] is -128"), "{err}");

    let (_tmp, dir) = copy_of_shipped();
    write_npy(&dir, "test_labels.npy", &[360], Data::I8(vec![10; 360]));
    let err = error_of(&dir);
    assert!(
        err.contains("sample 0 has label 10, but the model has 10 outputs"),
        "{err}"
    );
}
