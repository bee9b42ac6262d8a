//! Widths and sizes every block derives from one [`HwConfig`], computed once.

use isa::encoding::bits_for;
use isa::ops::{FieldKind, Opcode};
use isa::{HwConfig, Layout};

use crate::host_map::ParamField;
use crate::packed::Packed;

/// The elaboration context: the config and every width derived from it.
#[derive(Clone, Debug)]
pub struct Ctx {
    pub cfg: HwConfig,
    pub layout: Layout,
    /// Lanes and array dimension.
    pub n: u32,
    /// Lanes the vector unit computes each cycle (`n`, or fewer over several cycles a row).
    pub vector_lanes: u32,
    /// Instruction row and bank fields.
    pub row_bits: u32,
    pub bank_bits: u32,
    /// Address bits of one SRAM and one accumulator bank.
    pub sram_addr_bits: u32,
    pub acc_addr_bits: u32,
    /// Instruction memory address (program counter) bits.
    pub pc_bits: u32,
    pub word_bits: u32,
    /// Bits of an instruction memory line ([`isa::Layout::line_bits`]) and of its address.
    pub line_bits: u32,
    pub line_addr_bits: u32,
    pub chip_bits: u32,
    /// Lookup-table memory address: table index above the 8-bit entry.
    pub lut_addr_bits: u32,
    pub param_addr_bits: u32,
    /// 32-bit words of the host port's staging row: the widest row any region moves.
    pub stage_words: u32,
    /// Host word-address bits: the top bit selects the staging row.
    pub host_addr_bits: u32,
    /// Link ports of every chip (the most links any chip of the system has).
    pub link_ports: u32,
    /// A bug to plant, to prove the co-simulation catches it.
    pub fault: Option<crate::Fault>,
}

/// The layout of a requantization parameter entry of `n` lanes in the parameter memory.
pub(crate) fn param_layout(n: u32) -> Packed<ParamField> {
    Packed::new("Param", |f: ParamField| f.bits(n))
}

/// Bits of one requantization parameter entry, as the host moves it.
pub fn param_entry_bits(n: u32) -> u32 {
    param_layout(n).bits()
}

/// The memories an entry's fields are kept in, each read by the vector pipeline at the
/// stage that computes with them, so that no field rides down the pipeline beside the rows:
/// the fields of steps 1 and 2 as `RQ` issues, the zero point for step 3, the clamp bounds for
/// step 4.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamMemory {
    Issue,
    ZeroPoint,
    Clamp,
}

impl ParamMemory {
    pub const ALL: [ParamMemory; 3] = [
        ParamMemory::Issue,
        ParamMemory::ZeroPoint,
        ParamMemory::Clamp,
    ];

    pub fn of(field: ParamField) -> Self {
        match field {
            ParamField::Bias | ParamField::Multiplier | ParamField::Shift => ParamMemory::Issue,
            ParamField::ZeroPoint => ParamMemory::ZeroPoint,
            ParamField::ActMin | ParamField::ActMax => ParamMemory::Clamp,
        }
    }

    /// The prefix of the memory's ports (`param_rd_addr`, ...).
    pub fn port(self) -> &'static str {
        match self {
            ParamMemory::Issue => "param",
            ParamMemory::ZeroPoint => "param_zp",
            ParamMemory::Clamp => "param_clamp",
        }
    }

    /// The memory's word: its fields of an entry of `n` lanes.
    pub(crate) fn layout(self, n: u32) -> Packed<ParamField> {
        let prefix = match self {
            ParamMemory::Issue => "ParamIssue",
            ParamMemory::ZeroPoint => "ParamZp",
            ParamMemory::Clamp => "ParamClamp",
        };
        Packed::new(prefix, move |f: ParamField| {
            if ParamMemory::of(f) == self {
                f.bits(n)
            } else {
                0
            }
        })
    }
}

/// Entries of one lookup table.
pub const LUT_ENTRIES: u32 = isa::image::LUT_ENTRIES;

/// The host port's register words below the staging row.
pub const HOST_REGS: u32 = 8;

impl Ctx {
    pub fn new(cfg: &HwConfig) -> Self {
        let c = &cfg.chip;
        let layout = Layout::new(cfg);
        let n = c.n;
        let line_words = layout.line_bits.div_ceil(32);
        let stage_words = n.max(3 * n + 3).max(line_words);
        let stage_index_bits = bits_for(stage_words).max(bits_for(HOST_REGS));
        let link_ports = (0..cfg.system.chips)
            .map(|chip| cfg.system.links().iter().filter(|l| l.from == chip).count() as u32)
            .max()
            .unwrap_or(0);
        Ctx {
            cfg: cfg.clone(),
            n,
            vector_lanes: c.vector_lanes(),
            row_bits: layout.row_bits,
            bank_bits: layout.bank_bits,
            sram_addr_bits: bits_for(c.sram_depth),
            acc_addr_bits: bits_for(c.acc_depth),
            pc_bits: bits_for(c.imem_depth),
            word_bits: layout.word_bits,
            line_bits: layout.line_bits,
            line_addr_bits: bits_for(c.imem_depth * c.imem_fetch_cycles),
            chip_bits: layout.chip_bits,
            lut_addr_bits: layout.table_bits + 8,
            param_addr_bits: bits_for(c.param_depth),
            stage_words,
            host_addr_bits: stage_index_bits + 1,
            link_ports,
            fault: None,
            layout,
        }
    }

    /// Bits of an int8 vector (an SRAM row).
    pub fn row8(&self) -> u32 {
        8 * self.n
    }

    /// Bits of an int32 vector (an accumulator row).
    pub fn row32(&self) -> u32 {
        32 * self.n
    }

    /// Bits of `op`'s sub-function field.
    pub fn func_bits(&self, op: Opcode) -> u32 {
        let field = op
            .spec()
            .fields
            .iter()
            .find(|f| matches!(f.kind, FieldKind::Func(_)))
            .expect("the op has a function field");
        self.layout.field_bits(field.kind)
    }

    pub fn multi_chip(&self) -> bool {
        self.cfg.system.chips > 1
    }

    /// Whether the chip has the hardware of `op`: every op the config does not leave out,
    /// `XFER` only in a system (a single chip has no router).
    pub fn has(&self, op: Opcode) -> bool {
        self.cfg.implements(op) && (op != Opcode::Xfer || self.multi_chip())
    }
}
