//! Shrunk reproductions of real failures, one program per file in `tests/regressions/`: each
//! must stay fixed on both simulators. A file's header says what it caught and which image it
//! runs on (`Image: empty` or `Image: random (seed N)`).

use cosim::icarus::Icarus;
use cosim::verilator::Verilated;
use cosim::Backend;
use isa::{assemble, HwConfig, MemImage};

#[test]
fn every_regression_program_matches_the_golden_model() {
    let cfg = HwConfig::preset("tiny").unwrap();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/regressions");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(
        files.len() >= 2,
        "the regression set is in {}",
        dir.display()
    );
    let mut icarus = Icarus::compile(&rtl_gen::generate(&cfg).unwrap()).unwrap();
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let spec = text
            .lines()
            .find_map(|l| l.strip_prefix("# Image: "))
            .map(|s| s.trim_end_matches('.'));
        let image = match spec {
            Some("empty") => MemImage::default(),
            Some(random) => {
                let seed = random
                    .strip_prefix("random (seed ")
                    .and_then(|s| s.strip_suffix(')'))
                    .unwrap_or_else(|| panic!("{}: image {random:?}", path.display()));
                cosim::random::random_image(&cfg, seed.parse().unwrap())
            }
            None => panic!("{}: no `# Image:` line", path.display()),
        };
        let program = assemble(&text).unwrap();
        let mut verilator = Verilated::new(&cfg).unwrap();
        for backend in [&mut verilator as &mut dyn Backend, &mut icarus] {
            let checked = cosim::lockstep(backend, &program, &image, 10_000, None).unwrap();
            assert!(
                checked.mismatches.is_empty(),
                "{} on {}: {:?}",
                path.display(),
                backend.name(),
                checked.mismatches
            );
        }
    }
}
