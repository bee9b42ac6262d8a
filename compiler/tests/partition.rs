//! A model split over a system's chips (tensor parallelism by output tiles, blocks gathered
//! with `XFER`): on the golden model its outputs on chip 0 equal the independent reference's
//! and the single-chip program's, on rings, meshes and dragonflies; a model too big for one
//! chip runs split; and the verifier refuses a compiled system program with one instruction
//! moved a cycle, naming the chip, the instruction, the cycle and the link.

mod support;

use compiler::model::Model;
use compiler::synthetic::{random_inputs, random_stack};
use compiler::{compile, CompileError, Compiled};
use golden::verify::{Rule, Violation};
use isa::{HwConfig, Op, SystemConfig, Topology};
use support::reference_logits;

fn system(preset: &str, chips: u32, topology: Topology) -> HwConfig {
    HwConfig::preset(preset)
        .unwrap()
        .with_system(SystemConfig {
            chips,
            topology,
            link_latency: 2,
        })
        .unwrap()
}

fn systems(preset: &str) -> Vec<HwConfig> {
    vec![
        system(preset, 2, Topology::Ring),
        system(preset, 4, Topology::Mesh { rows: 2, cols: 2 }),
        system(preset, 4, Topology::Ring),
        system(
            preset,
            8,
            Topology::Dragonfly {
                groups: 2,
                group_size: 4,
            },
        ),
    ]
}

/// Chip 0's outputs of a golden run (which fails unless its cycles are the predicted ones).
fn outputs(compiled: &Compiled, inputs: &[Vec<i8>]) -> Vec<Vec<i8>> {
    let (_, run) = compiled.run_golden(inputs).unwrap();
    compiled.outputs(&run.state.chips[0])
}

#[test]
fn random_stacks_split_over_systems_compute_what_one_chip_and_the_reference_compute() {
    for seed in 0..6u64 {
        // Widths from one tile to many, so some layers have fewer output tiles than chips.
        let widths: &[usize] = match seed % 3 {
            0 => &[20, 33, 7],
            1 => &[9, 64, 40, 18],
            _ => &[50, 3, 30],
        };
        let model = random_stack(seed, widths);
        let batch = 1 + seed as u32 % 5;
        let inputs = random_inputs(seed, &model, batch as usize);
        let one = outputs(
            &compile(&model, &HwConfig::preset("small").unwrap(), batch).unwrap(),
            &inputs,
        );
        for (s, x) in inputs.iter().enumerate() {
            assert_eq!(
                one[s],
                reference_logits(&model, x),
                "seed {seed} sample {s}"
            );
        }
        for cfg in systems("small") {
            let split = compile(&model, &cfg, batch).unwrap();
            assert_eq!(
                split.program.chips.len(),
                cfg.system.chips as usize,
                "a program a chip"
            );
            assert_eq!(
                outputs(&split, &inputs),
                one,
                "seed {seed} on {:?}",
                cfg.system
            );
        }
    }
}

#[test]
fn a_model_too_big_for_one_chip_runs_split_over_two_four_and_eight() {
    let model = Model::digits_wide();
    let small = HwConfig::preset("small").unwrap();
    let err = compile(&model, &small, 1).unwrap_err();
    assert!(matches!(err, CompileError::DoesNotFit(_)), "{err}");
    let samples = model.samples().unwrap();
    let inputs: Vec<Vec<i8>> = samples.inputs[..6]
        .iter()
        .map(|x| model.quantize_input(x))
        .collect();
    for cfg in systems("small") {
        let split = compile(&model, &cfg, inputs.len() as u32).unwrap();
        let got = outputs(&split, &inputs);
        for (s, x) in inputs.iter().enumerate() {
            assert_eq!(
                got[s],
                reference_logits(&model, x),
                "{:?} sample {s}",
                cfg.system
            );
        }
    }
}

#[test]
fn batch_one_latency_falls_with_the_chips() {
    let model = Model::digits_wide();
    let cycles: Vec<u64> = [1, 2, 4]
        .iter()
        .map(|&chips| {
            let cfg = if chips == 1 {
                HwConfig::preset("lm").unwrap()
            } else {
                system("lm", chips, Topology::Ring)
            };
            compile(&model, &cfg, 1).unwrap().cycles()
        })
        .collect();
    // Each chip loads a share of the weight tiles: the schedule must use that.
    assert!(
        cycles[0] as f64 / cycles[1] as f64 > 1.8 && cycles[0] as f64 / cycles[2] as f64 > 3.0,
        "{cycles:?}"
    );
}

