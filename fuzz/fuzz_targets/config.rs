//! The hardware config reader: any text is a config or an error; a config's canonical form
//! (what its hash is of) reads back as the same config.
#![no_main]

use isa::HwConfig;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    if let Ok(cfg) = HwConfig::from_toml(text) {
        let _ = cfg.hash();
        let again = HwConfig::from_toml(&cfg.to_toml()).expect("a config's TOML reads back");
        assert_eq!(again.hash(), cfg.hash());
    }
});
