//! The hardware configuration: one chip's sizes and the multi-chip system around it.
//!
//! A [`HwConfig`] is only ever handed out validated: [`HwConfig::from_toml`],
//! [`HwConfig::preset`] and [`HwConfig::validate`] are the ways in, and every field outside its
//! range is reported as a [`ConfigError`] that names the field, the value and the allowed range.

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::ops::Opcode;

/// Sizes of one chip. All memories are counted in words: an SRAM word is one int8 vector of
/// `n` lanes, an accumulator word one int32 vector of `n` lanes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChipConfig {
    /// Matrix-unit dimension: `n x n` processing elements, and the vector width in lanes.
    pub n: u32,
    /// Number of single-ported int8 SRAM banks.
    pub sram_banks: u32,
    /// Words per SRAM bank.
    pub sram_depth: u32,
    /// Number of accumulator banks (one read and one write port each).
    pub acc_banks: u32,
    /// Words per accumulator bank.
    pub acc_depth: u32,
    /// Number of 256-entry lookup tables used by `LUT`; 0 leaves out `LUT` and its tables.
    pub lut_tables: u32,
    /// Number of requantization parameter entries used by `RQ`.
    pub param_depth: u32,
    /// Instructions the sequencer's instruction memory holds.
    pub imem_depth: u32,
    /// Cycles from a vector-unit op's read of row `i` to its write of row `i`: the vector
    /// pipeline's depth. The arithmetic needs [`MIN_VECTOR_LATENCY`]; deeper pipelines add
    /// register stages before the write (timing slack for FPGAs). Omitted: the minimum.
    #[serde(
        default = "ChipConfig::min_vector_latency",
        skip_serializing_if = "ChipConfig::is_min_vector_latency"
    )]
    pub vector_latency: u32,
    /// Lanes the vector unit computes each cycle: a power of two dividing `n`. Fewer than
    /// `n` make it smaller and slower: it takes `n / vector_lanes` cycles a row
    /// ([`ChipConfig::vector_interval`]). Omitted: `n`, a row a cycle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vector_lanes: Option<u32>,
    /// Whether the multipliers of the array and of `RQ` register their operands and their
    /// products, the registers of an FPGA's DSP blocks: the iCE40 flow builds them from
    /// `SB_MAC16`s with those registers, so that every path through one is timed. `MMA`
    /// results take [`PRODUCT_REGISTERS`] cycles longer; the vector pipeline must be at least
    /// [`REGISTERED_PRODUCTS_VECTOR_LATENCY`] deep. (`VOP mul`'s multiplies stay
    /// combinational.) Omitted: false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub registered_products: bool,
    /// Whether `MMA ... accumulate` reads the old row a cycle earlier and registers it, so
    /// that its add starts from a register rather than a block RAM's slow output
    /// ([`ChipConfig::accumulate_read_ahead`]). Omitted: false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub registered_accumulate: bool,
    /// Whether the memories register each read's data after choosing the bank it came from,
    /// so that no unit's logic starts from a block RAM's slow output and the crossbar's
    /// multiplexer: every read's data arrives [`ChipConfig::read_registers`] cycles later, and
    /// every read-to-write latency grows by as much ([`crate::timing`]). Omitted: false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub registered_reads: bool,
    /// Whether the memories register every port's request (enable, bank, row, write data)
    /// before the crossbar chooses among them, so that no unit's address or data logic
    /// runs on into the crossbar's multiplexers and a block RAM's setup: every access
    /// reaches its bank a cycle later, so a read's data arrives
    /// [`ChipConfig::read_registers`] cycles later and the order of reads and writes is as
    /// scheduled ([`crate::timing`]). Omitted: false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub registered_requests: bool,
    /// Whether each bank registers the request the crossbar chose for it (enable, row, write
    /// data) before its block RAM takes it, so that the crossbar's multiplexers, spread
    /// over the die to reach every bank, end at a register beside the bank rather than at
    /// a block RAM's setup. Like [`ChipConfig::registered_requests`]: every access reaches
    /// its bank a cycle later. Omitted: false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub registered_bank_requests: bool,
    /// Whether each bank registers its read data beside the block RAM, before the crossbar
    /// carries it to the port that asked, so that no path starts from a block RAM's slow
    /// output and runs across the die. Like [`ChipConfig::registered_reads`]: a read's data
    /// arrives a cycle later. Omitted: false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub registered_bank_reads: bool,
    /// Cycles the sequencer takes to fetch an instruction: its memory is a line of
    /// `word / imem_fetch_cycles` bits wide (1, 2 or 4), so that it fits memories narrower
    /// than an instruction word (three of an iCE40's 16-bit SPRAMs hold a 96-bit word as
    /// two lines). Instructions then issue at least this many cycles apart
    /// ([`crate::timing::issue_interval`]), and the host writes the memory line by line.
    /// Omitted: 1.
    #[serde(
        default = "ChipConfig::one_fetch_cycle",
        skip_serializing_if = "ChipConfig::is_one_fetch_cycle"
    )]
    pub imem_fetch_cycles: u32,
    /// Ops whose hardware the chip leaves out, by mnemonic (any of [`OMITTABLE`]): a smaller
    /// chip for programs that never use them. Omitted: none.
    #[serde(default, skip_serializing_if = "Vec::is_empty", with = "mnemonics")]
    pub omit: Vec<Opcode>,
}

/// The ops `chip.omit` may name: each has hardware of its own that nothing else needs. (`LUT`
/// is left out by `chip.lut_tables = 0`; `XFER` has a router only in a system.)
pub const OMITTABLE: [Opcode; 4] = [Opcode::Vop, Opcode::Red, Opcode::Perm, Opcode::Mov];

