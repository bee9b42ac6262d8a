//! The host port, as a host (the co-simulation harness, a UART bridge) drives it.
//!
//! Pins: `host_req_i`, `host_we_i`, `host_addr_i` (word address), `host_wdata_i` (32 bits)
//! and `host_rdata_o`, which holds the data of a read the cycle after the request.
//!
//! | address | register | access |
//! |---|---|---|
//! | 0 | control / status | write bit 0: start (ignored while running); read: bit 0 running, bit 1 halted, bit 2 row command busy |
//! | 1, 2 | cycle count, low and high word | read: cycles since the start; after `ctl.halt`, the program's cycle count |
//! | 3 | row command | write: copy one row between the staging row and a memory (ignored while running); read: the last command |
//! | 4, 5 | config hash, low and high word | read |
//! | 6 | shape | read: `N` (bits 0-7), SRAM banks (8-15), staging words (16-31) |
//! | top address bit set | staging row word `addr mod 2^(bits - 1)` | read, write |
//!
//! A start or a row command takes effect the cycle after it is written, so commands act in the
//! order they are written: the program's cycle 0 is [`start_latency`] cycles after the start
//! write. A row command word is `row` (bits 0-15), `bank` or table (16-23), [`Region`] (24-26)
//! and `write` (bit 31): [`RowCommand`]. A write command stores the staging row into the memory in the next
//! cycle and leaves the staging row as it was; a read command's row is in the staging row [`row_read_latency`] cycles after the
//! command (status bit 2 clears then). Staging words by region:
//! - SRAM and accumulators: word `l` is lane `l` as int32 (SRAM writes saturate to int8).
//! - Lookup table `bank`: word 0 is entry `row` (the output for input `row - 128`).
//! - Parameters, entry `row`: words `0..N` bias, `N..2N` multiplier, `2N..3N` shift (-31..30),
//!   then zero point, act_min, act_max.
//! - Instruction memory (write only), line `row`: instruction `row / F`'s line `row mod F`
//!   (`F` = `chip.imem_fetch_cycles`, 1 unless the config asks for more: a line is the whole
//!   instruction), least significant word first; line `k` holds the instruction's bits from
//!   `k * L` up, `L` = the word's bits over `F` (the descriptor's `isa.line_bits`).

use crate::packed::{fields, Packed};

fields! {
    /// The fields of a requantization parameter entry, most significant first as the
    /// parameter memory packs them (bias lowest). The host stages them the other way round:
    /// see [`param_stage_words`].
    pub enum ParamField {
        ActMax = "act_max",
        ActMin = "act_min",
        ZeroPoint = "zero_point",
        Shift = "shift",
        Multiplier = "multiplier",
        Bias = "bias",
    }
}

/// A parameter shift (`-31..=30`) is stored in 6 bits.
pub const PARAM_SHIFT_BITS: u32 = 6;

impl ParamField {
    /// Whether the field has one value per lane (else one for the whole entry).
    pub fn per_lane(self) -> bool {
        match self {
            ParamField::Bias | ParamField::Multiplier | ParamField::Shift => true,
            ParamField::ZeroPoint | ParamField::ActMin | ParamField::ActMax => false,
        }
    }

    /// Bits of one value of the field in the parameter memory.
    pub fn value_bits(self) -> u32 {
        match self {
            ParamField::Shift => PARAM_SHIFT_BITS,
            ParamField::Bias
            | ParamField::Multiplier
            | ParamField::ZeroPoint
            | ParamField::ActMin
            | ParamField::ActMax => 32,
        }
    }

    /// Bits of the field in an entry of `n` lanes.
    pub fn bits(self, n: u32) -> u32 {
        if self.per_lane() {
            n * self.value_bits()
        } else {
            self.value_bits()
        }
    }
}

/// The staging words of a parameter entry of `n` lanes, in order: each field and lane (0
/// for shared fields), least significant field first, as int32 words.
pub fn param_stage_words(n: u32) -> Vec<(ParamField, u32)> {
    use crate::packed::Fields;
    ParamField::ALL
        .iter()
        .rev()
        .flat_map(|f| {
            let lanes = if f.per_lane() { n } else { 1 };
            (0..lanes).map(move |l| (*f, l))
        })
        .collect()
}

/// The host registers, by word address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reg {
    Control = 0,
    CycleLow = 1,
    CycleHigh = 2,
    RowCommand = 3,
    HashLow = 4,
    HashHigh = 5,
    Shape = 6,
}

impl Reg {
    pub fn name(self) -> &'static str {
        match self {
            Reg::Control => "control",
            Reg::CycleLow => "cycle_low",
            Reg::CycleHigh => "cycle_high",
            Reg::RowCommand => "row_command",
            Reg::HashLow => "hash_low",
            Reg::HashHigh => "hash_high",
            Reg::Shape => "shape",
        }
    }

    pub const ALL: [Reg; 7] = [
        Reg::Control,
        Reg::CycleLow,
        Reg::CycleHigh,
        Reg::RowCommand,
        Reg::HashLow,
        Reg::HashHigh,
        Reg::Shape,
    ];
}

/// The memory a row command addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Region {
    Sram = 0,
    Acc = 1,
    Lut = 2,
    Param = 3,
    Imem = 4,
}

