//! Decoding the shipped language model position by position on the golden model, against
//! the independent reference (`support/transformer.rs`), which recomputes the whole sequence.

mod support;

use std::path::Path;

use compiler::decode::Decoder;
use compiler::model::{Input, Model, TestSet};
use golden::SystemState;
use isa::HwConfig;

const CHARLM: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../models/charlm");

fn lm_config() -> HwConfig {
    let mut cfg = HwConfig::preset("small").unwrap();
    cfg.chip.sram_banks = 12;
    cfg.chip.sram_depth = 2048;
    cfg.chip.lut_tables = 6;
    cfg.chip.param_depth = 256;
    cfg.chip.imem_depth = 8192;
    cfg.name = Some("lm-test".into());
    cfg.validate().unwrap();
    cfg
}

fn held_out_tokens(model: &Model) -> Vec<usize> {
    let (Input::Tokens(vocab), Some(TestSet::Text(text))) = (&model.input, &model.test) else {
        panic!("charlm is a token model with held-out text")
    };
    text.chars().map(|c| vocab.token(c).unwrap()).collect()
}

#[test]
fn every_position_matches_the_reference() {
    let model = Model::load(Path::new(CHARLM)).unwrap();
    let cfg = lm_config();
    let decoder = Decoder::new(&model, &cfg).unwrap();
    let tokens = &held_out_tokens(&model)[..24];
    let expected = support::transformer::logits(&model, tokens);
    let mut state = SystemState::from_image(&cfg, decoder.image()).unwrap();
    for (p, token) in tokens.iter().enumerate() {
        state
            .load(&cfg, &decoder.token_image(*token).unwrap())
            .unwrap();
        let step = decoder.step(p).unwrap();
        let run = golden::run(&step.program, &cfg, state, None).unwrap();
        state = run.state;
        println!(
            "position {p}: {} cycles, {} instructions, {} tiles loaded",
            step.cycles(),
            step.program.len(),
            step.loaded_tiles
        );
        assert_eq!(decoder.logits(&state.chips[0]), expected[p], "position {p}");
    }
}
