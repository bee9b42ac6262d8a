//! The language model generating text on the RTL: every step of a 64-token run from a fixed
//! prompt, on two presets, bit-exact and cycle-exact against the golden model op by op.

use std::path::Path;

use compiler::decode::Decoder;
use compiler::model::{argmax, Model};
use cosim::steps::Steps;
use cosim::verilator::Verilated;
use isa::HwConfig;

const CHARLM: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../models/charlm");
const PROMPT: &str = "The return statement";

fn generate_on_rtl(preset: &str, tokens: usize) -> String {
    let model = Model::load(Path::new(CHARLM)).unwrap();
    let cfg = HwConfig::preset(preset).unwrap();
    let decoder = Decoder::new(&model, &cfg).unwrap();
    let symbols = decoder.symbols().to_vec();
    let mut steps = Steps::new(Verilated::new(&cfg).unwrap(), decoder.image()).unwrap();
    let mut context: Vec<usize> = PROMPT
        .chars()
        .map(|c| symbols.iter().position(|s| *s == c).unwrap())
        .collect();
    let mut text = String::new();
    let mut p = 0;
    while p < PROMPT.len() + tokens - 1 {
        let step = decoder.step(p).unwrap();
        let checked = steps
            .step(
                &step.program,
                &decoder.token_image(context[p]).unwrap(),
                step.cycles() + 1,
            )
            .unwrap();
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
        let logits = decoder.logits(&checked.rtl.state.chips[0]);
        assert_eq!(logits, decoder.logits(&steps.state().chips[0]));
        p += 1;
        if p >= PROMPT.len() {
            let next = argmax(&logits);
            context.push(next);
            text.push(symbols[next]);
        }
    }
    text
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
