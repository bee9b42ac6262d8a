//! Fixed-width binary encoding and the program file.
//!
//! An instruction word is packed LSB first: opcode (4 bits), issue delay (16 bits), then the
//! op's fields in [`crate::OpSpec::fields`] order, then zero padding to the word width. Field
//! widths come from the config ([`Layout`]); the word width is the widest op rounded up to a
//! multiple of 32 bits, the same for every op. An address field is `space` (0 bits if the field
//! allows one space, else enough bits to index the allowed spaces in order), bank, then row.
//!
//! # Program file (`.mtp`), all integers little-endian
//! | offset | size | content |
//! |---|---|---|
//! | 0 | 4 | magic `MTNP` |
//! | 4 | 2 | format version (2) |
//! | 6 | 2 | instruction word size in bytes |
//! | 8 | 8 | config hash ([`crate::HwConfig::hash`]) |
//! | 16 | 4 | number of chips `C` |
//! | 20 | ... | `C` times: instruction count `n` (4 bytes), then `n` words |

use crate::bytes::{ByteReader, Truncated};
use crate::config::HwConfig;
use crate::ops::{FieldKind, FieldSpec, Instr, Op, Opcode, Space, Value, MAX_COUNT, MAX_DELAY};
use crate::Addr;

/// Bits of the opcode, the word's lowest field.
pub const OPCODE_BITS: u32 = 4;
/// Bits of the issue delay, right above the opcode.
pub const DELAY_BITS: u32 = 16;
/// Bits of a repeat count (`FieldKind::Count`).
pub const COUNT_BITS: u32 = 16;
const IMM_BITS: u32 = 32;
const MAGIC: &[u8; 4] = b"MTNP";
/// 2: `vop` gained `clz`, which widened its function field.
const FORMAT_VERSION: u16 = 2;
const HEADER_BYTES: usize = 20;

/// Field widths for one config.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    pub bank_bits: u32,
    pub row_bits: u32,
    pub table_bits: u32,
    pub param_bits: u32,
    pub chip_bits: u32,
    pub lane_bits: u32,
    /// Bits of one instruction word (a multiple of 32).
    pub word_bits: u32,
    /// Bits of one line of the instruction memory: the word over
    /// [`crate::ChipConfig::imem_fetch_cycles`] lines, least significant first.
    pub line_bits: u32,
}

/// Bits needed to hold every value in `0..n` (at least 1).
pub fn bits_for(n: u32) -> u32 {
    (32 - n.saturating_sub(1).leading_zeros()).max(1)
}

/// Bits of an address field's space index: 0 when the field allows one space.
pub fn space_bits(spaces: &[Space]) -> u32 {
    if spaces.len() == 1 {
        0
    } else {
        bits_for(spaces.len() as u32)
    }
}

impl Layout {
    pub fn new(cfg: &HwConfig) -> Self {
        let c = &cfg.chip;
        let mut layout = Layout {
            bank_bits: bits_for(c.sram_banks.max(c.acc_banks)),
            row_bits: bits_for(c.sram_depth.max(c.acc_depth)),
            table_bits: bits_for(c.lut_tables),
            param_bits: bits_for(c.param_depth),
            chip_bits: bits_for(cfg.system.chips),
            lane_bits: bits_for(c.n),
            word_bits: 0,
            line_bits: 0,
        };
        // The word holds the widest op the chip has; an op whose unit the config leaves out
        // need not fit.
        let widest = Opcode::ALL
            .iter()
            .filter(|op| cfg.implements(**op))
            .map(|op| layout.op_bits(*op))
            .max()
            .unwrap_or(0);
        layout.word_bits = widest.div_ceil(32) * 32;
        // A multiple of 8 bits: the word is a multiple of 32, the lines 1, 2 or 4.
        layout.line_bits = layout.word_bits / c.imem_fetch_cycles;
        layout
    }

    /// Bits of a field of this kind.
    pub fn field_bits(&self, kind: FieldKind) -> u32 {
        match kind {
            FieldKind::Func(names) => bits_for(names.len() as u32),
            FieldKind::Addr(spaces) => space_bits(spaces) + self.bank_bits + self.row_bits,
            FieldKind::Step => self.row_bits,
            FieldKind::Count => COUNT_BITS,
            FieldKind::Flag => 1,
            FieldKind::Imm => IMM_BITS,
            FieldKind::Table => self.table_bits,
            FieldKind::Param => self.param_bits,
            FieldKind::Chip => self.chip_bits,
            FieldKind::Lanes => self.lane_bits,
        }
    }