fields! {
    /// The control register as read: the status.
    pub enum Status {
        Reserved = "reserved",
        /// A row command is being carried out.
        Busy = "busy",
        Halted = "halted",
        Running = "running",
    }
}

/// The status word's layout.
pub(crate) fn status_layout() -> Packed<Status> {
    Packed::new("Status", |f| match f {
        Status::Reserved => 29,
        Status::Busy | Status::Halted | Status::Running => 1,
    })
}

/// Whether a status word (the control register as read) has `flag` set.
pub fn status_has(status: u32, flag: Status) -> bool {
    status >> status_layout().lo(flag) & 1 == 1
}

fields! {
    /// The control register as written.
    pub enum Control {
        Reserved = "reserved",
        /// Start the program at instruction 0 (ignored while running).
        Start = "start",
    }
}

/// The control word's layout.
pub(crate) fn control_layout() -> Packed<Control> {
    Packed::new("Control", |f| match f {
        Control::Reserved => 31,
        Control::Start => 1,
    })
}

/// The control word that starts the program.
pub fn start_command() -> u32 {
    control_layout().value(|f| u64::from(f == Control::Start)) as u32
}

fields! {
    /// A row command word.
    pub enum RowCommand {
        Write = "write",
        Reserved = "reserved",
        Region = "region",
        /// The bank, or the lookup table.
        Bank = "bank",
        Row = "row",
    }
}

/// The row command word's layout.
pub(crate) fn row_command_layout() -> Packed<RowCommand> {
    Packed::new("Cmd", |f| match f {
        RowCommand::Write => 1,
        RowCommand::Reserved => 4,
        RowCommand::Region => 3,
        RowCommand::Bank => 8,
        RowCommand::Row => 16,
    })
}

fields! {
    /// The shape register.
    pub enum Shape {
        StageWords = "stage_words",
        SramBanks = "sram_banks",
        Lanes = "lanes",
    }
}

/// The shape register's layout.
pub(crate) fn shape_layout() -> Packed<Shape> {
    Packed::new("Shape", |f| match f {
        Shape::StageWords => 16,
        Shape::SramBanks | Shape::Lanes => 8,
    })
}

impl Region {
    pub const ALL: [Region; 5] = [
        Region::Sram,
        Region::Acc,
        Region::Lut,
        Region::Param,
        Region::Imem,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Region::Sram => "sram",
            Region::Acc => "acc",
            Region::Lut => "lut",
            Region::Param => "param",
            Region::Imem => "imem",
        }
    }
}

/// Cycles from the start write to the program's cycle 0: the start register, then the
/// sequencer's fetch of the first instructions. With one fetch cycle it has instruction 0
/// waiting while idle and reads instruction 1 as it starts; with `F` lines an instruction,
/// it reads the first two instructions' `2F` lines after the start.
pub fn start_latency(cfg: &isa::HwConfig) -> u32 {
    match cfg.chip.imem_fetch_cycles {
        1 => 2,
        f => 1 + 2 * f,
    }
}
/// Cycles to wait after a row read command before reading the staging row: the command's
/// register, the memory's read and its read registers ([`isa::ChipConfig::read_registers`]).
pub fn row_read_latency(cfg: &isa::HwConfig) -> u32 {
    2 + cfg.chip.read_registers()
}
/// Cycles from a register read request to its data on `host_rdata_o`.
pub const READ_LATENCY: u32 = 1;

/// A row command word (`bank` and `row` are cut to their fields).
pub fn row_command(region: Region, bank: u32, row: u32, write: bool) -> u32 {
    row_command_layout().value(|f| match f {
        RowCommand::Write => u64::from(write),
        RowCommand::Reserved => 0,
        RowCommand::Region => region as u64,
        RowCommand::Bank => bank as u64,
        RowCommand::Row => row as u64,
    }) as u32
}

/// Whether a status word says the chip is running, has halted, or is busy with a row
/// command.
pub fn status(word: u32) -> (bool, bool, bool) {
    let layout = status_layout();
    let bit = |f| word >> layout.lo(f) & 1 == 1;
    (bit(Status::Running), bit(Status::Halted), bit(Status::Busy))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_bit_positions_are_the_layouts() {
        // The module doc and docs/rtl.md give these numbers; the layouts are the source.
        let cmd = row_command_layout();
        let at = |f| (cmd.lo(f), cmd.width(f));
        assert_eq!(at(RowCommand::Row), (0, 16));
        assert_eq!(at(RowCommand::Bank), (16, 8));
        assert_eq!(at(RowCommand::Region), (24, 3));
        assert_eq!(at(RowCommand::Write), (31, 1));
        assert_eq!(row_command(Region::Param, 2, 5, true), 0x8302_0005);
        let word = status_layout();
        assert_eq!(
            [Status::Running, Status::Halted, Status::Busy].map(|f| word.lo(f)),
            [0, 1, 2]
        );
        assert_eq!(status(0b110), (false, true, true));
        let shape = shape_layout();
        assert_eq!(
            [Shape::Lanes, Shape::SramBanks, Shape::StageWords].map(|f| shape.lo(f)),
            [0, 8, 16]
        );
        assert_eq!(start_command(), 1);
    }
}
