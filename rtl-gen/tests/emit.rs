//! Determinism and snapshots of the emitted design.

use std::path::PathBuf;

use isa::HwConfig;

fn tiny() -> HwConfig {
    HwConfig::preset("tiny").unwrap()
}

#[test]
fn generating_twice_gives_identical_bytes() {
    for preset in ["tiny", "small"] {
        let cfg = HwConfig::preset(preset).unwrap();
        let a = rtl_gen::generate(&cfg).unwrap();
        let b = rtl_gen::generate(&cfg).unwrap();
        assert_eq!(a.files, b.files, "{preset}");
    }
}

#[test]
fn every_file_names_the_generator_and_config_but_no_date() {
    let cfg = tiny();
    let design = rtl_gen::generate(&cfg).unwrap();
    let hash = cfg.hash().to_string();
    for f in design.verilog_files() {
        let head: Vec<&str> = f.text.lines().take(2).collect();
        assert!(head[0].contains(rtl_gen::VERSION), "{}: {head:?}", f.name);
        assert!(head[1].contains(&hash), "{}: {head:?}", f.name);
        let module = f.name.trim_end_matches(".v");
        assert_eq!(
            f.text.matches("\nmodule ").count(),
            1,
            "{}: one module per file",
            f.name
        );
        assert!(
            f.text.contains(&format!("\nmodule {module} ")),
            "{}",
            f.name
        );
        assert!(
            !f.text.contains("2026") && !f.text.contains("date"),
            "{}",
            f.name
        );
    }
}

#[test]
fn the_descriptor_matches_the_config() {
    let cfg = tiny();
    let design = rtl_gen::generate(&cfg).unwrap();
    let text = &design
        .files
        .iter()
        .find(|f| f.name == rtl_gen::descriptor::FILE_NAME)
        .unwrap()
        .text;
    let d: serde_json::Value = serde_json::from_str(text).unwrap();
    assert_eq!(d["config_hash"], cfg.hash().to_string());
    assert_eq!(d["top"], "mtn_chip");
    assert_eq!(d["isa"]["word_bits"], isa::Layout::new(&cfg).word_bits);
    assert_eq!(d["config"]["chip"]["n"], 4);
    let ops = d["isa"]["ops"].as_array().unwrap();
    assert_eq!(ops.len(), 10);
    // The layout the descriptor reports is the one the encoder uses: encode a known
    // instruction and read its fields back at the reported positions.
    let program = isa::assemble("+7 mov src=sram2[5] dst=acc1[9] count=3\n").unwrap();
    let word = isa::Layout::new(&cfg).encode(&program.chips[0][0]).unwrap();
    let bits = |lo: u64, n: u64| -> u64 {
        (0..n).fold(0, |v, i| {
            let b = lo + i;
            v | (((word[(b / 8) as usize] >> (b % 8)) & 1) as u64) << i
        })
    };
    let mov = ops.iter().find(|o| o["mnemonic"] == "mov").unwrap();
    assert_eq!(bits(0, 4), mov["opcode"].as_u64().unwrap());
    assert_eq!(bits(4, 16), 7);
    let count = mov["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "count")
        .unwrap();
    assert_eq!(
        bits(
            count["lo"].as_u64().unwrap(),
            count["bits"].as_u64().unwrap()
        ),
        3
    );
}

#[test]
fn an_invalid_config_is_refused_before_anything_is_written() {
    let mut cfg = tiny();
    cfg.chip.n = 3;
    let err = rtl_gen::generate(&cfg).unwrap_err().to_string();
    assert!(
        err.contains("chip.n") && err.contains("power of two"),
        "{err}"
    );
}

#[test]
fn systems_have_a_system_top_and_a_router() {
    let cfg = tiny()
        .with_system(isa::SystemConfig {
            chips: 4,
            topology: isa::Topology::Mesh { rows: 2, cols: 2 },
            link_latency: 1,
        })
        .unwrap();
    let design = rtl_gen::generate(&cfg).unwrap();
    assert_eq!(design.top, "mtn_system");
    let names: Vec<&str> = design.files.iter().map(|f| f.name.as_str()).collect();
    assert!(names.contains(&"mtn_router.v") && names.contains(&"mtn_system.v"));
    let system = &design
        .files
        .iter()
        .find(|f| f.name == "mtn_system.v")
        .unwrap()
        .text;
    for c in 0..4 {
        assert!(
            system.contains(&format!("mtn_chip u_chip{c} (")),
            "chip {c}"
        );
    }
}

fn snapshot_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/tiny")
}

/// The emitted Verilog of `tiny`, pinned so that every change to it is visible in review.
/// After an intended change, regenerate with `UPDATE_SNAPSHOTS=1 cargo test -p rtl-gen`.
#[test]
fn tiny_matches_its_snapshot() {
    let design = rtl_gen::generate(&tiny()).unwrap();
    let dir = snapshot_dir();
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        let _ = std::fs::remove_dir_all(&dir);
        design.write_to(&dir).unwrap();
        return;
    }
    let mut expected: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}; create it with UPDATE_SNAPSHOTS=1", dir.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    expected.sort();
    let mut produced: Vec<String> = design.files.iter().map(|f| f.name.clone()).collect();
    produced.sort();
    assert_eq!(produced, expected, "the set of generated files changed");
    for f in &design.files {
        let pinned = std::fs::read_to_string(dir.join(&f.name)).unwrap();
        if pinned != f.text {
            let line = pinned
                .lines()
                .zip(f.text.lines())
                .position(|(a, b)| a != b)
                .map_or_else(|| "the end".to_string(), |l| format!("line {}", l + 1));
            panic!(
                "{} differs from its snapshot at {line}; if the change is intended, run \
                 UPDATE_SNAPSHOTS=1 cargo test -p rtl-gen --test emit and review the diff",
                f.name
            );
        }
    }
}
