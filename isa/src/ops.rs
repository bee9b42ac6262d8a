//! The ten ops, defined once.
//!
//! [`ops!`] below is the single definition: for every op it declares the typed struct, its
//! opcode, mnemonic, unit and an ordered field table ([`OpSpec`]). The binary encoder and
//! decoder ([`crate::encoding`]), the assembler and disassembler ([`crate::asm`]) and the
//! documentation table ([`crate::ops::reference_table`]) are all generic over that table; the
//! golden model and the timing model match exhaustively on [`Op`].
//!
//! # Semantics
//! Row streams: an operand `base` with step `s` touches rows `base.row + i * s` of one bank for
//! `i in 0..count`. Data widths follow the memory: an SRAM row is `N` int8 lanes, an accumulator
//! row `N` int32 lanes. Reading an SRAM row sign-extends each lane to int32; **writing a 32-bit
//! lane value into SRAM saturates it to [-128, 127]**; lane arithmetic is int32 with
//! two's-complement wrap-around, except `RQ`'s last step: the zero point is added exactly
//! (33 bits) and the sum clamped to `[act_min, act_max]`, as TFLite does when nothing overflows. Within one instruction rows are processed in order, each row
//! read before it is written; the verifier guarantees the hardware's overlapped timing gives the
//! same result (see [`crate::timing`] for the cycle of every access).
//!
//! | op | semantics |
//! |---|---|
//! | `LDW` | shadow weights `W[k][j] = src[k * src_step][j]` for `k, j < N` |
//! | `MMA` | if `swap`: active weights = shadow. For each row `i`: `y[j] = sum_k x_i[k] * W[k][j]` (int8 x int8, int32 sum); `dst_i = y` or, with `accumulate`, `dst_i += y` |
//! | `RQ`  | per lane `l`: `v = requant(src_i[l] + bias[l], mult[l], shift[l]) + zp`, clamped to `[act_min, act_max]` (param entry `param`); to SRAM as int8, to accumulators as int32 |
//! | `VOP` | `dst_i[l] = f(a_i[l], b_i[l])` where `b` is a row or the immediate; `f` in add, sub, mul, max, min, shl, sra (shift by `b & 31`), sel (`b != 0 ? a : imm`), clz (leading zeros of `a`) |
//! | `LUT` | `dst_i[l] = table[src_i[l] + 128]` (table entries are int32) |
//! | `RED` | `dst_i[l] = sum (wrapping) or max over all lanes of src_i`, for every lane `l` |
//! | `PERM`| `rotate`: `dst_i[l] = src_i[(l + amount) mod N]`; `shift_down`: `src_i[l + amount]` or 0; `shift_up`: `src_i[l - amount]` or 0; `transpose`: for each of `count` tiles, `dst[t*N + j][k] = src[t*N + k][j]` (rows scaled by the steps) |
//! | `MOV` | `dst_i = src_i` (int8 widened or int32 saturated as the spaces say) |
//! | `XFER`| row `src_i` of this chip is written to row `dst_i` of SRAM on chip `chip` |
//! | `CTL` | `nop`; `halt` ends the program; `sync` is the start-up barrier (holds the sequencer for `1 + diameter * link_latency` cycles) |

use std::fmt;

/// A memory an operand can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Space {
    /// int8 SRAM banks.
    Sram,
    /// int32 accumulator banks.
    Acc,
    /// Not a memory: the instruction's immediate, broadcast to every lane (VOP's `b` only).
    Imm,
}

impl Space {
    pub fn name(self) -> &'static str {
        match self {
            Space::Sram => "sram",
            Space::Acc => "acc",
            Space::Imm => "imm",
        }
    }
}

/// A row of a bank (or the immediate, when `space` is [`Space::Imm`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Addr {
    pub space: Space,
    pub bank: u32,
    pub row: u32,
}

impl Addr {
    pub const IMM: Addr = Addr {
        space: Space::Imm,
        bank: 0,
        row: 0,
    };
    pub fn sram(bank: u32, row: u32) -> Self {
        Addr {
            space: Space::Sram,
            bank,
            row,
        }
    }
    pub fn acc(bank: u32, row: u32) -> Self {
        Addr {
            space: Space::Acc,
            bank,
            row,
        }
    }
    /// Row `i` of the stream starting here with `step` (may exceed the bank; the verifier
    /// checks ranges).
    pub fn nth(self, step: u32, i: u64) -> u64 {
        self.row as u64 + i * step as u64
    }
}