/// Each of `chip`'s instructions in turn one cycle earlier (the next where it was): what the
/// verifier says of each, for those it refuses.
fn moved_earlier(compiled: &Compiled, chip: usize) -> Vec<(usize, Vec<Violation>)> {
    let instrs = &compiled.program.chips[chip];
    (0..instrs.len() - 1)
        .filter(|&i| instrs[i].delay > 1)
        .filter_map(|i| {
            let mut program = compiled.program.clone();
            program.chips[chip][i].delay -= 1;
            program.chips[chip][i + 1].delay += 1;
            golden::verify(&program, &compiled.cfg)
                .err()
                .map(|refused| (i, refused))
        })
        .collect()
}

#[test]
fn a_compiled_system_program_with_a_transfer_or_a_reader_moved_a_cycle_is_refused() {
    let model = random_stack(7, &[32, 48, 40, 12]);
    let inputs = random_inputs(7, &model, 1);
    let cfg = system("tiny", 4, Topology::Ring);
    let compiled = compile(&model, &cfg, 1).unwrap();
    outputs(&compiled, &inputs);
    let moves: Vec<(usize, usize, Violation)> = (0..4)
        .flat_map(|chip| {
            moved_earlier(&compiled, chip)
                .into_iter()
                .flat_map(move |(i, refused)| refused.into_iter().map(move |v| (chip, i, v)))
        })
        .collect();
    // A reader the scheduler placed right after a row arrived from another chip.
    let (chip, index, stale) = moves
        .iter()
        .find(|(chip, _, v)| {
            v.rule == Rule::ReadAfterWrite
                && (0..4)
                    .filter(|k| k != chip)
                    .any(|k| v.message.contains(&format!("but chip {k} instruction")))
        })
        .expect("a reader is tight against a row's arrival");
    assert_eq!((stale.chip, stale.index), (*chip as u32, *index), "{stale}");
    assert!(
        stale.resource.starts_with(&format!("chip {chip} sram")),
        "{stale}"
    );
    // A transfer the scheduler held back for a busy link: moved earlier, it collides.
    let (chip, index, collided) = moves
        .iter()
        .find(|(_, _, v)| v.rule == Rule::LinkConflict)
        .expect("a transfer waited for a link");
    assert!(collided.resource.starts_with("link "), "{collided}");
    assert!(
        collided.message.contains(&format!(
            "chip {chip} instruction {index} sends on the link"
        )),
        "{collided}"
    );
    for (c, i) in [(*chip, *index), (collided.chip as usize, collided.index)] {
        assert!(
            matches!(compiled.program.chips[c][i].op, Op::Xfer(_)),
            "{collided}"
        );
    }
    assert!(
        collided
            .to_string()
            .contains(&format!("cycle {}", collided.cycle)),
        "{collided}"
    );
}

#[test]
fn a_batch_of_several_chunks_splits_too() {
    // Accumulator banks of 16 rows: a batch of 40 runs as chunks of 16, 16 and 8, each through
    // every layer, the chips' accumulator banks taken in turn across chunks.
    let mut chip = HwConfig::preset("tiny").unwrap();
    chip.chip.acc_depth = 16;
    let model = random_stack(11, &[12, 20, 9]);
    let inputs = random_inputs(11, &model, 40);
    let one = outputs(&compile(&model, &chip, 40).unwrap(), &inputs);
    for (s, x) in inputs.iter().enumerate() {
        assert_eq!(one[s], reference_logits(&model, x), "sample {s}");
    }
    for (chips, topology) in [(2, Topology::Ring), (3, Topology::Ring)] {
        let cfg = chip
            .clone()
            .with_system(SystemConfig {
                chips,
                topology,
                link_latency: 1,
            })
            .unwrap();
        let split = compile(&model, &cfg, 40).unwrap();
        assert_eq!(split.input.chunks, 3);
        assert_eq!(outputs(&split, &inputs), one, "{chips} chips");
    }
}