    /// Whether `op` fits the word (it does unless the config leaves out its unit).
    fn fits(&self, op: Opcode) -> Result<(), String> {
        let bits = self.op_bits(op);
        if bits <= self.word_bits {
            return Ok(());
        }
        Err(format!(
            "{} takes {bits} bits, more than this config's {}-bit instruction word (the \
             config leaves out its unit)",
            op.spec().mnemonic,
            self.word_bits
        ))
    }

    /// Bits an op uses before padding.
    pub fn op_bits(&self, op: Opcode) -> u32 {
        OPCODE_BITS
            + DELAY_BITS
            + op.spec()
                .fields
                .iter()
                .map(|f| self.field_bits(f.kind))
                .sum::<u32>()
    }

    /// Where the parts of an address field allowing `spaces` sit, from the field's lowest
    /// bit: `(offset, bits)` of the space index (0 bits for one space), the bank and the row.
    pub fn addr_parts(&self, spaces: &[Space]) -> [(u32, u32); 3] {
        let sb = space_bits(spaces);
        [
            (0, sb),
            (sb, self.bank_bits),
            (sb + self.bank_bits, self.row_bits),
        ]
    }

    /// Where each field of `op` sits in the word: the field, its lowest bit and its width.
    /// An address field packs space (lowest), bank, then row ([`Layout::addr_parts`]).
    pub fn field_positions(&self, op: Opcode) -> Vec<(FieldSpec, u32, u32)> {
        let mut at = OPCODE_BITS + DELAY_BITS;
        op.spec()
            .fields
            .iter()
            .map(|f| {
                let bits = self.field_bits(f.kind);
                let pos = (*f, at, bits);
                at += bits;
                pos
            })
            .collect()
    }

    pub fn word_bytes(&self) -> usize {
        (self.word_bits / 8) as usize
    }

    /// Encodes one instruction; a value that does not fit its field is an error.
    pub fn encode(&self, instr: &Instr) -> Result<Vec<u8>, EncodeError> {
        let spec = instr.op.spec();
        self.fits(instr.op.opcode())
            .map_err(|message| EncodeError {
                field: "opcode",
                message,
            })?;
        let mut w = BitWriter::new(self.word_bytes());
        w.put(spec.opcode as u64, OPCODE_BITS);
        if instr.delay > MAX_DELAY {
            return Err(EncodeError {
                field: "delay",
                message: format!("{} exceeds the maximum {MAX_DELAY}", instr.delay),
            });
        }
        w.put(instr.delay as u64, DELAY_BITS);
        for (field, value) in spec.fields.iter().zip(instr.op.values()) {
            let err = |message: String| EncodeError {
                field: field.name,
                message,
            };
            match (field.kind, value) {
                (FieldKind::Addr(spaces), Value::Addr(a)) => {
                    let idx = spaces
                        .iter()
                        .position(|s| *s == a.space)
                        .ok_or_else(|| err(format!("{} is not allowed here", a.space.name())))?;
                    if a.space == Space::Imm && (a.bank != 0 || a.row != 0) {
                        return Err(err("the immediate has no bank or row".into()));
                    }
                    w.put(idx as u64, space_bits(spaces));
                    w.put_checked(a.bank as u64, self.bank_bits)
                        .map_err(|_| err(format!("bank {} does not fit", a.bank)))?;
                    w.put_checked(a.row as u64, self.row_bits)
                        .map_err(|_| err(format!("row {} does not fit", a.row)))?;
                }
                (FieldKind::Count, Value::U(n)) if n == 0 || n > MAX_COUNT => {
                    return Err(err(format!("{n} is not in 1..={MAX_COUNT}")));
                }
                (FieldKind::Imm, Value::I(i)) => w.put(i as u32 as u64, IMM_BITS),
                (FieldKind::Flag, Value::Flag(b)) => w.put(b as u64, 1),
                (kind, Value::U(u)) => {
                    w.put_checked(u as u64, self.field_bits(kind))
                        .map_err(|_| {
                            err(format!(
                                "{u} does not fit in {} bits",
                                self.field_bits(kind)
                            ))
                        })?
                }
                (kind, value) => {
                    unreachable!("field {kind:?} holds {value:?}: ops! is inconsistent")
                }
            }
        }
        Ok(w.bytes)
    }