/// The hardware an op needs that a config leaves out, and the field that does it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MissingUnit {
    /// What the chip lacks, e.g. "the permute unit".
    pub unit: &'static str,
    /// The setting that leaves it out, e.g. `chip.omit lists "perm"`.
    pub setting: String,
}

impl fmt::Display for MissingUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}, which this config leaves out ({})",
            self.unit, self.setting
        )
    }
}

/// `chip.omit` in TOML: a list of mnemonics.
mod mnemonics {
    use serde::de::Error;
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::ops::Opcode;

    pub fn serialize<S: Serializer>(ops: &[Opcode], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(ops.iter().map(|op| op.spec().mnemonic))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Opcode>, D::Error> {
        Vec::<String>::deserialize(d)?
            .iter()
            .map(|m| {
                Opcode::from_mnemonic(m).ok_or_else(|| {
                    D::Error::custom(format!("`{m}` is not an op: chip.omit takes mnemonics"))
                })
            })
            .collect()
    }
}

/// The registers a product passes when [`ChipConfig::registered_products`] is set: its
/// operands', then its own.
pub const PRODUCT_REGISTERS: u32 = 2;

/// The shallowest vector pipeline with [`ChipConfig::registered_products`]: the one whose
/// stage after RQ's multiply is the product's register.
pub const REGISTERED_PRODUCTS_VECTOR_LATENCY: u32 = MIN_VECTOR_LATENCY + 3;

/// The shallowest vector pipeline with every stage of timing slack the vector unit's
/// arithmetic can use (the generator's vector unit says which stage parts what); deeper
/// pipelines only carry the row before the write.
pub const FULL_SLACK_VECTOR_LATENCY: u32 = REGISTERED_PRODUCTS_VECTOR_LATENCY + 2;

/// The shallowest vector pipeline: read, three stages of requantization arithmetic, write.
pub const MIN_VECTOR_LATENCY: u32 = 4;

/// The deepest vector pipeline a config may ask for.
pub const MAX_VECTOR_LATENCY: u32 = 16;

impl ChipConfig {
    fn min_vector_latency() -> u32 {
        MIN_VECTOR_LATENCY
    }
    fn is_min_vector_latency(latency: &u32) -> bool {
        *latency == MIN_VECTOR_LATENCY
    }

    fn one_fetch_cycle() -> u32 {
        1
    }
    fn is_one_fetch_cycle(cycles: &u32) -> bool {
        *cycles == 1
    }

    /// Lanes the vector unit computes each cycle.
    pub fn vector_lanes(&self) -> u32 {
        self.vector_lanes.unwrap_or(self.n)
    }

    /// The registers each of the array's products passes: its operands', then its own.
    pub fn product_registers(&self) -> u32 {
        if self.registered_products {
            PRODUCT_REGISTERS
        } else {
            0
        }
    }

    /// Cycles before its write that `MMA ... accumulate` reads the old row: 1, one more with
    /// [`ChipConfig::registered_accumulate`] and one more for each of a read's registers.
    pub fn accumulate_read_ahead(&self) -> u32 {
        1 + u32::from(self.registered_accumulate) + self.read_registers()
    }

    /// The registers a read passes besides the bank's own: its request's, before the
    /// crossbar ([`ChipConfig::registered_requests`]) and beside the bank
    /// ([`ChipConfig::registered_bank_requests`]), and its data's, beside the bank
    /// ([`ChipConfig::registered_bank_reads`]) and after the crossbar
    /// ([`ChipConfig::registered_reads`]). A read's data arrives this many cycles after the
    /// cycle following its request; a write reaches its bank as many cycles after it as the
    /// request's registers.
    pub fn read_registers(&self) -> u32 {
        [
            self.registered_requests,
            self.registered_bank_requests,
            self.registered_bank_reads,
            self.registered_reads,
        ]
        .into_iter()
        .map(u32::from)
        .sum()
    }

    /// Cycles the vector unit spends on each row: it reads a row every this many cycles.
    pub fn vector_interval(&self) -> u32 {
        self.n / self.vector_lanes()
    }
}

/// How the chips of a system are wired. Links are bidirectional pairs of directed links.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Topology {
    /// One chip, no links.
    Single,
    /// Chip `i` is linked to `i + 1` and `i - 1` (mod chips); routes take the shorter way,
    /// increasing indices on a tie.
    Ring,
    /// `rows x cols` grid, chip id `row * cols + col`; dimension-order (X then Y) routing.
    Mesh { rows: u32, cols: u32 },
    /// `groups` groups of `group_size` chips; chips of a group are fully connected, and every
    /// pair of groups has exactly one global link (see [`crate::topology`]).
    Dragonfly { groups: u32, group_size: u32 },
}

/// `single`, `ring`, `mesh:RxC` or `dragonfly:GxS` (groups x group size): the form the
/// config hash names it by.
impl fmt::Display for Topology {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Topology::Single => write!(f, "single"),
            Topology::Ring => write!(f, "ring"),
            Topology::Mesh { rows, cols } => write!(f, "mesh:{rows}x{cols}"),
            Topology::Dragonfly { groups, group_size } => {
                write!(f, "dragonfly:{groups}x{group_size}")
            }
        }
    }
}

