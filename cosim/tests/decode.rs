//! The language model generating text on the RTL: every step of a 64-token run from a fixed
//! prompt, on two presets, bit-exact and cycle-exact against the golden model op by op.

use std::path::Path;

use compiler::decode::{Decoder, Sampler, Step};
use compiler::model::Model;
use compiler::CompileError;
use cosim::steps::Steps;
use cosim::verilator::Verilated;
use isa::{HwConfig, MemImage};

const CHARLM: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../models/charlm");
const PROMPT: &str = "The return statement";

/// `tokens` new tokens of each of `batch` sequences from the prompt (sequence `s` sampled at
/// temperature 1 with seed `s`, or greedily for one sequence), every step checked against the
/// golden model op by op and cycle for cycle.
fn generate_on_rtl(preset: &str, batch: usize, tokens: usize) -> Vec<String> {
    let model = Model::load(Path::new(CHARLM)).unwrap();
    let cfg = HwConfig::preset(preset).unwrap();
    let mut decoder = Decoder::new(&model, &cfg).unwrap();
    let prompt = decoder.tokenize(PROMPT).unwrap();
    if batch > 1 {
        decoder = Decoder::batched(&model, &cfg, batch, prompt.len() + tokens - 1).unwrap();
    }
    let mut steps = Steps::new(Verilated::new(&cfg).unwrap(), decoder.image()).unwrap();
    let temperature = if batch == 1 { 0.0 } else { 1.0 };
    let mut samplers: Vec<Sampler> = (0..batch as u64)
        .map(|s| Sampler::new(temperature, s, decoder.logit_scale()).unwrap())
        .collect();
    let run = |step: &Step, token: &MemImage| -> Result<Vec<Vec<i8>>, CompileError> {
        let p = step.position;
        let checked = steps.step(&step.program, token, step.cycles() + 1).unwrap();
        assert!(
            checked.mismatches.is_empty(),
            "{preset}, position {p}: {:?}",
            &checked.mismatches[..checked.mismatches.len().min(5)]
        );
        assert_eq!(
            checked.rtl.cycles,
            vec![step.cycles()],
            "{preset}, position {p}"
        );
        Ok(decoder.logits(&checked.rtl.state.chips[0]))
    };
    let generated = decoder
        .generate(&vec![prompt; batch], tokens, &mut samplers, run, |_, _| {})
        .unwrap();
    generated
        .iter()
        .map(|g| g.iter().map(|t| decoder.symbols()[*t]).collect())
        .collect()
}

#[test]
fn sixty_four_tokens_on_lm16_match_the_golden_model_step_by_step() {
    let [text] = &generate_on_rtl("lm16", 1, 64)[..] else {
        unreachable!()
    };
    println!("lm16: {PROMPT}{text}");
    assert_eq!(text.chars().count(), 64);
}

#[test]
fn sixty_four_tokens_on_lm_match_the_golden_model_step_by_step() {
    let [text] = &generate_on_rtl("lm", 1, 64)[..] else {
        unreachable!()
    };
    println!("lm: {PROMPT}{text}");
    assert_eq!(text.chars().count(), 64);
}

#[test]
fn a_batch_of_four_sequences_on_lm16_matches_the_golden_model_step_by_step() {
    let texts = generate_on_rtl("lm16", 4, 6);
    for (s, text) in texts.iter().enumerate() {
        println!("lm16, sequence {s}: {PROMPT}{text}");
        assert_eq!(text.chars().count(), 6);
    }
    // Sampled with four seeds, the sequences part ways.
    assert!(texts.iter().any(|t| t != &texts[0]), "{texts:?}");
}