    /// Decodes one instruction word; `word_index` only names the word in errors.
    pub fn decode(&self, word: &[u8], word_index: usize) -> Result<Instr, DecodeError> {
        let err = |message: String| DecodeError::Word {
            index: word_index,
            message,
        };
        if word.len() != self.word_bytes() {
            return Err(err(format!(
                "is {} bytes, expected {}",
                word.len(),
                self.word_bytes()
            )));
        }
        let mut r = BitReader {
            bytes: word,
            pos: 0,
        };
        let code = r.get(OPCODE_BITS) as u8;
        let opcode = Opcode::from_u8(code).ok_or_else(|| err(format!("unknown opcode {code}")))?;
        self.fits(opcode).map_err(err)?;
        let delay = r.get(DELAY_BITS) as u32;
        let spec = opcode.spec();
        let mut values = Vec::with_capacity(spec.fields.len());
        for field in spec.fields {
            let bits = self.field_bits(field.kind);
            let value = match field.kind {
                FieldKind::Addr(spaces) => {
                    let idx = r.get(space_bits(spaces)) as usize;
                    let space = *spaces.get(idx).ok_or_else(|| {
                        err(format!("field `{}` has space index {idx}", field.name))
                    })?;
                    let bank = r.get(self.bank_bits) as u32;
                    let row = r.get(self.row_bits) as u32;
                    if space == Space::Imm && (bank != 0 || row != 0) {
                        return Err(err(format!(
                            "field `{}` is the immediate but has bank/row bits set",
                            field.name
                        )));
                    }
                    Value::Addr(Addr { space, bank, row })
                }
                FieldKind::Func(names) => {
                    let f = r.get(bits) as u32;
                    if f as usize >= names.len() {
                        return Err(err(format!("{} has unknown function {f}", spec.mnemonic)));
                    }
                    Value::U(f)
                }
                FieldKind::Count => {
                    let n = r.get(bits) as u32;
                    if n == 0 {
                        return Err(err(format!("field `{}` is 0", field.name)));
                    }
                    Value::U(n)
                }
                FieldKind::Imm => Value::I(r.get(bits) as u32 as i32),
                FieldKind::Flag => Value::Flag(r.get(1) == 1),
                _ => Value::U(r.get(bits) as u32),
            };
            values.push(value);
        }
        if r.rest_nonzero(self.word_bits) {
            return Err(err("has nonzero padding bits".into()));
        }
        let op = Op::from_values(opcode, &values).expect("decoded values match the spec");
        Ok(Instr { delay, op })
    }
}

/// An instruction that cannot be encoded for this config.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("field `{field}`: {message}")]
pub struct EncodeError {
    pub field: &'static str,
    pub message: String,
}

/// A program file that cannot be read for this config.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("not a Metronome program (bad magic; expected `MTNP`)")]
    Magic,
    #[error("program format version {0} is not supported (this build reads version {FORMAT_VERSION}; recompile the program)")]
    Version(u16),
    #[error(
        "program was built for config {found:016x}, but the config in use is {expected:016x}: \
         rebuild it for this config"
    )]
    ConfigMismatch { expected: u64, found: u64 },
    #[error("program words are {found} bytes, this config's are {expected}")]
    WordSize { expected: usize, found: usize },
    #[error("program has {found} chips, the config has {expected}")]
    Chips { expected: u32, found: u32 },
    #[error("program is truncated at byte {offset}")]
    Truncated { offset: usize },
    #[error("program has {extra} trailing bytes after the last chip")]
    Trailing { extra: usize },
    #[error("instruction word {index}: {message}")]
    Word { index: usize, message: String },
}

/// A program for a whole system: one instruction list per chip, all started on cycle 0.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Program {
    pub chips: Vec<Vec<Instr>>,
}

impl Program {
    pub fn single(instrs: Vec<Instr>) -> Self {
        Program {
            chips: vec![instrs],
        }
    }

    /// Instructions over all chips.
    pub fn len(&self) -> usize {
        self.chips.iter().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Serializes the program file for `cfg`.
    pub fn to_bytes(&self, cfg: &HwConfig) -> Result<Vec<u8>, ProgramEncodeError> {
        if self.chips.len() != cfg.system.chips as usize {
            return Err(ProgramEncodeError::Chips {
                expected: cfg.system.chips,
                found: self.chips.len(),
            });
        }
        let layout = Layout::new(cfg);
        let mut out = Vec::with_capacity(HEADER_BYTES + self.len() * layout.word_bytes());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&(layout.word_bytes() as u16).to_le_bytes());
        out.extend_from_slice(&cfg.hash().0.to_le_bytes());
        out.extend_from_slice(&(self.chips.len() as u32).to_le_bytes());
        for (chip, instrs) in self.chips.iter().enumerate() {
            out.extend_from_slice(&(instrs.len() as u32).to_le_bytes());
            for (index, instr) in instrs.iter().enumerate() {
                let word = layout
                    .encode(instr)
                    .map_err(|error| ProgramEncodeError::Instr { chip, index, error })?;
                out.extend_from_slice(&word);
            }
        }
        Ok(out)
    }

