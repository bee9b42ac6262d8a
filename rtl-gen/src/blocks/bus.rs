//! Bundles: named groups of signals between a producer and a consumer, so that the ports on
//! both sides and the wires of the parent that joins them come from one list.
//!
//! A signal `x` is the port `x_o` on the side that drives it and `x_i` on the other, and the
//! wire `x` in the parent.

use isa::ops::Unit;

use crate::ast::*;
use crate::ctx::Ctx;

/// One signal of a bundle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sig {
    pub name: String,
    pub width: u32,
    /// Driven by the producer (else by the consumer).
    pub forward: bool,
}

/// A list of signals between two modules.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bundle(pub Vec<Sig>);

impl Bundle {
    pub fn fwd(mut self, name: impl Into<String>, width: u32) -> Self {
        self.0.push(Sig {
            name: name.into(),
            width,
            forward: true,
        });
        self
    }

    pub fn back(mut self, name: impl Into<String>, width: u32) -> Self {
        self.0.push(Sig {
            name: name.into(),
            width,
            forward: false,
        });
        self
    }

    fn drives(sig: &Sig, producer: bool) -> bool {
        sig.forward == producer
    }

    /// Adds the bundle's ports to `m`, as the producer or the consumer.
    pub fn ports(&self, m: &mut Module, producer: bool) {
        for s in &self.0 {
            if Self::drives(s, producer) {
                m.output(&format!("{}_o", s.name), s.width);
            } else {
                m.input(&format!("{}_i", s.name), s.width);
            }
        }
    }

    /// Declares the parent's wires.
    pub fn wires(&self, m: &mut Module) {
        for s in &self.0 {
            m.wire(&s.name, s.width);
        }
    }

    /// Connects an instance's ports (on the given side) to the parent's wires.
    pub fn connect(&self, mut inst: Instance, producer: bool) -> Instance {
        for s in &self.0 {
            let suffix = if Self::drives(s, producer) { "o" } else { "i" };
            inst = inst.conn(&format!("{}_{suffix}", s.name), id(&s.name));
        }
        inst
    }

    /// Connects an instance's ports to the parent's ports of the same names (the parent
    /// carries the bundle through on the same side).
    pub fn pass_through(&self, mut inst: Instance, producer: bool) -> Instance {
        for s in &self.0 {
            let suffix = if Self::drives(s, producer) { "o" } else { "i" };
            let port = format!("{}_{suffix}", s.name);
            inst = inst.conn(&port, id(&port));
        }
        inst
    }

    /// Every signal's wire, for a sink.
    pub fn all_wires(&self) -> Vec<Expr> {
        self.0.iter().map(|s| id(&s.name)).collect()
    }
}

/// Which memories a port reaches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reach {
    Sram,
    Acc,
    /// Either, chosen per access by an `acc` bit.
    Any,
}

/// A unit's port to the banks: reads return data the next cycle (plus the config's read
/// registers, [`isa::ChipConfig::read_registers`]); SRAM lanes are sign-extended
/// to 32 bits for 32-bit ports, and 32-bit lanes written to SRAM saturate to int8.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemPort {
    pub name: &'static str,
    pub write: bool,
    pub reach: Reach,
    /// 8 (int8 lanes) or 32 (int32 lanes).
    pub lane_bits: u32,
}

impl MemPort {
    pub const fn read(name: &'static str, reach: Reach, lane_bits: u32) -> Self {
        MemPort {
            name,
            write: false,
            reach,
            lane_bits,
        }
    }

    pub const fn write(name: &'static str, reach: Reach, lane_bits: u32) -> Self {
        MemPort {
            name,
            write: true,
            reach,
            lane_bits,
        }
    }

    /// The signal name prefix: `<name>_rd` or `<name>_wr`.
    pub fn prefix(&self) -> String {
        format!("{}_{}", self.name, if self.write { "wr" } else { "rd" })
    }

    /// The row as the unit sees it: the read data it receives, or the data it writes.
    pub fn data(&self) -> Expr {
        if self.write {
            id(format!("{}_data_o", self.prefix()))
        } else {
            id(format!("{}_data_i", self.prefix()))
        }
    }

    /// The unit is the producer.
    pub fn bundle(&self, ctx: &Ctx) -> Bundle {
        let p = self.prefix();
        let mut b = Bundle::default().fwd(format!("{p}_en"), 1);
        if self.reach == Reach::Any {
            b = b.fwd(format!("{p}_acc"), 1);
        }
        b = b
            .fwd(format!("{p}_bank"), ctx.bank_bits)
            .fwd(format!("{p}_row"), ctx.row_bits);
        let data = self.lane_bits * ctx.n;
        if self.write {
            b.fwd(format!("{p}_data"), data)
        } else {
            b.back(format!("{p}_data"), data)
        }
    }
}

/// Drives `port`'s read request from a stream whose tag is the request's `{acc, bank}` (just
/// the bank for a port that reaches one memory); returns the stream's `last`, which a read
/// port does not need.
pub fn drive_read(m: &mut Module, port: &MemPort, stream: super::prims::Stream) -> Expr {
    let p = port.prefix();
    m.assign(id(format!("{p}_en_o")), stream.valid);
    m.assign(id(format!("{p}_row_o")), stream.row);
    let target = if port.reach == Reach::Any {
        cat(vec![id(format!("{p}_acc_o")), id(format!("{p}_bank_o"))])
    } else {
        id(format!("{p}_bank_o"))
    };
    m.assign(target, stream.tag);
    stream.last
}

/// A unit's completion report: `<unit>_retire` in the cycle its instruction completes, with
/// the instruction's index; the router's also names the chip the transfer ran on.
pub fn retire_bundle(unit: Unit, ctx: &Ctx) -> Bundle {
    let name = unit.ident();
    let b = Bundle::default()
        .fwd(format!("{name}_retire"), 1)
        .fwd(format!("{name}_retire_pc"), ctx.pc_bits);
    match unit {
        Unit::Router => b.fwd(format!("{name}_retire_chip"), ctx.chip_bits),
        Unit::Sequencer
        | Unit::MxuLoad
        | Unit::MxuArray
        | Unit::Vector
        | Unit::Permute
        | Unit::Memory => b,
    }
}

/// The unit's completion strobe output.
pub fn retire(unit: Unit) -> Expr {
    id(format!("{}_retire_o", unit.ident()))
}

/// The unit's completed-instruction index output.
pub fn retire_pc(unit: Unit) -> Expr {
    id(format!("{}_retire_pc_o", unit.ident()))
}

/// `wire unused_<what> = ^{bits}`: consumes bits a module receives but does not need (the
/// `unused` prefix is what Verilator's lint expects of deliberate sinks).
pub fn sink(m: &mut Module, what: &str, bits: Vec<Expr>) {
    if bits.is_empty() {
        return;
    }
    let name = format!("unused_{what}");
    m.wire(&name, 1);
    m.assign(id(name), cat(bits).reduce_xor());
}
