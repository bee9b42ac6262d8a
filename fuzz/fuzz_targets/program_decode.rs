//! The program decoder, for each preset's encoding: any bytes decode or are an error, and a
//! decoded program encodes back to the same bytes.
#![no_main]

use isa::{HwConfig, Program, PRESETS};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let [preset, bytes @ ..] = data else {
        return;
    };
    let cfg = HwConfig::preset(PRESETS[*preset as usize % PRESETS.len()]).expect("a preset");
    if let Ok(program) = Program::from_bytes(bytes, &cfg) {
        let again = program.to_bytes(&cfg).expect("a decoded program encodes");
        assert_eq!(Program::from_bytes(&again, &cfg).expect("decodes"), program);
        let _ = isa::disassemble(&program);
    }
});
