//! The assembler: any text assembles or is an error naming a line, and an assembled program
//! disassembles to text that assembles to it again.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    if let Ok(program) = isa::assemble(text) {
        let listing = isa::disassemble(&program);
        let again = isa::assemble(&listing).expect("a disassembly assembles");
        assert_eq!(again, program);
    }
});
