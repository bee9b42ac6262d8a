//! Text -> binary -> text -> binary round trips over random valid instructions for every preset
//! (and a multi-chip system), and malformed input that must give errors, never panics.

use isa::ops::{FieldKind, Space, Value, MAX_COUNT, MAX_DELAY};
use isa::{
    assemble, disassemble, DecodeError, HwConfig, Instr, Layout, Op, Opcode, Program, SystemConfig,
    Topology, PRESETS,
};
use proptest::prelude::*;

/// A random instruction whose every field fits `layout` (ranges are the verifier's business).
fn instr_from(layout: &Layout, opcode: usize, delay: u32, seeds: &[u64]) -> Instr {
    let opcode = Opcode::ALL[opcode % Opcode::ALL.len()];
    let below = |seed: u64, bits: u32| (seed % (1u64 << bits)) as u32;
    let values: Vec<Value> = opcode
        .spec()
        .fields
        .iter()
        .zip(seeds)
        .map(|(field, &seed)| match field.kind {
            FieldKind::Func(names) => Value::U((seed % names.len() as u64) as u32),
            FieldKind::Addr(spaces) => match spaces[(seed % spaces.len() as u64) as usize] {
                Space::Imm => Value::Addr(isa::Addr::IMM),
                space => Value::Addr(isa::Addr {
                    space,
                    bank: below(seed >> 8, layout.bank_bits),
                    row: below(seed >> 24, layout.row_bits),
                }),
            },
            FieldKind::Count => Value::U(1 + (seed % MAX_COUNT as u64) as u32),
            FieldKind::Flag => Value::Flag(seed & 1 == 1),
            FieldKind::Imm => Value::I(seed as i32),
            kind => Value::U(below(seed, layout.field_bits(kind))),
        })
        .collect();
    Instr {
        delay: delay % (MAX_DELAY + 1),
        op: Op::from_values(opcode, &values).unwrap(),
    }
}

fn configs() -> Vec<HwConfig> {
    let mut cfgs: Vec<HwConfig> = PRESETS
        .iter()
        .map(|p| HwConfig::preset(p).unwrap())
        .collect();
    let mesh = SystemConfig {
        chips: 4,
        topology: Topology::Mesh { rows: 2, cols: 2 },
        link_latency: 2,
    };
    cfgs.push(
        HwConfig::preset("small")
            .unwrap()
            .with_system(mesh)
            .unwrap(),
    );
    cfgs
}

type RawInstr = (usize, u32, Vec<u64>);

fn program_for(cfg: &HwConfig, raw: &[RawInstr]) -> Program {
    let layout = Layout::new(cfg);
    let chips = cfg.system.chips as usize;
    let mut program = Program {
        chips: vec![Vec::new(); chips],
    };
    // Only the ops the chip has fit its word.
    let present = raw
        .iter()
        .filter(|(opcode, ..)| cfg.implements(Opcode::ALL[*opcode]));
    for (i, (opcode, delay, seeds)) in present.enumerate() {
        program.chips[i % chips].push(instr_from(&layout, *opcode, *delay, seeds));
    }
    program
}

fn raw_instrs() -> impl Strategy<Value = Vec<RawInstr>> {
    prop::collection::vec(
        (
            0usize..10,
            any::<u32>(),
            prop::collection::vec(any::<u64>(), 9),
        ),
        1..24,
    )
}

proptest! {
    #[test]
    fn text_binary_text_binary_is_identical(raw in raw_instrs()) {
        for cfg in configs() {
            let program = program_for(&cfg, &raw);
            let text = disassemble(&program);
            let assembled = assemble(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
            prop_assert_eq!(&assembled, &program);
            let bytes = assembled.to_bytes(&cfg).unwrap();
            let decoded = Program::from_bytes(&bytes, &cfg).unwrap();
            let text2 = disassemble(&decoded);
            prop_assert_eq!(&text2, &text);
            prop_assert_eq!(assemble(&text2).unwrap().to_bytes(&cfg).unwrap(), bytes);
        }
    }

    #[test]
    fn damaged_binaries_give_errors_not_panics(
        raw in raw_instrs(),
        flips in prop::collection::vec((any::<usize>(), any::<u8>()), 1..6),
        cut in any::<usize>(),
    ) {
        let cfg = HwConfig::preset("small").unwrap();
        let bytes = program_for(&cfg, &raw).to_bytes(&cfg).unwrap();
        let mut damaged = bytes.clone();
        for (at, x) in flips {
            let i = at % damaged.len();
            damaged[i] ^= x;
        }
        // Whatever it says, it must say it without panicking; a decoded program re-encodes.
        if let Ok(p) = Program::from_bytes(&damaged, &cfg) {
            prop_assert!(p.to_bytes(&cfg).is_ok());
        }
        let cut = cut % bytes.len();
        prop_assert!(Program::from_bytes(&bytes[..cut], &cfg).is_err(), "a cut program must not decode");
    }

    #[test]
    fn arbitrary_text_gives_errors_not_panics(text in "[ -~\n]{0,200}") {
        if let Err(e) = assemble(&text) {
            prop_assert!(e.line >= 1 && e.column >= 1);
        }
    }

    #[test]
    fn plausible_text_gives_line_and_column(
        line in "(\\+[0-9]{1,6} )?(ldw|mma|vop\\.add|ctl\\.halt|rq|xfer) ((src|dst|a|b|count|imm|param|chip)=(sram|acc)?[0-9x]{0,3}(\\[[0-9]{0,4}\\]?)? ?){0,4}"
    ) {
        if let Err(e) = assemble(&format!("ctl.nop\n{line}")) {
            prop_assert_eq!(e.line, 2);
            prop_assert!(e.column >= 1 && e.column <= line.len().max(1));
        }
    }
}

#[test]
fn a_corrupt_word_names_its_offset() {
    let cfg = HwConfig::preset("tiny").unwrap();
    let program = assemble("ctl.nop\nctl.nop\nctl.halt\n").unwrap();
    let mut bytes = program.to_bytes(&cfg).unwrap();
    let word = Layout::new(&cfg).word_bytes();
    bytes[20 + 4 + 2 * word] |= 0x0f; // the third word's opcode becomes 15
    match Program::from_bytes(&bytes, &cfg) {
        Err(DecodeError::Word { index: 2, message }) => {
            assert!(message.contains("unknown opcode 15"), "{message}")
        }
        other => panic!("{other:?}"),
    }
}