impl Topology {
    /// A topology of `kind` (`ring`, `mesh` or `dragonfly`) for `chips` chips: the squarest
    /// mesh (`rows <= cols`; a prime number of chips makes a line, `1 x chips`), a dragonfly
    /// of two groups; one chip is `single` whatever the kind.
    pub fn of_kind(kind: &str, chips: u32) -> Result<Topology, ConfigError> {
        let field = |allowed: &str| ConfigError::Field {
            field: "system.topology",
            value: format!("{kind} of {chips} chips"),
            allowed: allowed.into(),
        };
        let topology = match kind {
            "ring" => Topology::Ring,
            "mesh" => {
                let rows = (1..=chips)
                    .take_while(|r| *r <= chips / r)
                    .filter(|r| chips.is_multiple_of(*r))
                    .last()
                    .unwrap_or(1);
                Topology::Mesh {
                    rows,
                    cols: chips / rows,
                }
            }
            "dragonfly" if chips.is_multiple_of(2) || chips == 1 => Topology::Dragonfly {
                groups: 2,
                group_size: chips / 2,
            },
            "dragonfly" => {
                return Err(field(
                    "a dragonfly of two groups needs an even number of chips",
                ))
            }
            _ => return Err(field("one of ring, mesh, dragonfly")),
        };
        Ok(if chips == 1 {
            Topology::Single
        } else {
            topology
        })
    }
}

/// The multi-chip system: all chips share clock and reset.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SystemConfig {
    /// Number of chips.
    pub chips: u32,
    /// How they are wired.
    pub topology: Topology,
    /// Cycles a row spends on one hop (a link); links are pipelined, one row per cycle.
    pub link_latency: u32,
}

/// A complete, validated hardware configuration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HwConfig {
    /// Optional human name (a preset's name, for instance). Not part of the hash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub chip: ChipConfig,
    #[serde(default = "SystemConfig::single")]
    pub system: SystemConfig,
}

/// A field outside its allowed range, or a file that is not a configuration at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("invalid config: `{field}` = {value}: {allowed}")]
    Field {
        field: &'static str,
        value: String,
        allowed: String,
    },
    #[error("invalid config TOML: {0}")]
    Parse(String),
    #[error("unknown preset `{0}`: choose one of {presets}", presets = PRESETS.join(", "))]
    UnknownPreset(String),
}

/// The most SRAM and accumulator bytes a whole system may have: the golden model and the
/// simulators hold all of it in memory.
pub const MAX_STATE_BYTES: u64 = 1 << 30;

/// The preset names, smallest first.
pub const PRESETS: [&str; 7] = ["up5k", "tiny", "small", "medium", "large", "lm", "lm16"];

impl SystemConfig {
    /// A single chip with no links.
    pub fn single() -> Self {
        SystemConfig {
            chips: 1,
            topology: Topology::Single,
            link_latency: 1,
        }
    }
}

impl HwConfig {
    /// A named preset: `up5k` (N=2, sized for the iCE40 UP5K: RQ the only vector op, one
    /// lane a cycle, its multipliers in DSPs, its instructions in SPRAM; see docs/fpga.md),
    /// `tiny` (N=4; over three times the UP5K's logic, see BENCHMARKS.md), `small` (N=8, the
    /// default; pipelined for the ECP5-85F's clock), `medium` (N=16), `large` (N=32), and
    /// `lm` (N=8) and `lm16` (N=16), sized for the language model `models/charlm`. All are single-chip; see
    /// [`HwConfig::with_system`].
    pub fn preset(name: &str) -> Result<Self, ConfigError> {
        let chip = match name {
            "tiny" => ChipConfig {
                n: 4,
                sram_banks: 4,
                sram_depth: 256,
                acc_banks: 2,
                acc_depth: 64,
                lut_tables: 2,
                param_depth: 16,
                imem_depth: 256,
                vector_latency: MIN_VECTOR_LATENCY,
                vector_lanes: None,
                registered_products: false,
                registered_accumulate: false,
                registered_reads: false,
                registered_requests: false,
                registered_bank_requests: false,
                registered_bank_reads: false,
                imem_fetch_cycles: 1,
                omit: Vec::new(),
            },
            "up5k" => ChipConfig {
                n: 2,
                sram_banks: 2,
                sram_depth: 512,
                acc_banks: 1,
                acc_depth: 64,
                lut_tables: 0,
                param_depth: 64,
                imem_depth: 4096,
                // Every stage of timing slack the vector arithmetic has.
                vector_latency: FULL_SLACK_VECTOR_LATENCY,
                vector_lanes: Some(1),
                registered_products: true,
                registered_accumulate: false,
                registered_reads: false,
                registered_requests: false,
                registered_bank_requests: false,
                registered_bank_reads: false,
                imem_fetch_cycles: 2,
                omit: OMITTABLE.to_vec(),
            },
            "small" => ChipConfig {
                n: 8,
                sram_banks: 8,
                sram_depth: 512,
                acc_banks: 2,
                acc_depth: 256,
                lut_tables: 4,
                param_depth: 64,
                imem_depth: 1024,
                // Sized for the ECP5-85F's clock: every stage of timing slack the vector
                // arithmetic has, the multipliers' operands and products registered (the
                // placer spreads them over the die's rows of DSPs), the accumulate's read
                // registered, and every read's request and data (docs/fpga.md).
                vector_latency: FULL_SLACK_VECTOR_LATENCY,
                vector_lanes: None,
                registered_products: true,
                registered_accumulate: true,
                registered_reads: true,
                registered_requests: true,
                registered_bank_requests: false,
                registered_bank_reads: false,
                imem_fetch_cycles: 1,
                omit: Vec::new(),
            },
            "medium" => ChipConfig {
                n: 16,
                sram_banks: 8,
                sram_depth: 1024,
                acc_banks: 2,
                acc_depth: 512,
                lut_tables: 4,
                param_depth: 128,
                imem_depth: 2048,
                vector_latency: MIN_VECTOR_LATENCY,
                vector_lanes: None,
                registered_products: false,
                registered_accumulate: false,
                registered_reads: false,
                registered_requests: false,
                registered_bank_requests: false,
                registered_bank_reads: false,
                imem_fetch_cycles: 1,
                omit: Vec::new(),
            },
            "large" => ChipConfig {
                n: 32,
                sram_banks: 16,
                sram_depth: 2048,
                acc_banks: 4,
                acc_depth: 1024,
                lut_tables: 8,
                param_depth: 256,
                imem_depth: 4096,
                vector_latency: MIN_VECTOR_LATENCY,
                vector_lanes: None,
                registered_products: false,
                registered_accumulate: false,
                registered_reads: false,
                registered_requests: false,
                registered_bank_requests: false,
                registered_bank_reads: false,
                imem_fetch_cycles: 1,
                omit: Vec::new(),
            },
            // Sized for the language model of `models/charlm` (docs/transformer.md): its
            // weight tiles, position rows and KV cache in 12 banks of 2,048 rows (192 KiB),
            // the longest position's program (5,119 instructions, position 126) in the instruction memory,
            // its six tables, and `small`'s pipelining for the ECP5-85F's clock. With 6,144
            // instructions Yosys needed 209 of the 85F's 208 block RAMs.
            "lm" => ChipConfig {
                sram_banks: 12,
                sram_depth: 2048,
                lut_tables: 6,
                param_depth: 256,
                imem_depth: 5120,
                ..Self::preset("small")?.chip
            },
            // The same model on a 16 x 16 array without pipeline registers.
            "lm16" => ChipConfig {
                n: 16,
                sram_banks: 8,
                sram_depth: 2048,
                acc_banks: 2,
                acc_depth: 256,
                lut_tables: 6,
                param_depth: 128,
                imem_depth: 4096,
                ..Self::preset("medium")?.chip
            },
            other => return Err(ConfigError::UnknownPreset(other.to_string())),
        };
        let config = HwConfig {
            name: Some(name.to_string()),
            chip,
            system: SystemConfig::single(),
        };
        config.validate()?;
        Ok(config)
    }

