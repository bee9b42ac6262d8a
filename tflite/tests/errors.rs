//! What the importer refuses, and how it says so: unsupported operators, float models, and
//! truncated or corrupted files (never a panic).

use std::path::PathBuf;

fn data(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    std::fs::read(path).unwrap()
}

fn error(bytes: &[u8]) -> String {
    match tflite::import(bytes, "m") {
        Ok(_) => panic!("imported"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn unsupported_operators_are_named_with_their_index() {
    let err = error(&data("unsupported_softmax.tflite"));
    assert!(
        err.starts_with("operator 1 (SOFTMAX): not supported"),
        "{err}"
    );
    assert!(err.contains("without its final softmax"), "{err}");
    let err = error(&data("unsupported_conv.tflite"));
    assert!(
        err.starts_with("operator 0 (CONV_2D): not supported; import reads "),
        "{err}"
    );
    assert!(err.contains(tflite::SUPPORTED), "{err}");
}

#[test]
fn a_float_model_is_refused_with_how_to_convert_it() {
    let err = error(&data("float_model.tflite"));
    assert!(err.contains("this is a float model"), "{err}");
    assert!(err.contains("TFLITE_BUILTINS_INT8"), "{err}");
}

#[test]
fn not_a_tflite_file() {
    let err = error(b"not a model at all");
    assert!(err.contains("not a TFLite model"), "{err}");
    let err = error(b"");
    assert!(err.contains("not a TFLite model"), "{err}");
}

#[test]
fn every_truncation_is_an_error() {
    let bytes = data("add.tflite");
    for end in 0..bytes.len() {
        assert!(
            tflite::import(&bytes[..end], "m").is_err(),
            "{end} of {} bytes imported",
            bytes.len()
        );
    }
}

#[test]
fn corrupted_bytes_never_panic() {
    // Every byte of a model with each of three flips, and a seeded run of multi-byte damage:
    // an import may succeed (a changed weight is still a model) but must not panic.
    let bytes = data("fc_relu6_per_channel.tflite");
    let mut imported = 0;
    for i in 0..bytes.len() {
        for flip in [0x01u8, 0x80, 0xff] {
            let mut b = bytes.clone();
            b[i] ^= flip;
            imported += usize::from(tflite::import(&b, "m").is_ok());
        }
    }
    let mut rng = seeded::Rng::new(15);
    for _ in 0..2000 {
        let mut b = bytes.clone();
        for _ in 0..rng.range(2, 8) {
            let at = rng.range(0, b.len() as i64 - 1) as usize;
            b[at] = rng.range(0, 255) as u8;
        }
        imported += usize::from(tflite::import(&b, "m").is_ok());
    }
    assert!(imported > 0, "some damage (to weights) leaves a model");
}
