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

fn generate_on_rtl(preset: &str, tokens: usize) -> String {
    let model = Model::load(Path::new(CHARLM)).unwrap();
    let cfg = HwConfig::preset(preset).unwrap();
    let decoder = Decoder::new(&model, &cfg).unwrap();
    let mut steps = Steps::new(Verilated::new(&cfg).unwrap(), decoder.image()).unwrap();
    let mut sampler = Sampler::new(0.0, 0, decoder.logit_scale()).unwrap();
    let prompt = decoder.tokenize(PROMPT).unwrap();
    let run = |step: &Step, token: &MemImage| -> Result<Vec<i8>, CompileError> {
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
        .generate(&prompt, tokens, &mut sampler, run, |_| {})
        .unwrap();
    generated.iter().map(|t| decoder.symbols()[*t]).collect()
}

#[test]
fn sixty_four_tokens_on_lm16_match_the_golden_model_step_by_step() {
    let text = generate_on_rtl("lm16", 64);
    println!("lm16: {PROMPT}{text}");
    assert_eq!(text.chars().count(), 64);
}

#[test]
fn sixty_four_tokens_on_lm_match_the_golden_model_step_by_step() {
    let text = generate_on_rtl("lm", 64);
    println!("lm: {PROMPT}{text}");
    assert_eq!(text.chars().count(), 64);
}