    /// Reads a program file, refusing one built for another config.
    pub fn from_bytes(bytes: &[u8], cfg: &HwConfig) -> Result<Program, DecodeError> {
        let layout = Layout::new(cfg);
        let mut r = ByteReader::new(bytes);
        if r.take(4)? != MAGIC {
            return Err(DecodeError::Magic);
        }
        let version = r.u16()?;
        if version != FORMAT_VERSION {
            return Err(DecodeError::Version(version));
        }
        let word_bytes = r.u16()? as usize;
        let found = r.u64()?;
        if found != cfg.hash().0 {
            return Err(DecodeError::ConfigMismatch {
                expected: cfg.hash().0,
                found,
            });
        }
        if word_bytes != layout.word_bytes() {
            return Err(DecodeError::WordSize {
                expected: layout.word_bytes(),
                found: word_bytes,
            });
        }
        let chips = r.u32()?;
        if chips != cfg.system.chips {
            return Err(DecodeError::Chips {
                expected: cfg.system.chips,
                found: chips,
            });
        }
        let mut program = Program::default();
        let mut word_index = 0;
        for _ in 0..chips {
            let count = r.u32()? as usize;
            let mut instrs = Vec::with_capacity(count.min(1 << 16));
            for _ in 0..count {
                instrs.push(layout.decode(r.take(word_bytes)?, word_index)?);
                word_index += 1;
            }
            program.chips.push(instrs);
        }
        if r.remaining() > 0 {
            return Err(DecodeError::Trailing {
                extra: r.remaining(),
            });
        }
        Ok(program)
    }
}

impl From<Truncated> for DecodeError {
    fn from(t: Truncated) -> Self {
        DecodeError::Truncated { offset: t.offset }
    }
}

/// A program that cannot be encoded for a config.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProgramEncodeError {
    #[error("program has {found} chips but the config has {expected}")]
    Chips { expected: u32, found: usize },
    #[error("chip {chip} instruction {index}: {error}")]
    Instr {
        chip: usize,
        index: usize,
        error: EncodeError,
    },
}

/// True when `bytes` starts like a program file (for tools that accept text or binary).
pub fn looks_binary(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC)
}

struct BitWriter {
    bytes: Vec<u8>,
    pos: u32,
}

impl BitWriter {
    fn new(len: usize) -> Self {
        BitWriter {
            bytes: vec![0; len],
            pos: 0,
        }
    }
    fn put(&mut self, value: u64, bits: u32) {
        for b in 0..bits {
            if value >> b & 1 == 1 {
                let p = self.pos + b;
                self.bytes[(p / 8) as usize] |= 1 << (p % 8);
            }
        }
        self.pos += bits;
    }
    fn put_checked(&mut self, value: u64, bits: u32) -> Result<(), ()> {
        if bits < 64 && value >> bits != 0 {
            return Err(());
        }
        self.put(value, bits);
        Ok(())
    }
}

struct BitReader<'a> {
    bytes: &'a [u8],
    pos: u32,
}

