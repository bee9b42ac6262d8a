//! Malformed model directories are clear errors naming the file or field.

use std::path::{Path, PathBuf};

use compiler::model::{Input, Layer, Model, Source, TestSet};
use compiler::npy::{self, Array, Data};

const SHIPPED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../models/digits-mlp");
const CHARLM: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../models/charlm");

/// A copy of the shipped digits model that a test may damage.
fn copy_of_shipped() -> (tempfile::TempDir, PathBuf) {
    copy_of(SHIPPED)
}

/// A copy of a model directory that a test may damage.
fn copy_of(model: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("model");
    std::fs::create_dir(&dir).unwrap();
    for entry in std::fs::read_dir(model).unwrap() {
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
    assert_eq!(Model::load(Path::new(CHARLM)).unwrap(), Model::charlm());
    // The built-in language model carries every file of its directory (its float model
    // and held-out text included), so `--eval` needs no directory either.
    let built_in: Vec<&str> = compiler::model::CHARLM.0.iter().map(|(n, _)| *n).collect();
    for entry in std::fs::read_dir(CHARLM).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        assert!(
            name == "README.md" || built_in.contains(&name.as_str()),
            "{name}"
        );
    }
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
        "format = \"metronome-model/3\"",
    );
    edit_toml(&dir, "features = 64", "vocab = 96");
    assert!(error_of(&dir).contains("format: \"metronome-model/3\" is not supported"));

    // Format 1's layers read tensors made before them, and are of its kinds.
    let (_tmp, dir) = copy_of_shipped();
    edit_toml(&dir, "name = \"fc1\"", "name = \"fc1\"\ninput = \"fc2\"");
    let err = error_of(&dir);
    assert!(
        err.contains("layers[0] (fc1).input: reads \"fc2\", which layers[1] makes later"),
        "{err}"
    );
    let (_tmp, dir) = copy_of_shipped();
    let toml = std::fs::read_to_string(dir.join("model.toml")).unwrap();
    let norm = "[[layers]]\nname = \"norm\"\nkind = \"rms_norm\"\ninput_scale = 0.1\n\
                output_scale = 0.1\n";
    std::fs::write(dir.join("model.toml"), format!("{toml}\n{norm}")).unwrap();
    let err = error_of(&dir);
    assert!(
        err.contains("layers[2] (norm).kind: format \"metronome-model/1\" has \"fully_connected\""),
        "{err}"
    );

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

#[test]
fn the_language_model_loads_with_its_layers_in_order() {
    let model = Model::load(Path::new(CHARLM)).unwrap();
    let Input::Tokens(vocab) = &model.input else {
        panic!("charlm reads tokens")
    };
    assert_eq!((vocab.symbols.len(), vocab.context), (96, 128));
    assert_eq!(vocab.token('a'), Some(66)); // newline, then ASCII from the space
    let kinds: Vec<&str> = model.layers.iter().map(Layer::kind).collect();
    let block = ["rms_norm", "attention", "add", "rms_norm", "mlp", "add"];
    let expected: Vec<&str> = std::iter::once("embedding")
        .chain(block)
        .chain(block)
        .chain(["rms_norm", "fully_connected"])
        .collect();
    assert_eq!(kinds, expected);
    // b0.add2 = b0.add1 + b0.mlp, by index.
    assert_eq!(
        model.layers[6].sources(),
        vec![Source::Layer(3), Source::Layer(5)]
    );
    let Some(TestSet::Text(text)) = &model.test else {
        panic!("charlm ships its held-out text")
    };
    assert!(text.len() >= 256, "{} characters", text.len());
    assert_eq!(model.outputs(), 96);
    // Four 64 x 64 projections and a 64 x 256 MLP per block, then 64 x 96 logits.
    assert_eq!(
        model.macs_per_sample(),
        2 * (4 * 64 * 64 + 2 * 64 * 256) + 64 * 96
    );
    let err = model.feature_graph().unwrap_err();
    assert!(err.contains("reads tokens"), "{err}");
}

