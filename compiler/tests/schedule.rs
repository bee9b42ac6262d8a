//! Properties of the schedules the compiler produces (cycle counts, not wall time).

use compiler::synthetic::random_stack;
use compiler::{compile, ideal_product_cycles};
use isa::{HwConfig, Unit};

fn utilization(preset: &str, m: u32, k: usize, nout: usize) -> f64 {
    let cfg = HwConfig::preset(preset).unwrap();
    let compiled = compile(&random_stack(3, &[k, nout]), &cfg, m).unwrap();
    let ideal = ideal_product_cycles(cfg.chip.n, m as u64, k as u64, nout as u64);
    // The array is busy exactly the ideal number of cycles; the rest is fill, drain and waits.
    assert_eq!(compiled.schedules[0].busy(Unit::MxuArray), ideal);
    ideal as f64 / compiled.cycles() as f64
}

#[test]
fn products_of_8n_keep_the_array_at_least_90_percent_busy() {
    for (preset, n) in [("tiny", 4), ("small", 8)] {
        let u = utilization(preset, 8 * n, 8 * n as usize, 8 * n as usize);
        assert!(u >= 0.9, "{preset}: {u}");
    }
}

#[test]
fn ragged_shapes_pipeline_too() {
    // 37 inputs and 29 outputs: the last tiles are partly padding.
    let u = utilization("small", 100, 37, 29);
    assert!(u >= 0.8, "{u}");
}

#[test]
fn weight_loads_overlap_the_array_and_requantization_overlaps_the_next_tile() {
    let cfg = HwConfig::preset("small").unwrap();
    let compiled = compile(&random_stack(5, &[32, 32]), &cfg, 40).unwrap();
    let slots = &compiled.schedules[0].slots;
    let running = |unit: Unit, at: u64| {
        slots
            .iter()
            .any(|s| s.unit == unit && s.issue <= at && at < s.issue + s.occupancy)
    };
    let loads_under_mma = slots
        .iter()
        .filter(|s| s.unit == Unit::MxuLoad && running(Unit::MxuArray, s.issue))
        .count();
    let rq_under_mma = slots
        .iter()
        .filter(|s| s.unit == Unit::Vector && running(Unit::MxuArray, s.issue))
        .count();
    // 16 weight tiles: all but the first load while the array streams; 4 output tiles: all
    // but the last requantize while the next tile streams.
    assert_eq!(loads_under_mma, 15);
    assert_eq!(rq_under_mma, 3);
}

#[test]
fn long_batches_are_split_into_accumulator_sized_chunks() {
    // tiny's accumulator banks hold 64 rows: 150 samples run as 64 + 64 + 22.
    let cfg = HwConfig::preset("tiny").unwrap();
    let model = random_stack(9, &[8, 4]);
    let compiled = compile(&model, &cfg, 150).unwrap();
    let counts: Vec<u32> = compiled.program.chips[0]
        .iter()
        .filter_map(|i| match i.op {
            isa::Op::Rq(rq) => Some(rq.count),
            _ => None,
        })
        .collect();
    assert_eq!(counts, [64, 64, 22]);
}

#[test]
fn a_model_too_big_for_the_chip_is_a_clear_error() {
    let cfg = HwConfig::preset("tiny").unwrap();
    let fails = |widths: &[usize], batch: u32| {
        compile(&random_stack(1, widths), &cfg, batch)
            .unwrap_err()
            .to_string()
    };
    let err = fails(&[16, 16], 448);
    assert!(
        err.starts_with("the model does not fit the chip: SRAM: the program needs"),
        "{err}"
    );
    let err = fails(&[4, 68], 1);
    assert!(
        err.contains("needs 17 requantization entries") && err.contains("holds 16"),
        "{err}"
    );
    let err = fails(&[64, 32, 8], 1);
    assert!(
        err.contains("instruction memory: the program has 299 instructions; the chip holds 256"),
        "{err}"
    );
    let ring = cfg
        .with_system(isa::SystemConfig {
            chips: 2,
            topology: isa::Topology::Ring,
            link_latency: 1,
        })
        .unwrap();
    // Split over two chips, each holds half the tiles and programs; twice as wide, not.
    compile(&random_stack(1, &[64, 32, 8]), &ring, 1).unwrap();
    let err = compile(&random_stack(1, &[128, 32, 8]), &ring, 1)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(
            "instruction memory: chip 1's program has 284 instructions; the chip holds 256"
        ),
        "{err}"
    );
}