    /// The default configuration (`small`).
    pub fn default_preset() -> Self {
        Self::preset("small").expect("the small preset is valid")
    }

    /// This configuration with another system around it, validated.
    pub fn with_system(mut self, system: SystemConfig) -> Result<Self, ConfigError> {
        self.system = system;
        self.validate()?;
        Ok(self)
    }

    /// Parses and validates a TOML configuration.
    ///
    /// ```
    /// let cfg = isa::HwConfig::from_toml(r#"
    ///     [chip]
    ///     n = 4
    ///     sram_banks = 4
    ///     sram_depth = 256
    ///     acc_banks = 2
    ///     acc_depth = 64
    ///     lut_tables = 2
    ///     param_depth = 16
    ///     imem_depth = 256
    ///     [system]
    ///     chips = 2
    ///     topology = { kind = "ring" }
    ///     link_latency = 2
    /// "#).unwrap();
    /// assert_eq!(cfg.system.chips, 2);
    /// ```
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let config: HwConfig =
            toml::from_str(text).map_err(|e| ConfigError::Parse(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    /// The configuration as TOML (round-trips through [`HwConfig::from_toml`]).
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("a config always serializes")
    }

    /// Checks every field; the first one out of range is returned.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let c = &self.chip;
        pow2_in("chip.n", c.n, 2, 64)?;
        in_range("chip.sram_banks", c.sram_banks, 1, 64)?;
        pow2_in("chip.sram_depth", c.sram_depth, 16, 65536)?;
        in_range("chip.acc_banks", c.acc_banks, 1, 64)?;
        pow2_in("chip.acc_depth", c.acc_depth, 16, 65536)?;
        in_range("chip.lut_tables", c.lut_tables, 0, 64)?;
        in_range("chip.param_depth", c.param_depth, 1, 4096)?;
        in_range("chip.imem_depth", c.imem_depth, 16, 65536)?;
        in_range(
            "chip.vector_latency",
            c.vector_latency,
            MIN_VECTOR_LATENCY,
            MAX_VECTOR_LATENCY,
        )?;
        if let Some(lanes) = c.vector_lanes {
            pow2_in("chip.vector_lanes", lanes, 1, c.n)?;
        }
        pow2_in("chip.imem_fetch_cycles", c.imem_fetch_cycles, 1, 4)?;
        if c.imem_depth * c.imem_fetch_cycles > 65536 {
            return Err(ConfigError::Field {
                field: "chip.imem_depth",
                value: c.imem_depth.to_string(),
                allowed: format!(
                    "at most {} with chip.imem_fetch_cycles = {}: the memory holds at most \
                     65536 lines",
                    65536 / c.imem_fetch_cycles,
                    c.imem_fetch_cycles
                ),
            });
        }
        if c.registered_products && c.vector_latency < REGISTERED_PRODUCTS_VECTOR_LATENCY {
            return Err(ConfigError::Field {
                field: "chip.vector_latency",
                value: c.vector_latency.to_string(),
                allowed: format!(
                    "{REGISTERED_PRODUCTS_VECTOR_LATENCY}..={MAX_VECTOR_LATENCY} with \
                     chip.registered_products: \
                     the vector pipeline's stage after RQ's multiply holds its products"
                ),
            });
        }
        for (i, op) in c.omit.iter().enumerate() {
            let mnemonic = op.spec().mnemonic;
            let allowed = if !OMITTABLE.contains(op) {
                let names: Vec<_> = OMITTABLE.iter().map(|o| o.spec().mnemonic).collect();
                format!(
                    "only {} can be left out (and lut, by chip.lut_tables = 0)",
                    names.join(", ")
                )
            } else if c.omit[..i].contains(op) {
                "listed twice".to_string()
            } else {
                continue;
            };
            return Err(ConfigError::Field {
                field: "chip.omit",
                value: format!("\"{mnemonic}\""),
                allowed,
            });
        }
        if c.vector_interval() > 1 && !c.omit.contains(&Opcode::Red) {
            return Err(ConfigError::Field {
                field: "chip.vector_lanes",
                value: c.vector_lanes().to_string(),
                allowed: format!(
                    "{} (every lane) unless chip.omit lists \"red\": RED reduces a whole row at once",
                    c.n
                ),
            });
        }
        let s = &self.system;
        in_range("system.chips", s.chips, 1, 64)?;
        let lanes = c.n as u64;
        let chip_bytes = c.sram_banks as u64 * c.sram_depth as u64 * lanes
            + c.acc_banks as u64 * c.acc_depth as u64 * lanes * 4;
        let total = chip_bytes * s.chips as u64;
        if total > MAX_STATE_BYTES {
            return Err(ConfigError::Field {
                field: "chip",
                value: format!(
                    "{} MiB of SRAM and accumulators over {} chip(s)",
                    total >> 20,
                    s.chips
                ),
                allowed: format!(
                    "all chips together may hold at most {} MiB: reduce banks, depths or chips",
                    MAX_STATE_BYTES >> 20
                ),
            });
        }
        in_range("system.link_latency", s.link_latency, 1, 64)?;
        let chips = s.chips;
        let mismatch = |topology: &str, expected: u32| ConfigError::Field {
            field: "system.chips",
            value: chips.to_string(),
            allowed: format!("must equal {expected} for topology {topology}"),
        };
        match s.topology {
            Topology::Single if chips != 1 => return Err(mismatch("single", 1)),
            Topology::Single => {}
            Topology::Ring if chips < 2 => {
                return Err(ConfigError::Field {
                    field: "system.chips",
                    value: chips.to_string(),
                    allowed: "a ring needs at least 2 chips".into(),
                })
            }
            Topology::Ring => {}
            Topology::Mesh { rows, cols } => {
                in_range("system.topology.rows", rows, 1, 64)?;
                in_range("system.topology.cols", cols, 1, 64)?;
                if rows * cols != chips {
                    return Err(mismatch(&format!("mesh {rows}x{cols}"), rows * cols));
                }
                if chips < 2 {
                    return Err(ConfigError::Field {
                        field: "system.chips",
                        value: chips.to_string(),
                        allowed: "a mesh needs at least 2 chips".into(),
                    });
                }
            }
            Topology::Dragonfly { groups, group_size } => {
                in_range("system.topology.groups", groups, 2, 16)?;
                in_range("system.topology.group_size", group_size, 1, 16)?;
                if groups * group_size != chips {
                    return Err(mismatch(
                        &format!("dragonfly {groups}x{group_size}"),
                        groups * group_size,
                    ));
                }
            }
        }
        Ok(())
    }