#[test]
fn a_broken_language_model_is_named_by_file_and_field() {
    let check = |edit: &dyn Fn(&Path), expected: &str| {
        let (_tmp, dir) = copy_of(CHARLM);
        edit(&dir);
        let err = error_of(&dir);
        assert!(err.contains(expected), "expected {expected:?} in: {err}");
    };
    // A missing tensor.
    check(
        &|d| std::fs::remove_file(d.join("b1.attn.wv.npy")).unwrap(),
        "cannot read",
    );
    check(
        &|d| std::fs::remove_file(d.join("b1.attn.wv.npy")).unwrap(),
        "b1.attn.wv.npy",
    );
    // A wrong shape: a square projection of another width.
    check(
        &|d| write_npy(d, "b0.attn.wk.npy", &[64, 63], Data::I8(vec![1; 64 * 63])),
        "b0.attn.wk.npy: has shape [64, 63], expected [64, 64] ([outputs, inputs])",
    );
    check(
        &|d| {
            write_npy(
                d,
                "embed.positions.npy",
                &[128, 32],
                Data::I8(vec![1; 128 * 32]),
            )
        },
        "embed.positions.npy: has shape [128, 32], expected [rows, 64]",
    );
    check(
        &|d| write_npy(d, "b0.mlp.w2.npy", &[64, 128], Data::I8(vec![1; 64 * 128])),
        "b0.mlp.w2.npy: has shape [64, 128], expected [64, 256] ([outputs, inputs])",
    );
    check(
        &|d| write_npy(d, "b0.attn.wq_scales.npy", &[64], Data::I8(vec![1; 64])),
        "b0.attn.wq_scales.npy: holds int8, expected float32",
    );
    // Bad scales.
    check(
        &|d| edit_toml(d, "scores_scale = 0.3524773418903351", "scores_scale = 0.0"),
        "layers[2] (b0.attn).scores_scale: is 0; scales must be positive and finite",
    );
    check(
        &|d| {
            edit_toml(
                d,
                "hidden_scale = 0.0633118599653244",
                "hidden_scale = -1.0",
            )
        },
        "layers[5] (b0.mlp).hidden_scale: is -1; scales must be positive and finite",
    );
    check(
        &|d| {
            let mut scales = vec![0.01f32; 256];
            scales[7] = f32::INFINITY;
            write_npy(d, "b1.mlp.w1_scales.npy", &[256], Data::F32(scales))
        },
        "b1.mlp.w1_scales.npy: value 7 is inf",
    );
    // An unknown kind, and a known one with a field it lacks.
    check(
        &|d| edit_toml(d, "kind = \"rms_norm\"", "kind = \"layer_norm\""),
        "unknown variant `layer_norm`",
    );
    check(
        &|d| {
            edit_toml(
                d,
                "kind = \"rms_norm\"",
                "kind = \"rms_norm\"\nepsilon = 1e-5",
            )
        },
        "unknown field `epsilon`",
    );
    check(
        &|d| edit_toml(d, "activation = \"gelu\"", "activation = \"swish\""),
        "layers[5] (b0.mlp).activation: \"swish\" is not supported",
    );
    // A tensor read before it is made, or never made.
    check(
        &|d| {
            edit_toml(
                d,
                "inputs = [\"embed\", \"b0.attn\"]",
                "inputs = [\"embed\", \"b0.mlp\"]",
            )
        },
        "layers[3] (b0.add1).inputs: reads \"b0.mlp\", which layers[5] makes later",
    );
    check(
        &|d| edit_toml(d, "input = \"b0.norm1\"", "input = \"b0.norm\""),
        "layers[2] (b0.attn).input: no layer is named \"b0.norm\"",
    );
    // What a layer reads must be what it takes.
    check(
        &|d| edit_toml(d, "input = \"b0.norm1\"", "input = \"embed\""),
        "layers[2] (b0.attn).input: reads 64 residual-stream values; this kind reads int8 values",
    );
    check(
        &|d| {
            edit_toml(
                d,
                "input = \"b0.add1\"\ninput_scale",
                "input = \"b0.norm1\"\ninput_scale",
            )
        },
        "layers[4] (b0.norm2).input: reads 64 int8 values; this kind reads the residual stream",
    );
    // Heads that do not divide the width; the vocabulary and its size.
    check(
        &|d| edit_toml(d, "heads = 4", "heads = 5"),
        "layers[2] (b0.attn).heads: is 5; it must divide the width, 64",
    );
    check(
        &|d| edit_toml(d, "vocab = 96", "vocab = 95"),
        "input.symbols: has 96 symbols, but input.vocab is 95",
    );
    check(
        &|d| std::fs::write(d.join("held_out.txt"), "caf\u{e9}").unwrap(),
        "test.text: character 3 ('\u{e9}') is not one of the model's symbols",
    );
    // A token model's zero points are all 0, and its softmax sums fit int32.
    check(
        &|d| edit_toml(d, "output_zero_point = 0", "output_zero_point = 5"),
        "layers[14] (logits).output_zero_point: is 5; a token model's zero points are all 0",
    );
    check(
        &|d| edit_toml(d, "context = 128", "context = 200000"),
        "input.context: is 200000; it must be in 1..=131071",
    );
    // Weights are symmetric.
    check(
        &|d| {
            let mut w = vec![3i8; 256 * 64];
            w[64 * 2 + 9] = -128;
            write_npy(d, "b0.mlp.w1.npy", &[256, 64], Data::I8(w))
        },
        "layers[5] (b0.mlp).w1: weight [2, 9] is -128",
    );
}
