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
//! order they are written: the program's cycle 0 is [`START_LATENCY`] cycles after the start
//! write. A row command word is `row` (bits 0-15), `bank` or table (16-23), [`Region`] (24-26)
//! and `write` (bit 31). A write command stores the staging row into the memory in the next
//! cycle; a read command's row is in the staging row [`ROW_READ_LATENCY`] cycles after the
//! command (status bit 2 clears then). Staging words by region:
//! - SRAM and accumulators: word `l` is lane `l` as int32 (SRAM writes saturate to int8).
//! - Lookup table `bank`: word 0 is entry `row` (the output for input `row - 128`).
//! - Parameters, entry `row`: words `0..N` bias, `N..2N` multiplier, `2N..3N` shift (-31..30),
//!   then zero point, act_min, act_max.
//! - Instruction memory (write only), word `row`: the instruction, least significant word
//!   first.

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

/// Status bits of the control register.
pub const STATUS_RUNNING: u32 = 1;
pub const STATUS_HALTED: u32 = 2;
pub const STATUS_BUSY: u32 = 4;

/// Cycles from the start write to the program's cycle 0.
pub const START_LATENCY: u32 = 2;
/// Cycles to wait after a row read command before reading the staging row.
pub const ROW_READ_LATENCY: u32 = 2;
/// Cycles from a register read request to its data on `host_rdata_o`.
pub const READ_LATENCY: u32 = 1;

pub const CMD_BANK_LO: u32 = 16;
pub const CMD_REGION_LO: u32 = 24;
pub const CMD_WRITE_BIT: u32 = 31;

/// A row command word.
pub fn row_command(region: Region, bank: u32, row: u32, write: bool) -> u32 {
    (row & 0xffff)
        | (bank & 0xff) << CMD_BANK_LO
        | (region as u32) << CMD_REGION_LO
        | u32::from(write) << CMD_WRITE_BIT
}