impl fmt::Display for Addr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.space {
            Space::Imm => f.write_str("imm"),
            space => write!(f, "{}{}[{}]", space.name(), self.bank, self.row),
        }
    }
}

/// The execution units. Each instruction occupies exactly one for a fixed number of cycles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Unit {
    /// Issues instructions; `CTL` runs here.
    Sequencer,
    /// The matrix unit's weight loader (`LDW` into the shadow buffer).
    MxuLoad,
    /// The systolic array itself (`MMA`).
    MxuArray,
    /// `RQ`, `VOP`, `LUT`, `RED`: one pipeline, one row per cycle.
    Vector,
    /// `PERM`.
    Permute,
    /// `MOV`.
    Memory,
    /// `XFER`.
    Router,
}

impl Unit {
    pub const ALL: [Unit; 7] = [
        Unit::Sequencer,
        Unit::MxuLoad,
        Unit::MxuArray,
        Unit::Vector,
        Unit::Permute,
        Unit::Memory,
        Unit::Router,
    ];
    pub fn name(self) -> &'static str {
        match self {
            Unit::Sequencer => "sequencer",
            Unit::MxuLoad => "mxu.load",
            Unit::MxuArray => "mxu.array",
            Unit::Vector => "vector",
            Unit::Permute => "permute",
            Unit::Memory => "memory",
            Unit::Router => "router",
        }
    }

    /// The unit's name as an identifier: hardware ports (`vector_retire_o`), trace records.
    pub fn ident(self) -> &'static str {
        match self {
            Unit::Sequencer => "seq",
            Unit::MxuLoad => "mxu_load",
            Unit::MxuArray => "mxu_array",
            Unit::Vector => "vector",
            Unit::Permute => "permute",
            Unit::Memory => "memory",
            Unit::Router => "router",
        }
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a field holds; decides its bit width (from the config) and its text form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldKind {
    /// The op's sub-function; text: the mnemonic suffix (`vop.add`).
    Func(&'static [&'static str]),
    /// A bank row in one of the listed spaces; text: `sram1[16]`, `acc0[3]`, `imm`.
    Addr(&'static [Space]),
    /// A row stride (0 repeats one row); default 1.
    Step,
    /// A repeat count, 1..=65535; default 1.
    Count,
    /// A boolean; text: the bare field name when set.
    Flag,
    /// A signed 32-bit immediate; default 0.
    Imm,
    /// A lookup-table index.
    Table,
    /// A requantization-parameter entry index.
    Param,
    /// A chip id.
    Chip,
    /// A lane count `< N`; default 0.
    Lanes,
}

/// One field of an op: its name in the text format and what it holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldSpec {
    pub name: &'static str,
    pub kind: FieldKind,
}

/// Everything about an op except its semantics.
#[derive(Clone, Copy, Debug)]
pub struct OpSpec {
    pub opcode: u8,
    pub mnemonic: &'static str,
    pub unit: Unit,
    /// One-line purpose.
    pub summary: &'static str,
    /// Fields in encoding order (after the opcode and the issue delay).
    pub fields: &'static [FieldSpec],
}

/// A field's value, in a form every field kind shares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value {
    Addr(Addr),
    /// Func index, step, count, table, param, chip or lanes.
    U(u32),
    I(i32),
    Flag(bool),
}

/// Conversion between a typed field and a [`Value`].
pub trait FieldValue: Sized {
    fn to_value(&self) -> Value;
    fn from_value(v: Value) -> Option<Self>;
}

impl FieldValue for Addr {
    fn to_value(&self) -> Value {
        Value::Addr(*self)
    }
    fn from_value(v: Value) -> Option<Self> {
        match v {
            Value::Addr(a) => Some(a),
            _ => None,
        }
    }
}
impl FieldValue for u32 {
    fn to_value(&self) -> Value {
        Value::U(*self)
    }
    fn from_value(v: Value) -> Option<Self> {
        match v {
            Value::U(u) => Some(u),
            _ => None,
        }
    }
}
impl FieldValue for i32 {
    fn to_value(&self) -> Value {
        Value::I(*self)
    }
    fn from_value(v: Value) -> Option<Self> {
        match v {
            Value::I(i) => Some(i),
            _ => None,
        }
    }
}
impl FieldValue for bool {
    fn to_value(&self) -> Value {
        Value::Flag(*self)
    }
    fn from_value(v: Value) -> Option<Self> {
        match v {
            Value::Flag(b) => Some(b),
            _ => None,
        }
    }
}

