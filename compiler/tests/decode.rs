//! Decoding the shipped language model position by position on the golden model, against
//! the independent reference (`support/transformer.rs`), which recomputes the whole sequence.

mod support;

use std::path::Path;

use compiler::decode::Decoder;
use compiler::model::{Input, Model, TestSet};
use golden::SystemState;
use isa::HwConfig;

const CHARLM: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../models/charlm");

fn held_out_tokens(model: &Model) -> Vec<usize> {
    let (Input::Tokens(vocab), Some(TestSet::Text(text))) = (&model.input, &model.test) else {
        panic!("charlm is a token model with held-out text")
    };
    text.chars().map(|c| vocab.token(c).unwrap()).collect()
}

/// Decodes `tokens` from a fresh chip of `preset` on the golden model, checking each
/// position's logits and the KV cache after it against the reference's full-sequence
/// recompute; returns each step's cycles.
fn decode_against_reference(model: &Model, preset: &str, tokens: &[usize]) -> Vec<u64> {
    let cfg = HwConfig::preset(preset).unwrap();
    let decoder = Decoder::new(model, &cfg).unwrap();
    let (expected, caches) = support::transformer::run(model, tokens);
    let mut state = SystemState::from_image(&cfg, decoder.image()).unwrap();
    let mut cycles = Vec::new();
    for (p, token) in tokens.iter().enumerate() {
        let step = decoder.step(p).unwrap();
        let run = decoder
            .golden_step(state, &step, &decoder.token_image(*token).unwrap())
            .unwrap();
        assert_eq!(run.cycles(), step.cycles(), "{preset}, position {p}");
        state = run.state;
        assert_eq!(
            decoder.logits(&state.chips[0]),
            expected[p],
            "{preset}, position {p}"
        );
        // The cache after the step holds every position so far, byte for byte.
        let cached = decoder.cached_keys_values(&state.chips[0], p + 1);
        for (a, (cache, (ref_k, ref_v))) in cached.iter().zip(&caches).enumerate() {
            let narrow = |rows: &[Vec<i32>]| -> Vec<Vec<i8>> {
                rows.iter()
                    .map(|r| r.iter().map(|x| *x as i8).collect())
                    .collect()
            };
            assert_eq!(
                cache.keys,
                narrow(&ref_k[..=p]),
                "{preset}, position {p}, attention {a}: K"
            );
            assert_eq!(
                cache.values,
                narrow(&ref_v[..=p]),
                "{preset}, position {p}, attention {a}: V"
            );
        }
        cycles.push(step.cycles());
    }
    cycles
}

#[test]
fn every_position_of_256_held_out_characters_matches_the_reference() {
    let model = Model::load(Path::new(CHARLM)).unwrap();
    let tokens = held_out_tokens(&model);
    // Two full contexts, each from a fresh chip.
    for window in tokens[..256].chunks(128) {
        let cycles = decode_against_reference(&model, "lm", window);
        println!(
            "lm: cycles at positions 0, 63, 127: {}, {}, {}",
            cycles[0], cycles[63], cycles[127]
        );
    }
}

#[test]
fn a_sixteen_lane_chip_gives_the_same_logits() {
    let model = Model::load(Path::new(CHARLM)).unwrap();
    let tokens = held_out_tokens(&model);
    let cycles = decode_against_reference(&model, "lm16", &tokens[1000..1128]);
    println!(
        "lm16: cycles at positions 0, 63, 127: {}, {}, {}",
        cycles[0], cycles[63], cycles[127]
    );
}
