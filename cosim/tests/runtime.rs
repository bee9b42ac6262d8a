//! A config that is not built in: its Verilator model is generated, compiled into the model
//! cache and loaded at run time, then passes the same checks; the second use is a cache hit.

use cosim::cache::Outcome;
use cosim::random::{random_image, random_program};
use cosim::runtime::model_library;
use cosim::verilator::Verilated;
use cosim::Backend;
use isa::HwConfig;

#[test]
fn a_config_chosen_at_run_time_is_built_cached_and_checked() {
    let cache = tempfile::tempdir().unwrap();
    std::env::set_var("METRONOME_CACHE_DIR", cache.path());
    let mut cfg = HwConfig::preset("tiny").unwrap();
    cfg.name = Some("custom".into());
    cfg.chip.sram_banks = 5;
    cfg.chip.sram_depth = 64;
    cfg.chip.acc_depth = 32;
    cfg.validate().unwrap();
    assert!(!Verilated::is_built_in(&cfg));

    let (path, first) = model_library(&cfg, false).unwrap();
    assert_eq!(first, Outcome::Built);
    let (again, second) = model_library(&cfg, false).unwrap();
    assert_eq!((again, second), (path, Outcome::Hit));

    let mut model = Verilated::new(&cfg).unwrap();
    for seed in 0..20 {
        let program = random_program(&cfg, seed, 14);
        let image = random_image(&cfg, seed);
        let checked = cosim::lockstep(&mut model, &program, &image, 100_000, None).unwrap();
        let problems = checked.mismatches;
        assert!(problems.is_empty(), "seed {seed}: {problems:?}");
    }
}

#[test]
fn a_model_with_waves_dumps_the_window_asked_for() {
    let cache = tempfile::tempdir().unwrap();
    std::env::set_var("METRONOME_CACHE_DIR", cache.path());
    let cfg = HwConfig::preset("tiny").unwrap();
    let program = random_program(&cfg, 1, 12);
    let image = random_image(&cfg, 1);
    let mut model = Verilated::with_waves(&cfg).unwrap();
    let mut dump = |name: &str, from, to| {
        let wave = cosim::Wave {
            path: cache.path().join(name),
            from,
            to,
        };
        let checked = cosim::lockstep(&mut model, &program, &image, 100_000, Some(&wave)).unwrap();
        assert!(checked.mismatches.is_empty());
        std::fs::metadata(&wave.path).unwrap().len()
    };
    let short = dump("short.fst", 0, 2);
    let long = dump("long.fst", 0, 60);
    assert!(short > 0 && long > short, "{short} {long}");
    // A model without waveform support says so instead of writing nothing.
    let mut plain = Verilated::new(&cfg).unwrap();
    let wave = cosim::Wave {
        path: cache.path().join("none.fst"),
        from: 0,
        to: 1,
    };
    let err = plain
        .run(&program, &image, 100_000, Some(&wave))
        .unwrap_err();
    assert!(err.to_string().contains("with_waves"), "{err}");
}