    /// The hardware `op` needs that this config leaves out; `None` when a chip of it can run
    /// `op`.
    pub fn missing_unit(&self, op: Opcode) -> Option<MissingUnit> {
        if op == Opcode::Lut && self.chip.lut_tables == 0 {
            return Some(MissingUnit {
                unit: "the lookup tables",
                setting: "chip.lut_tables = 0".into(),
            });
        }
        if !self.chip.omit.contains(&op) {
            return None;
        }
        let unit = match op {
            Opcode::Vop => "the vector unit's lane ALU",
            Opcode::Red => "the vector unit's reduction tree",
            Opcode::Perm => "the permute unit",
            Opcode::Mov => "the move unit",
            _ => unreachable!("validation admits only OMITTABLE ops in chip.omit"),
        };
        let setting = format!("chip.omit lists \"{}\"", op.spec().mnemonic);
        Some(MissingUnit { unit, setting })
    }

    /// Whether a chip of this config has the hardware `op` needs.
    pub fn implements(&self, op: Opcode) -> bool {
        self.missing_unit(op).is_none()
    }

    /// Vector lanes (`n`).
    pub fn lanes(&self) -> usize {
        self.chip.n as usize
    }

    /// A stable 64-bit hash of everything that changes hardware or encoding (not the name).
    /// Programs and memory images carry it so that one built for another config is refused.
    pub fn hash(&self) -> ConfigHash {
        let c = &self.chip;
        let s = &self.system;
        let topology = s.topology.to_string();
        let canonical = format!(
            "metronome-config-v1;n={};sram={}x{};acc={}x{};lut={};param={};imem={};\
             chips={};topology={};link_latency={}",
            c.n,
            c.sram_banks,
            c.sram_depth,
            c.acc_banks,
            c.acc_depth,
            c.lut_tables,
            c.param_depth,
            c.imem_depth,
            s.chips,
            topology,
            s.link_latency
        );
        // Added after v1: named only when not the default, so existing hashes stay valid.
        let mut canonical = canonical;
        if c.vector_latency != MIN_VECTOR_LATENCY {
            canonical += &format!(";vector_latency={}", c.vector_latency);
        }
        if c.vector_interval() > 1 {
            canonical += &format!(";vector_lanes={}", c.vector_lanes());
        }
        if c.registered_products {
            canonical += ";registered_products";
        }
        if c.registered_accumulate {
            canonical += ";registered_accumulate";
        }
        if c.registered_reads {
            canonical += ";registered_reads";
        }
        if c.registered_requests {
            canonical += ";registered_requests";
        }
        if c.registered_bank_requests {
            canonical += ";registered_bank_requests";
        }
        if c.registered_bank_reads {
            canonical += ";registered_bank_reads";
        }
        if c.imem_fetch_cycles != 1 {
            canonical += &format!(";imem_fetch_cycles={}", c.imem_fetch_cycles);
        }
        if !c.omit.is_empty() {
            let omitted: Vec<&str> = Opcode::ALL
                .iter()
                .filter(|op| c.omit.contains(op))
                .map(|op| op.spec().mnemonic)
                .collect();
            canonical += &format!(";omit={}", omitted.join(","));
        }
        let digest = Sha256::digest(canonical.as_bytes());
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        ConfigHash(u64::from_be_bytes(first))
    }
}

