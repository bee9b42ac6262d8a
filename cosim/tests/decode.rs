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
    generate_on(&HwConfig::preset(preset).unwrap(), preset, batch, tokens)
}

/// [`generate_on_rtl`] on any config, a system's included (`label` names it in failures):
/// every chip's cycles the schedule's.
fn generate_on(cfg: &HwConfig, label: &str, batch: usize, tokens: usize) -> Vec<String> {
    let (cfg, preset) = (cfg.clone(), label);
    let model = Model::load(Path::new(CHARLM)).unwrap();
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
        let scheduled: Vec<u64> = step.schedules.iter().map(|s| s.cycles()).collect();
        assert_eq!(checked.rtl.cycles, scheduled, "{preset}, position {p}");
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

#[test]
fn split_over_a_ring_of_two_chips_the_text_is_one_chips() {
    let cfg = HwConfig::preset("lm").unwrap();
    let ring = cfg
        .clone()
        .with_system(isa::SystemConfig {
            chips: 2,
            topology: isa::Topology::Ring,
            link_latency: 2,
        })
        .unwrap();
    let [text] = &generate_on(&ring, "lm x2 ring", 1, 12)[..] else {
        unreachable!()
    };
    // The same greedy text as one chip's, on the golden model.
    let model = Model::load(Path::new(CHARLM)).unwrap();
    let decoder = Decoder::new(&model, &cfg).unwrap();
    let mut state = golden::SystemState::from_image(&cfg, decoder.image()).unwrap();
    let mut greedy = vec![Sampler::new(0.0, 0, decoder.logit_scale()).unwrap()];
    let run = |step: &Step, token: &MemImage| -> Result<Vec<Vec<i8>>, CompileError> {
        let taken = std::mem::replace(&mut state, golden::SystemState::new(&cfg));
        state = decoder.golden_step(taken, step, token)?.state;
        Ok(decoder.logits(&state.chips[0]))
    };
    let prompt = decoder.tokenize(PROMPT).unwrap();
    let one = decoder
        .generate(&[prompt], 12, &mut greedy, run, |_, _| {})
        .unwrap();
    let one: String = one[0].iter().map(|t| decoder.symbols()[*t]).collect();
    println!("lm x2 ring: {PROMPT}{text}");
    assert_eq!(text, &one);
}