/// Declares a sub-function enum whose text names are its variants' names, in encoding order.
macro_rules! funcs {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name { $($(#[$vmeta])* $variant),+ }
        impl $name {
            pub const NAMES: &'static [&'static str] = &[$($text),+];
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn name(self) -> &'static str { Self::NAMES[self as usize] }
        }
        impl FieldValue for $name {
            fn to_value(&self) -> Value { Value::U(*self as u32) }
            fn from_value(v: Value) -> Option<Self> {
                match v { Value::U(u) => Self::ALL.get(u as usize).copied(), _ => None }
            }
        }
    };
}

funcs! {
    /// `VOP` lane functions.
    VopFunc {
        Add = "add", Sub = "sub", Mul = "mul", Max = "max", Min = "min",
        /// `b != 0 ? a : imm`.
        Sel = "sel",
        /// `a << (b & 31)`, wrapping.
        Shl = "shl",
        /// `a >> (b & 31)`, arithmetic.
        Sra = "sra",
        /// The leading zero bits of `a` (0 to 32); `b` is not used. With `shl` it normalises
        /// a sum into a table's range, for a per-row reciprocal or reciprocal square root.
        Clz = "clz",
    }
}
funcs! {
    /// `RED` cross-lane functions.
    RedFunc { Sum = "sum", Max = "max" }
}
funcs! {
    /// `PERM` modes.
    PermFunc { Transpose = "transpose", Rotate = "rotate", ShiftDown = "shift_down", ShiftUp = "shift_up" }
}
funcs! {
    /// `CTL` functions.
    CtlFunc { Nop = "nop", Halt = "halt", Sync = "sync" }
}

const SRAM: &[Space] = &[Space::Sram];
const ACC: &[Space] = &[Space::Acc];
const ANY: &[Space] = &[Space::Sram, Space::Acc];
const ANY_OR_IMM: &[Space] = &[Space::Sram, Space::Acc, Space::Imm];

/// Defines the op structs, [`Op`], [`Opcode`] and each op's [`OpSpec`] from one table.
macro_rules! ops {
    ($(
        $(#[$meta:meta])*
        $name:ident = $opcode:literal, $mnemonic:literal, $unit:ident, $summary:literal {
            $($(#[$fmeta:meta])* $field:ident : $ty:ty => $kind:expr),* $(,)?
        }
    )+) => {
        $(
            $(#[$meta])*
            #[derive(Clone, Copy, Debug, PartialEq, Eq)]
            pub struct $name { $($(#[$fmeta])* pub $field: $ty),* }

            impl $name {
                pub const SPEC: OpSpec = OpSpec {
                    opcode: $opcode,
                    mnemonic: $mnemonic,
                    unit: Unit::$unit,
                    summary: $summary,
                    fields: &[$(FieldSpec { name: stringify!($field), kind: $kind }),*],
                };
                fn values(&self) -> Vec<Value> { vec![$(self.$field.to_value()),*] }
                #[allow(unused_mut, unused_variables)]
                fn from_values(values: &[Value]) -> Option<Self> {
                    let mut it = values.iter().copied();
                    Some($name { $($field: <$ty>::from_value(it.next()?)?),* })
                }
            }
        )+

        /// One of the ten ops with its fields.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Op { $($name($name)),+ }

        /// The ten opcodes.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Opcode { $($name),+ }

        impl Opcode {
            pub const ALL: [Opcode; 10] = [$(Opcode::$name),+];
            pub fn spec(self) -> &'static OpSpec {
                match self { $(Opcode::$name => &$name::SPEC),+ }
            }
        }

        impl Op {
            pub fn opcode(&self) -> Opcode {
                match self { $(Op::$name(_) => Opcode::$name),+ }
            }
            /// Field values in the order of the op's [`OpSpec::fields`].
            pub fn values(&self) -> Vec<Value> {
                match self { $(Op::$name(x) => x.values()),+ }
            }
            /// Builds an op from values in field order; `None` when a value has the wrong form.
            pub fn from_values(opcode: Opcode, values: &[Value]) -> Option<Op> {
                match opcode { $(Opcode::$name => $name::from_values(values).map(Op::$name)),+ }
            }
        }
    };
}

ops! {
    /// Load an `N x N` weight tile (row `k` from `src + k * src_step`) into the shadow buffer.
    Ldw = 0, "ldw", MxuLoad, "load an N x N int8 weight tile into the shadow buffer" {
        src: Addr => FieldKind::Addr(SRAM),
        src_step: u32 => FieldKind::Step,
    }
    /// Stream `count` int8 vectors through the array into accumulator rows.
    Mma = 1, "mma", MxuArray, "stream int8 vectors through the array into int32 accumulator rows" {
        src: Addr => FieldKind::Addr(SRAM),
        src_step: u32 => FieldKind::Step,
        dst: Addr => FieldKind::Addr(ACC),
        dst_step: u32 => FieldKind::Step,
        count: u32 => FieldKind::Count,
        /// Make the shadow weights active as the first vector enters.
        swap: bool => FieldKind::Flag,
        /// Add into the destination rows instead of overwriting them.
        accumulate: bool => FieldKind::Flag,
    }
    /// Requantize int32 rows with a parameter entry.
    Rq = 2, "rq", Vector, "requantize int32 rows to int8 (or rescaled int32) per channel" {
        src: Addr => FieldKind::Addr(ACC),
        src_step: u32 => FieldKind::Step,
        dst: Addr => FieldKind::Addr(ANY),
        dst_step: u32 => FieldKind::Step,
        count: u32 => FieldKind::Count,
        param: u32 => FieldKind::Param,
    }
    /// Lane-wise arithmetic.
    Vop = 3, "vop", Vector, "lane-wise add, sub, mul, max, min, select, shift, leading zeros" {
        func: VopFunc => FieldKind::Func(VopFunc::NAMES),
        a: Addr => FieldKind::Addr(ANY),
        a_step: u32 => FieldKind::Step,
        b: Addr => FieldKind::Addr(ANY_OR_IMM),
        b_step: u32 => FieldKind::Step,
        dst: Addr => FieldKind::Addr(ANY),
        dst_step: u32 => FieldKind::Step,
        count: u32 => FieldKind::Count,
        imm: i32 => FieldKind::Imm,
    }
    /// Per-lane table lookup.
    Lut = 4, "lut", Vector, "per-lane 256-entry table lookup" {
        src: Addr => FieldKind::Addr(SRAM),
        src_step: u32 => FieldKind::Step,
        dst: Addr => FieldKind::Addr(ANY),
        dst_step: u32 => FieldKind::Step,
        count: u32 => FieldKind::Count,
        table: u32 => FieldKind::Table,
    }
    /// Cross-lane reduction, broadcast to every lane.
    Red = 5, "red", Vector, "cross-lane sum or max, broadcast to all lanes" {
        func: RedFunc => FieldKind::Func(RedFunc::NAMES),
        src: Addr => FieldKind::Addr(ANY),
        src_step: u32 => FieldKind::Step,
        dst: Addr => FieldKind::Addr(ANY),
        dst_step: u32 => FieldKind::Step,
        count: u32 => FieldKind::Count,
    }
    /// Tile transpose or lane rotate/shift, SRAM to SRAM.
    Perm = 6, "perm", Permute, "transpose N x N tiles, rotate or shift lanes" {
        func: PermFunc => FieldKind::Func(PermFunc::NAMES),
        src: Addr => FieldKind::Addr(SRAM),
        src_step: u32 => FieldKind::Step,
        dst: Addr => FieldKind::Addr(SRAM),
        dst_step: u32 => FieldKind::Step,
        /// Rows for rotate/shift; tiles of `N` rows for transpose.
        count: u32 => FieldKind::Count,
        amount: u32 => FieldKind::Lanes,
    }
    /// Strided row copy.
    Mov = 7, "mov", Memory, "strided copy of rows between banks and memories" {
        src: Addr => FieldKind::Addr(ANY),
        src_step: u32 => FieldKind::Step,
        dst: Addr => FieldKind::Addr(ANY),
        dst_step: u32 => FieldKind::Step,
        count: u32 => FieldKind::Count,
    }
    /// Send SRAM rows to SRAM on another chip.
    Xfer = 8, "xfer", Router, "send SRAM rows to SRAM on another chip" {
        chip: u32 => FieldKind::Chip,
        src: Addr => FieldKind::Addr(SRAM),
        src_step: u32 => FieldKind::Step,
        dst: Addr => FieldKind::Addr(SRAM),
        dst_step: u32 => FieldKind::Step,
        count: u32 => FieldKind::Count,
    }
    /// Sequencer control.
    Ctl = 9, "ctl", Sequencer, "nop, halt, start-up barrier" {
        func: CtlFunc => FieldKind::Func(CtlFunc::NAMES),
    }
}

/// One instruction: an op and the cycles between the previous instruction's issue and its own
/// (for the first instruction, cycles after start). Every instruction after the first needs a
/// delay of at least the issue interval ([`crate::timing::issue_interval`], 1 unless the
/// config reads instructions over several cycles): one sequencer issues at most one
/// instruction an interval.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Instr {
    pub delay: u32,
    pub op: Op,
}

/// Largest issue delay one instruction can carry (a 16-bit field); longer waits chain `ctl.nop`.
pub const MAX_DELAY: u32 = u16::MAX as u32;
/// Largest repeat count (a 16-bit field).
pub const MAX_COUNT: u32 = u16::MAX as u32;

impl Op {
    pub fn spec(&self) -> &'static OpSpec {
        self.opcode().spec()
    }
    pub fn unit(&self) -> Unit {
        self.spec().unit
    }
    /// The op's full mnemonic, with its sub-function (`vop.add`, `ctl.halt`).
    pub fn mnemonic(&self) -> String {
        let base = self.spec().mnemonic;
        match self {
            Op::Vop(x) => format!("{base}.{}", x.func.name()),
            Op::Red(x) => format!("{base}.{}", x.func.name()),
            Op::Perm(x) => format!("{base}.{}", x.func.name()),
            Op::Ctl(x) => format!("{base}.{}", x.func.name()),
            Op::Ldw(_) | Op::Mma(_) | Op::Rq(_) | Op::Lut(_) | Op::Mov(_) | Op::Xfer(_) => {
                base.to_string()
            }
        }
    }
    pub fn is_halt(&self) -> bool {
        matches!(
            self,
            Op::Ctl(Ctl {
                func: CtlFunc::Halt
            })
        )
    }
}

impl Opcode {
    pub fn from_u8(code: u8) -> Option<Opcode> {
        Opcode::ALL
            .iter()
            .copied()
            .find(|o| o.spec().opcode == code)
    }
    pub fn from_mnemonic(m: &str) -> Option<Opcode> {
        Opcode::ALL.iter().copied().find(|o| o.spec().mnemonic == m)
    }
}

/// A Markdown table of the ops and their fields, generated from the specs.
pub fn reference_table() -> String {
    let mut out =
        String::from("| opcode | mnemonic | unit | fields | purpose |\n|---|---|---|---|---|\n");
    for op in Opcode::ALL {
        let s = op.spec();
        let fields: Vec<String> = s
            .fields
            .iter()
            .map(|f| match f.kind {
                FieldKind::Func(names) => format!(".{{{}}}", names.join(", ")),
                _ => f.name.to_string(),
            })
            .collect();
        out.push_str(&format!(
            "| {} | `{}` | {} | {} | {} |\n",
            s.opcode,
            s.mnemonic,
            s.unit,
            fields.join(" "),
            s.summary
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opcodes_are_unique_and_dense() {
        for (i, op) in Opcode::ALL.iter().enumerate() {
            assert_eq!(op.spec().opcode as usize, i);
            assert_eq!(Opcode::from_u8(i as u8), Some(*op));
            assert_eq!(Opcode::from_mnemonic(op.spec().mnemonic), Some(*op));
        }
        assert_eq!(Opcode::from_u8(10), None);
    }

    #[test]
    fn values_round_trip_through_the_spec() {
        let op = Op::Vop(Vop {
            func: VopFunc::Sel,
            a: Addr::acc(1, 2),
            a_step: 1,
            b: Addr::IMM,
            b_step: 0,
            dst: Addr::sram(3, 4),
            dst_step: 2,
            count: 5,
            imm: -7,
        });
        let values = op.values();
        assert_eq!(values.len(), op.spec().fields.len());
        assert_eq!(Op::from_values(Opcode::Vop, &values), Some(op));
        assert_eq!(op.mnemonic(), "vop.sel");
        assert!(reference_table().contains("`xfer`"));
    }
}
