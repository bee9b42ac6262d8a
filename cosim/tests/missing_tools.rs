//! Without Verilator or Icarus on the PATH, runs fail with the command that installs them.
//! (Its own test binary: it empties PATH for the whole process.)

use cosim::icarus::Icarus;
use cosim::runtime::model_library;
use isa::HwConfig;

#[test]
fn missing_simulators_are_clear_errors_naming_the_fix() {
    let empty = tempfile::tempdir().unwrap();
    std::env::set_var("PATH", empty.path());
    let mut cfg = HwConfig::preset("tiny").unwrap();
    cfg.chip.sram_depth = 128;
    let err = model_library(&cfg, false).unwrap_err().to_string();
    assert!(
        err.contains("verilator is not installed") && err.contains("./scripts/setup.sh"),
        "{err}"
    );
    let design = rtl_gen::generate(&cfg).unwrap();
    let err = Icarus::compile(&design).err().unwrap().to_string();
    assert!(
        err.contains("iverilog is not installed") && err.contains("apt-get install -y iverilog"),
        "{err}"
    );
}