/// The 64-bit configuration hash, shown as 16 hex digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ConfigHash(pub u64);

impl fmt::Display for ConfigHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

fn in_range(field: &'static str, value: u32, min: u32, max: u32) -> Result<(), ConfigError> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(ConfigError::Field {
            field,
            value: value.to_string(),
            allowed: format!("must be in {min}..={max}"),
        })
    }
}

fn pow2_in(field: &'static str, value: u32, min: u32, max: u32) -> Result<(), ConfigError> {
    if (min..=max).contains(&value) && value.is_power_of_two() {
        Ok(())
    } else {
        Err(ConfigError::Field {
            field,
            value: value.to_string(),
            allowed: format!("must be a power of two in {min}..={max}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_are_valid_and_distinct() {
        let hashes: Vec<_> = PRESETS
            .iter()
            .map(|p| HwConfig::preset(p).unwrap().hash())
            .collect();
        for (i, a) in hashes.iter().enumerate() {
            for b in &hashes[i + 1..] {
                assert_ne!(a, b);
            }
        }
        assert_eq!(HwConfig::default_preset().chip.n, 8);
        assert_eq!(HwConfig::preset("tiny").unwrap().chip.n, 4);
    }

    #[test]
    fn toml_round_trips() {
        for p in PRESETS {
            let cfg = HwConfig::preset(p).unwrap();
            let back = HwConfig::from_toml(&cfg.to_toml()).unwrap();
            assert_eq!(cfg, back);
        }
    }

    #[test]
    fn hash_ignores_name_but_not_sizes() {
        let mut a = HwConfig::default_preset();
        let h = a.hash();
        a.name = Some("other".into());
        assert_eq!(a.hash(), h);
        a.chip.sram_depth *= 2;
        assert_ne!(a.hash(), h);
    }

    #[test]
    fn a_systems_hash_names_its_topology_as_it_always_has() {
        // SHA-256 of "metronome-config-v1;n=4;sram=4x256;acc=2x64;lut=2;param=16;imem=256;
        // chips=4;topology=mesh:2x2;link_latency=1" (and the dragonfly's), computed apart:
        // programs and images of these systems keep their hash whatever prints a topology.
        let system = |chips, topology, link_latency| {
            HwConfig::preset("tiny")
                .unwrap()
                .with_system(SystemConfig {
                    chips,
                    topology,
                    link_latency,
                })
                .unwrap()
        };
        let mesh = system(4, Topology::Mesh { rows: 2, cols: 2 }, 1);
        assert_eq!(mesh.hash().to_string(), "5b0e92b27f9aad95");
        let dragonfly = Topology::Dragonfly {
            groups: 2,
            group_size: 4,
        };
        assert_eq!(
            system(8, dragonfly, 3).hash().to_string(),
            "d38bd918232e394c"
        );
        assert_eq!(
            Topology::of_kind("mesh", 8).unwrap().to_string(),
            "mesh:2x4"
        );
        assert_eq!(
            Topology::of_kind("mesh", 7).unwrap().to_string(),
            "mesh:1x7"
        );
        assert_eq!(Topology::of_kind("ring", 1).unwrap(), Topology::Single);
        assert!(Topology::of_kind("torus", 1).is_err());
        assert!(Topology::of_kind("dragonfly", 6).is_ok());
        assert!(Topology::of_kind("dragonfly", 5).is_err());
    }

    #[test]
    fn vector_latency_is_hashed_only_when_not_the_default() {
        // Programs and images made before the field existed keep their config's hash.
        let tiny = HwConfig::preset("tiny").unwrap();
        assert_eq!(tiny.hash().to_string(), "a3b16794c7371030");
        assert!(!tiny.to_toml().contains("vector_latency"));
        let mut deep = tiny.clone();
        deep.chip.vector_latency = MIN_VECTOR_LATENCY + 1;
        assert_ne!(deep.hash(), tiny.hash());
        assert_eq!(HwConfig::from_toml(&deep.to_toml()).unwrap(), deep);
        let (field, value) = field_error(&format!("{}vector_latency = 3\n", chip_toml(4, 256)));
        assert_eq!(
            (field.as_str(), value.as_str()),
            ("chip.vector_latency", "3")
        );
    }

    #[test]
    fn registered_products_are_read_and_hashed_only_when_set() {
        let tiny = HwConfig::preset("tiny").unwrap();
        assert!(!tiny.to_toml().contains("registered_products"));
        let text = format!("{}registered_products = true\n", chip_toml(4, 256));
        let (field, value) = field_error(&text);
        assert_eq!(
            (field.as_str(), value.as_str()),
            ("chip.vector_latency", "4")
        );
        let registered = HwConfig::from_toml(&format!("{text}vector_latency = 7\n")).unwrap();
        assert!(registered.chip.registered_products);
        assert_ne!(
            registered.hash(),
            HwConfig::from_toml(&format!("{}vector_latency = 7\n", chip_toml(4, 256)))
                .unwrap()
                .hash()
        );
        assert_eq!(
            HwConfig::from_toml(&registered.to_toml()).unwrap(),
            registered
        );
    }

    #[test]
    fn imem_fetch_cycles_are_read_checked_and_hashed_only_when_not_one() {
        let plain = HwConfig::from_toml(&chip_toml(4, 256)).unwrap();
        assert_eq!(plain.chip.imem_fetch_cycles, 1);
        assert!(!plain.to_toml().contains("imem_fetch_cycles"));
        let two =
            HwConfig::from_toml(&format!("{}imem_fetch_cycles = 2\n", chip_toml(4, 256))).unwrap();
        assert_ne!(two.hash(), plain.hash());
        assert_eq!(HwConfig::from_toml(&two.to_toml()).unwrap(), two);
        let (field, value) = field_error(&format!("{}imem_fetch_cycles = 3\n", chip_toml(4, 256)));
        assert_eq!(
            (field.as_str(), value.as_str()),
            ("chip.imem_fetch_cycles", "3")
        );
        // 65536 lines at most: 32768 instructions of two lines.
        let deep = chip_toml(4, 256).replace("imem_depth = 256", "imem_depth = 65536");
        HwConfig::from_toml(&deep).unwrap();
        let (field, value) = field_error(&format!("{deep}imem_fetch_cycles = 2\n"));
        assert_eq!(
            (field.as_str(), value.as_str()),
            ("chip.imem_depth", "65536")
        );
    }

    #[test]
    fn registered_accumulate_is_read_and_hashed_only_when_set() {
        let plain = HwConfig::from_toml(&chip_toml(4, 256)).unwrap();
        assert!(!plain.to_toml().contains("registered_accumulate"));
        assert_eq!(plain.chip.accumulate_read_ahead(), 1);
        let text = format!("{}registered_accumulate = true\n", chip_toml(4, 256));
        let registered = HwConfig::from_toml(&text).unwrap();
        assert_eq!(registered.chip.accumulate_read_ahead(), 2);
        assert_ne!(registered.hash(), plain.hash());
        assert_eq!(
            HwConfig::from_toml(&registered.to_toml()).unwrap(),
            registered
        );
    }

    #[test]
    fn registered_requests_add_to_registered_reads_and_are_hashed_only_when_set() {
        let reads = format!("{}registered_reads = true\n", chip_toml(4, 256));
        let reads = HwConfig::from_toml(&reads).unwrap();
        assert!(!reads.to_toml().contains("registered_requests"));
        let both = format!(
            "{}registered_reads = true\nregistered_requests = true\n",
            chip_toml(4, 256)
        );
        let both = HwConfig::from_toml(&both).unwrap();
        assert_eq!(both.chip.read_registers(), 2);
        assert_eq!(both.chip.accumulate_read_ahead(), 3);
        assert_ne!(both.hash(), reads.hash());
        assert_eq!(HwConfig::from_toml(&both.to_toml()).unwrap(), both);
    }

    #[test]
    fn bank_registers_add_to_the_read_registers_and_are_hashed_only_when_set() {
        let plain = HwConfig::from_toml(&chip_toml(4, 256)).unwrap();
        let mut hashes = vec![plain.hash().0];
        for field in ["registered_bank_requests", "registered_bank_reads"] {
            let one =
                HwConfig::from_toml(&format!("{}{field} = true\n", chip_toml(4, 256))).unwrap();
            assert_eq!(one.chip.read_registers(), 1, "{field}");
            assert!(one.to_toml().contains(field));
            assert_eq!(HwConfig::from_toml(&one.to_toml()).unwrap(), one);
            hashes.push(one.hash().0);
        }
        let all = format!(
            "{}registered_requests = true\nregistered_bank_requests = true\n\
             registered_bank_reads = true\nregistered_reads = true\n",
            chip_toml(4, 256)
        );
        let all = HwConfig::from_toml(&all).unwrap();
        assert_eq!(all.chip.read_registers(), 4);
        assert_eq!(all.chip.accumulate_read_ahead(), 5);
        hashes.push(all.hash().0);
        hashes.sort();
        hashes.dedup();
        assert_eq!(hashes.len(), 4, "every setting hashes apart");
        assert!(!plain.to_toml().contains("registered_bank"));
    }

    #[test]
    fn registered_reads_are_read_and_hashed_only_when_set() {
        let plain = HwConfig::from_toml(&chip_toml(4, 256)).unwrap();
        assert!(!plain.to_toml().contains("registered_reads"));
        let text = format!("{}registered_reads = true\n", chip_toml(4, 256));
        let registered = HwConfig::from_toml(&text).unwrap();
        assert_eq!(registered.chip.read_registers(), 1);
        // The accumulate reads ahead by the read's register too: its data arrives as late.
        assert_eq!(registered.chip.accumulate_read_ahead(), 2);
        assert_ne!(registered.hash(), plain.hash());
        assert_eq!(
            HwConfig::from_toml(&registered.to_toml()).unwrap(),
            registered
        );
    }

    #[test]
    fn omitted_units_are_named_hashed_and_checked() {
        let tiny = HwConfig::preset("tiny").unwrap();
        let text = format!(
            "{}omit = [\"perm\", \"vop\"]\n",
            chip_toml(4, 256).replace("lut_tables = 2", "lut_tables = 0")
        );
        let lean = HwConfig::from_toml(&text).unwrap();
        assert_eq!(lean.chip.omit, [Opcode::Perm, Opcode::Vop]);
        assert_eq!(HwConfig::from_toml(&lean.to_toml()).unwrap(), lean);
        // The order of the list does not change the hardware.
        let mut reordered = lean.clone();
        reordered.chip.omit.reverse();
        assert_eq!(reordered.hash(), lean.hash());
        assert_ne!(lean.hash(), tiny.hash());

        let missing = |op| lean.missing_unit(op).map(|m| m.to_string());
        assert_eq!(
            missing(Opcode::Perm).unwrap(),
            "the permute unit, which this config leaves out (chip.omit lists \"perm\")"
        );
        assert!(missing(Opcode::Lut)
            .unwrap()
            .contains("chip.lut_tables = 0"));
        assert!(missing(Opcode::Vop).unwrap().contains("lane ALU"));
        for op in [Opcode::Rq, Opcode::Red, Opcode::Mov, Opcode::Mma] {
            assert!(lean.implements(op) && tiny.implements(op), "{op:?}");
        }
        assert!(Opcode::ALL.iter().all(|op| tiny.implements(*op)));

        let omit = |list: &str| field_error(&format!("{}omit = {list}\n", chip_toml(4, 256)));
        assert_eq!(omit("[\"rq\"]"), ("chip.omit".into(), "\"rq\"".into()));
        assert_eq!(
            omit("[\"red\", \"red\"]"),
            ("chip.omit".into(), "\"red\"".into())
        );
        let unknown = HwConfig::from_toml(&format!("{}omit = [\"fft\"]\n", chip_toml(4, 256)));
        assert!(
            matches!(&unknown, Err(ConfigError::Parse(e)) if e.contains("`fft` is not an op")),
            "{unknown:?}"
        );
    }

    #[test]
    fn fewer_vector_lanes_are_checked_hashed_and_slow_the_unit() {
        let tiny = HwConfig::preset("tiny").unwrap();
        assert_eq!(
            (tiny.chip.vector_lanes(), tiny.chip.vector_interval()),
            (4, 1)
        );
        let text = |lanes: u32, omit: &str| {
            format!(
                "{}vector_lanes = {lanes}\nomit = [{omit}]\n",
                chip_toml(4, 256)
            )
        };
        let serial = HwConfig::from_toml(&text(1, "\"red\"")).unwrap();
        assert_eq!(
            (serial.chip.vector_lanes(), serial.chip.vector_interval()),
            (1, 4)
        );
        assert_eq!(HwConfig::from_toml(&serial.to_toml()).unwrap(), serial);
        // Naming every lane is the default, and the same hardware.
        let mut every = HwConfig::from_toml(&text(4, "")).unwrap();
        every.name = tiny.name.clone();
        assert_eq!(every.hash(), tiny.hash());
        let mut without_red = tiny.clone();
        without_red.chip.omit = vec![Opcode::Red];
        assert_ne!(serial.hash(), without_red.hash());

        for bad in [text(3, "\"red\""), text(8, "\"red\""), text(0, "\"red\"")] {
            let (field, _) = field_error(&bad);
            assert_eq!(field, "chip.vector_lanes", "{bad}");
        }
        // RED reduces a row at once: fewer lanes need it left out.
        match HwConfig::from_toml(&text(2, "")) {
            Err(ConfigError::Field { field, allowed, .. }) => {
                assert_eq!(field, "chip.vector_lanes");
                assert!(allowed.contains("\"red\""), "{allowed}");
            }
            other => panic!("expected a field error, got {other:?}"),
        }
    }

    fn field_error(text: &str) -> (String, String) {
        match HwConfig::from_toml(text) {
            Err(ConfigError::Field { field, value, .. }) => (field.to_string(), value),
            other => panic!("expected a field error, got {other:?}"),
        }
    }

    fn chip_toml(n: u32, depth: u32) -> String {
        format!(
            "[chip]\nn = {n}\nsram_banks = 4\nsram_depth = {depth}\nacc_banks = 2\n\
             acc_depth = 64\nlut_tables = 2\nparam_depth = 16\nimem_depth = 256\n"
        )
    }

    #[test]
    fn out_of_range_fields_are_named() {
        assert_eq!(
            field_error(&chip_toml(3, 256)),
            ("chip.n".into(), "3".into())
        );
        assert_eq!(
            field_error(&chip_toml(4, 100)),
            ("chip.sram_depth".into(), "100".into())
        );
        let ring1 = chip_toml(4, 256)
            + "[system]\nchips = 1\ntopology = { kind = \"ring\" }\nlink_latency = 1\n";
        assert_eq!(field_error(&ring1), ("system.chips".into(), "1".into()));
        let mesh = chip_toml(4, 256)
            + "[system]\nchips = 4\ntopology = { kind = \"mesh\", rows = 2, cols = 3 }\n\
               link_latency = 1\n";
        assert_eq!(field_error(&mesh), ("system.chips".into(), "4".into()));
        let lat = chip_toml(4, 256)
            + "[system]\nchips = 2\ntopology = { kind = \"ring\" }\nlink_latency = 0\n";
        assert_eq!(
            field_error(&lat),
            ("system.link_latency".into(), "0".into())
        );
    }

    #[test]
    fn systems_too_big_to_simulate_are_refused() {
        let huge = "[chip]\nn = 64\nsram_banks = 64\nsram_depth = 65536\nacc_banks = 1\n\
                    acc_depth = 16\nlut_tables = 1\nparam_depth = 1\nimem_depth = 16\n\
                    [system]\nchips = 64\ntopology = { kind = \"ring\" }\nlink_latency = 1\n";
        let e = HwConfig::from_toml(huge).unwrap_err().to_string();
        assert!(
            e.contains("16384 MiB") && e.contains("at most 1024 MiB"),
            "{e}"
        );
        // One such chip (256 MiB) is fine.
        assert!(HwConfig::from_toml(&huge[..huge.find("[system]").unwrap()]).is_ok());
    }

    #[test]
    fn malformed_toml_is_a_parse_error() {
        assert!(matches!(
            HwConfig::from_toml("[chip]\nn = \"eight\""),
            Err(ConfigError::Parse(_))
        ));
        assert!(matches!(
            HwConfig::from_toml(&(chip_toml(4, 256) + "bogus = 1\n")),
            Err(ConfigError::Parse(_))
        ));
        assert!(matches!(
            HwConfig::preset("huge"),
            Err(ConfigError::UnknownPreset(_))
        ));
    }
}