impl BitReader<'_> {
    fn get(&mut self, bits: u32) -> u64 {
        let mut v = 0u64;
        for b in 0..bits {
            let p = self.pos + b;
            if self.bytes[(p / 8) as usize] >> (p % 8) & 1 == 1 {
                v |= 1 << b;
            }
        }
        self.pos += bits;
        v
    }
    fn rest_nonzero(&mut self, total: u32) -> bool {
        (self.pos..total).any(|p| self.bytes[(p / 8) as usize] >> (p % 8) & 1 == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::{Ctl, CtlFunc, Mma};

    #[test]
    fn bits_for_counts_values() {
        assert_eq!(bits_for(1), 1);
        assert_eq!(bits_for(2), 1);
        assert_eq!(bits_for(3), 2);
        assert_eq!(bits_for(8), 3);
        assert_eq!(bits_for(9), 4);
        assert_eq!(bits_for(65536), 16);
    }

    #[test]
    fn word_width_is_a_multiple_of_32_and_fits_every_op_the_chip_has() {
        for p in crate::config::PRESETS {
            let cfg = HwConfig::preset(p).unwrap();
            let l = Layout::new(&cfg);
            assert_eq!(l.word_bits % 32, 0);
            assert_eq!(l.line_bits * cfg.chip.imem_fetch_cycles, l.word_bits);
            for op in Opcode::ALL.into_iter().filter(|op| cfg.implements(*op)) {
                assert!(l.op_bits(op) <= l.word_bits);
            }
        }
    }

    #[test]
    fn the_word_fits_the_ops_the_chip_has_and_refuses_the_others() {
        let mut lean = HwConfig::preset("tiny").unwrap();
        let full = Layout::new(&lean);
        lean.chip.omit = vec![Opcode::Vop];
        let l = Layout::new(&lean);
        // VOP, with its 32-bit immediate, is the widest op; without it the word is narrower.
        assert_eq!((full.word_bits, l.word_bits), (160, 96));
        let vop = Instr {
            delay: 0,
            op: Op::Vop(crate::ops::Vop {
                func: crate::ops::VopFunc::Add,
                a: Addr::acc(0, 0),
                a_step: 0,
                b: Addr::IMM,
                b_step: 0,
                dst: Addr::acc(0, 1),
                dst_step: 0,
                count: 1,
                imm: 1,
            }),
        };
        let e = l.encode(&vop).unwrap_err();
        assert_eq!(e.field, "opcode");
        assert!(
            e.message.contains("more than this config's 96-bit"),
            "{}",
            e.message
        );
        // A word of a full chip's VOP, cut to the lean word, does not decode either.
        let word = full.encode(&vop).unwrap();
        let e = l.decode(&word[..l.word_bytes()], 3).unwrap_err();
        assert!(matches!(e, DecodeError::Word { index: 3, .. }), "{e:?}");
        assert_eq!(l.decode(&l.encode(&halt()).unwrap(), 0).unwrap(), halt());
    }

    fn halt() -> Instr {
        Instr {
            delay: 1,
            op: Op::Ctl(Ctl {
                func: CtlFunc::Halt,
            }),
        }
    }

    #[test]
    fn program_file_refuses_other_configs_and_damage() {
        let small = HwConfig::default_preset();
        let tiny = HwConfig::preset("tiny").unwrap();
        let p = Program::single(vec![halt()]);
        let bytes = p.to_bytes(&small).unwrap();
        assert_eq!(Program::from_bytes(&bytes, &small).unwrap(), p);
        assert!(matches!(
            Program::from_bytes(&bytes, &tiny),
            Err(DecodeError::ConfigMismatch { .. })
        ));
        assert_eq!(
            Program::from_bytes(&bytes[..bytes.len() - 1], &small),
            Err(DecodeError::Truncated {
                offset: bytes.len() - 1
            })
        );
        let mut extra = bytes.clone();
        extra.push(0);
        assert_eq!(
            Program::from_bytes(&extra, &small),
            Err(DecodeError::Trailing { extra: 1 })
        );
        let mut bad = bytes.clone();
        bad[HEADER_BYTES + 4] = 0x0f; // opcode 15
        assert!(matches!(
            Program::from_bytes(&bad, &small),
            Err(DecodeError::Word { index: 0, .. })
        ));
        assert_eq!(
            Program::from_bytes(b"ELF!", &small),
            Err(DecodeError::Magic)
        );
    }

    #[test]
    fn out_of_range_values_do_not_encode() {
        let l = Layout::new(&HwConfig::preset("tiny").unwrap());
        let mut mma = Mma {
            src: Addr::sram(0, 0),
            src_step: 1,
            dst: Addr::acc(0, 0),
            dst_step: 1,
            count: 0,
            swap: false,
            accumulate: false,
        };
        let e = l
            .encode(&Instr {
                delay: 1,
                op: Op::Mma(mma),
            })
            .unwrap_err();
        assert_eq!(e.field, "count");
        mma.count = 1;
        mma.src = Addr::sram(0, 1 << 20);
        let e = l
            .encode(&Instr {
                delay: 1,
                op: Op::Mma(mma),
            })
            .unwrap_err();
        assert_eq!(e.field, "src");
        mma.src = Addr::acc(0, 0);
        assert!(l
            .encode(&Instr {
                delay: 1,
                op: Op::Mma(mma),
            })
            .is_err());
    }
}
