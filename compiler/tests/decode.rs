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

/// Decodes `sequences` (one a batch lane, all of one length) side by side from a fresh chip
/// of `preset` on the golden model, checking each position's logits and the KV cache after it
/// against the reference's full-sequence recompute of each sequence; returns each step's
/// cycles.
fn decode_against_reference(model: &Model, preset: &str, sequences: &[&[usize]]) -> Vec<u64> {
    decode_on(model, &HwConfig::preset(preset).unwrap(), preset, sequences)
}

/// [`decode_against_reference`] on any config (`label` names it in failures).
fn decode_on(model: &Model, cfg: &HwConfig, label: &str, sequences: &[&[usize]]) -> Vec<u64> {
    let (cfg, preset) = (cfg.clone(), label);
    let length = sequences[0].len();
    let decoder = if sequences.len() == 1 {
        Decoder::new(model, &cfg).unwrap()
    } else {
        Decoder::batched(model, &cfg, sequences.len(), length).unwrap()
    };
    let references: Vec<_> = sequences
        .iter()
        .map(|tokens| support::transformer::run(model, tokens))
        .collect();
    let mut state = SystemState::from_image(&cfg, decoder.image()).unwrap();
    let mut cycles = Vec::new();
    for p in 0..length {
        let step = decoder.step(p).unwrap();
        let now: Vec<usize> = sequences.iter().map(|t| t[p]).collect();
        let run = decoder
            .golden_step(state, &step, &decoder.token_image(&now).unwrap())
            .unwrap();
        assert_eq!(run.cycles(), step.cycles(), "{preset}, position {p}");
        state = run.state;
        let logits = decoder.logits(&state.chips[0]);
        for (s, (expected, caches)) in references.iter().enumerate() {
            let at = format!("{preset}, sequence {s}, position {p}");
            assert_eq!(logits[s], expected[p], "{at}");
            // The cache after the step holds every position so far, byte for byte.
            let cached = decoder.cached_keys_values(&state, s, p + 1);
            for (a, (cache, (ref_k, ref_v))) in cached.iter().zip(caches).enumerate() {
                let narrow = |rows: &[Vec<i32>]| -> Vec<Vec<i8>> {
                    rows.iter()
                        .map(|r| r.iter().map(|x| *x as i8).collect())
                        .collect()
                };
                assert_eq!(cache.keys, narrow(&ref_k[..=p]), "{at}, attention {a}: K");
                assert_eq!(cache.values, narrow(&ref_v[..=p]), "{at}, attention {a}: V");
            }
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
        let cycles = decode_against_reference(&model, "lm", &[window]);
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
    let cycles = decode_against_reference(&model, "lm16", &[&tokens[1000..1128]]);
    println!(
        "lm16: cycles at positions 0, 63, 127: {}, {}, {}",
        cycles[0], cycles[63], cycles[127]
    );
}

#[test]
fn a_batch_of_sequences_decodes_each_as_if_alone() {
    let model = Model::load(Path::new(CHARLM)).unwrap();
    let tokens = held_out_tokens(&model);
    // Different texts side by side, 24 positions each (three tiles of `lm`'s cache, two of
    // `lm16`'s, the last one partly masked): as many as each chip's instruction memory takes.
    let sequences: Vec<&[usize]> = (0..4).map(|s| &tokens[2000 + 500 * s..][..24]).collect();
    for (preset, batch) in [("lm", 2), ("lm16", 4)] {
        decode_against_reference(&model, preset, &sequences[..batch]);
    }
}

#[test]
fn a_norm_whose_reader_comes_after_another_norm_keeps_its_own_factor() {
    // charlm with block 0 made parallel: both norms read the embedding, and the MLP's norm
    // runs before the attention that reads the first one.
    let tmp = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(CHARLM).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), tmp.path().join(entry.file_name())).unwrap();
    }
    let path = tmp.path().join("model.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let norm2 = "[[layers]]\nname = \"b0.norm2\"\nkind = \"rms_norm\"\ninput = \"b0.add1\"\n";
    let at = text.find(norm2).expect("charlm's b0.norm2");
    let end = at + text[at..].find("\n\n").unwrap() + 2;
    let moved = text[at..end].replace("input = \"b0.add1\"", "input = \"embed\"");
    let without = format!("{}{}", &text[..at], &text[end..]);
    let attn = without.find("[[layers]]\nname = \"b0.attn\"").unwrap();
    let parallel = format!("{}{moved}{}", &without[..attn], &without[attn..]);
    std::fs::write(&path, parallel).unwrap();
    let model = Model::load(tmp.path()).unwrap();
    let tokens = held_out_tokens(&model);
    decode_against_reference(&model, "lm", &[&tokens[3000..3012]]);
}

/// `lm` chips as a system of `chips` on `topology`.
fn lm_system(chips: u32, topology: isa::Topology) -> HwConfig {
    HwConfig::preset("lm")
        .unwrap()
        .with_system(isa::SystemConfig {
            chips,
            topology,
            link_latency: 2,
        })
        .unwrap()
}

#[test]
fn split_over_two_four_and_eight_chips_every_position_matches_the_reference() {
    let model = Model::load(Path::new(CHARLM)).unwrap();
    let tokens = held_out_tokens(&model);
    let ring = lm_system(2, isa::Topology::Ring);
    let one = decode_against_reference(&model, "lm", &[&tokens[3000..3128]]);
    // One chip's schedule as docs/transformer.md publishes it (it does not depend on the
    // tokens): the system's code paths leave it alone.
    assert_eq!([one[0], one[63], one[127]], [15_706, 17_519, 19_999]);
    let two = decode_on(&model, &ring, "lm x2 ring", &[&tokens[3000..3128]]);
    let mean = |c: &[u64]| c.iter().sum::<u64>() as f64 / c.len() as f64;
    println!(
        "lm over a whole context: {:.0} cycles a token on one chip, {:.0} on a ring of two",
        mean(&one),
        mean(&two)
    );
    let mesh = lm_system(4, isa::Topology::Mesh { rows: 2, cols: 2 });
    decode_on(&model, &mesh, "lm x4 mesh", &[&tokens[4000..4040]]);
    let dragonfly = lm_system(
        8,
        isa::Topology::Dragonfly {
            groups: 2,
            group_size: 4,
        },
    );
    decode_on(
        &model,
        &dragonfly,
        "lm x8 dragonfly",
        &[&tokens[5000..5020]],
    );
    // A batch: each sequence's heads on their chips, its shard of the stream on each.
    let sequences: Vec<&[usize]> = (0..2).map(|s| &tokens[6000 + 500 * s..][..20]).collect();
    decode_on(&model, &ring, "lm x2 ring, batch 2", &sequences);
}

#[test]
fn split_unevenly_over_three_chips_a_batch_of_three_matches_the_reference() {
    // lm16: a head a dimension tile, 4 stream tiles, 16 hidden tiles and 4 heads over 3
    // chips (chip 0 holds two of each), and a batch above the two sets of head temps.
    let model = Model::load(Path::new(CHARLM)).unwrap();
    let tokens = held_out_tokens(&model);
    let cfg = HwConfig::preset("lm16")
        .unwrap()
        .with_system(isa::SystemConfig {
            chips: 3,
            topology: isa::Topology::Ring,
            link_latency: 1,
        })
        .unwrap();
    let sequences: Vec<&[usize]> = (0..3).map(|s| &tokens[7000 + 300 * s..][..18]).collect();
    decode_on(&model, &cfg, "lm16 x3 ring, batch 3", &sequences);
}
