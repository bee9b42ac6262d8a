//! The integer recipes of `docs/transformer.md` on the shipped language model, through the
//! independent reference in `support/transformer.rs`: how close the int8 model comes to the
//! float one it was quantized from, on the held-out text.

mod support;

use std::path::Path;

use compiler::model::float::{nll, FloatTransformer};
use compiler::model::{argmax, Input, Layer, Model, TestSet};
use support::transformer::logits;

const CHARLM: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../models/charlm");

/// The training script's evaluation: `count` evenly spaced windows of `t` tokens and the
/// tokens after them (numpy's `linspace(0, len - t - 1, count)`, truncated).
fn windows(tokens: &[usize], t: usize, count: usize) -> Vec<(&[usize], &[usize])> {
    let stop = (tokens.len() - t - 1) as f64;
    (0..count)
        .map(|i| {
            let s = (i as f64 * (stop / (count - 1) as f64)) as usize;
            (&tokens[s..s + t], &tokens[s + 1..s + t + 1])
        })
        .collect()
}

#[test]
fn the_int8_model_is_within_five_percent_of_the_float_one_on_held_out_text() {
    let model = Model::load(Path::new(CHARLM)).unwrap();
    let Input::Tokens(vocab) = &model.input else {
        panic!("a token model")
    };
    let Some(TestSet::Text(text)) = &model.test else {
        panic!("charlm ships its held-out text")
    };
    let tokens: Vec<usize> = text.chars().map(|c| vocab.token(c).unwrap()).collect();
    let Some(Layer::Dense(out)) = model.layers.last() else {
        panic!("charlm ends in its logits")
    };
    let float =
        FloatTransformer::load(Path::new(CHARLM), vocab.symbols.len(), vocab.context).unwrap();

    let (mut float_loss, mut int8_loss, mut agree, mut positions) = (0f64, 0f64, 0usize, 0usize);
    for (x, y) in windows(&tokens, vocab.context, 64) {
        let f = float.logits(x);
        let q = logits(&model, x);
        for p in 0..x.len() {
            let fp: Vec<f64> = f[p].iter().map(|v| *v as f64).collect();
            let qp: Vec<f64> = q[p]
                .iter()
                .map(|v| *v as f64 * out.output.scale as f64)
                .collect();
            float_loss += nll(&fp, y[p]);
            int8_loss += nll(&qp, y[p]);
            agree += usize::from(argmax(&f[p]) == argmax(&q[p]));
            positions += 1;
        }
    }
    let (float_loss, int8_loss) = (float_loss / positions as f64, int8_loss / positions as f64);
    let agreement = agree as f64 / positions as f64;
    println!(
        "{positions} positions: float {float_loss:.4}, int8 {int8_loss:.4} ({:+.2} %), argmax \
         agreement {:.2} %",
        100.0 * (int8_loss / float_loss - 1.0),
        100.0 * agreement
    );
    // The float model here is the training script's, to its float32 rounding.
    let trained = float.held_out_loss.unwrap();
    assert!(
        (float_loss - trained).abs() < 2e-3,
        "{float_loss} vs {trained}"
    );
    assert!(int8_loss <= 1.05 * float_loss, "int8 loss {int8_loss}");
    assert!(agreement >= 0.90, "argmax agreement {agreement}");
}
