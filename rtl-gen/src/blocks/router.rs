//! The router: `XFER` injects rows into the chip-to-chip network, which forwards them along
//! the topology's fixed routes, one hop per `link_latency` cycles, with no flow control (the
//! schedule guarantees every link carries one row a cycle at most).
//!
//! Row `i` is read at `t + i`, enters its first link at `t + i + 1`, enters hop `h` at
//! `t + i + 1 + h * L` (forwarding through a router takes no cycle) and is written to the
//! destination's SRAM as it arrives, at `t + i + 1 + H * L`.

use isa::encoding::bits_for;
use isa::ops::{Opcode, Unit};

use super::bus::{drive_read, retire, retire_bundle, retire_pc, Bundle, MemPort, Reach};
use super::prims::{add_stream, StreamSpec};
use super::seq::{decoded, issue_bundle, op_bundle};
use crate::ast::*;
use crate::ctx::Ctx;
use crate::packed::{fields, Packed};
use crate::pipeline::await_read;

pub const XFER_READ: MemPort = MemPort::read("xfer", Reach::Sram, 8);
/// Rows arriving for this chip.
pub const NET_WRITE: MemPort = MemPort::write("net", Reach::Sram, 8);

fields! {
    /// A row on its way: where it goes, the instruction that sent it, and the data.
    enum Packet {
        Valid = "valid",
        Last = "last",
        Dst = "dst",
        Src = "src",
        Pc = "pc",
        Bank = "bank",
        Row = "row",
        Data = "data",
    }
}

fn packet_layout(ctx: &Ctx) -> Packed<Packet> {
    Packed::new("Pkt", |f| match f {
        Packet::Valid | Packet::Last => 1,
        Packet::Dst | Packet::Src => ctx.chip_bits,
        Packet::Pc => ctx.pc_bits,
        Packet::Bank => ctx.bank_bits,
        Packet::Row => ctx.row_bits,
        Packet::Data => 8 * ctx.n,
    })
}

/// Bits of a packet.
pub fn packet_bits(ctx: &Ctx) -> u32 {
    packet_layout(ctx).bits()
}

fields! {
    /// What the destination stream holds for the whole transfer.
    enum Tag {
        Dst = "dst",
        Pc = "pc",
        Bank = "bank",
    }
}

/// Bits of one route-table entry: a link port, or `link_ports` for this chip.
pub fn route_entry_bits(ctx: &Ctx) -> u32 {
    bits_for(ctx.link_ports + 1)
}

/// The chip's position in the system, tied to constants by `mtn_system`.
pub fn strap_bundle(ctx: &Ctx) -> Bundle {
    Bundle::default()
        .fwd("chip_id", ctx.chip_bits)
        .fwd("route", ctx.cfg.system.chips * route_entry_bits(ctx))
}

/// The chip's links: one input and one output port per neighbour.
pub fn link_bundle(ctx: &Ctx) -> Bundle {
    let w = ctx.link_ports * packet_bits(ctx);
    Bundle::default().fwd("link_out", w).back("link_in", w)
}

/// `mtn_router`.
pub fn router(ctx: &Ctx) -> Module {
    let (rb, bb, pcb, cb) = (ctx.row_bits, ctx.bank_bits, ctx.pc_bits, ctx.chip_bits);
    let ports = ctx.link_ports;
    let pkb = packet_bits(ctx);
    let reb = route_entry_bits(ctx);
    let mut m = Module::clocked(
        "mtn_router",
        &[
            "Router: injects XFER rows, forwards packets by the route table (entry d: the link",
            "port toward chip d, or the port count for this chip) and delivers arrivals to SRAM.",
            "Each outgoing link is a pipeline of link_latency registers; nothing is flow-controlled.",
        ],
    );
    strap_bundle(ctx).ports(&mut m, false);
    issue_bundle(ctx).ports(&mut m, false);
    op_bundle(ctx, Opcode::Xfer).ports(&mut m, false);
    XFER_READ.bundle(ctx).ports(&mut m, true);
    NET_WRITE.bundle(ctx).ports(&mut m, true);
    // Completion of transfers into this chip, with the chip the instruction ran on.
    retire_bundle(Unit::Router, ctx).ports(&mut m, true);
    link_bundle(ctx).ports(&mut m, true);

    let f = |name: &str| decoded(ctx, Opcode::Xfer, name);
    let src = add_stream(
        &mut m,
        "src",
        rb,
        StreamSpec::operand(ctx, Opcode::Xfer, "src", f("src_bank"), bb),
    );
    let src_last = drive_read(&mut m, &XFER_READ, src);
    super::bus::sink(&mut m, "src_last", vec![src_last]);
    let tag = Packed::new("Tag", |f| match f {
        Tag::Dst => cb,
        Tag::Pc => pcb,
        Tag::Bank => bb,
    });
    let dst = add_stream(
        &mut m,
        "dst",
        rb,
        StreamSpec::operand(
            ctx,
            Opcode::Xfer,
            "dst",
            tag.pack(|t| match t {
                Tag::Dst => f("chip"),
                Tag::Pc => id("issue_pc_i"),
                Tag::Bank => f("dst_bank"),
            }),
            tag.bits(),
        ),
    );
    let packet = packet_layout(ctx);
    // The packet but its data (which comes from the read) and its source (this chip).
    let header = Packed::new("Hdr", |f| match f {
        Packet::Data | Packet::Src => 0,
        f => packet.width(f),
    });
    let (s1d, s1) = m.flop("s1", header.bits(), true);
    m.assign(
        s1d,
        header.pack(|f| match f {
            Packet::Valid => dst.valid.clone(),
            Packet::Last => dst.last.clone(),
            Packet::Dst => tag.get(&dst.tag, Tag::Dst),
            Packet::Pc => tag.get(&dst.tag, Tag::Pc),
            Packet::Bank => tag.get(&dst.tag, Tag::Bank),
            Packet::Row => dst.row.clone(),
            Packet::Src | Packet::Data => unreachable!("not in the header"),
        }),
    );
    let s1 = await_read(&mut m, &ctx.cfg, "s1_read", header.bits(), s1);
    m.comment("The row read enters the network with its destination as it arrives.");
    let inject = m.wire("inject", pkb);
    m.assign(
        inject.clone(),
        packet.pack(|f| match f {
            Packet::Src => id("chip_id_i"),
            Packet::Data => XFER_READ.data(),
            f => header.get(&s1, f),
        }),
    );

    // Inputs: the injection, then each incoming link.
    let inputs: Vec<Expr> = std::iter::once(inject)
        .chain((0..ports).map(|p| id("link_in_i").part(int((p * pkb) as i64), pkb)))
        .collect();
    m.comment("Each input's next hop from the route table.");
    let mut targets = Vec::new();
    for (i, pkt) in inputs.iter().enumerate() {
        let pw = m.wire(&format!("in{i}"), pkb);
        m.assign(pw.clone(), pkt.clone());
        let t = m.wire(&format!("in{i}_port"), reb);
        let dst = packet.get(&pw, Packet::Dst);
        m.assign(t.clone(), id("route_i").part(dst.mul(int(reb as i64)), reb));
        targets.push((pw, t));
    }
    let steer = |out: u32| -> Expr {
        let mut terms = targets.iter().map(|(pw, t)| {
            repeat(
                pkb,
                packet
                    .get(pw, Packet::Valid)
                    .land(t.clone().eq(lit(reb, out as u64))),
            ) & pw.clone()
        });
        let first = terms.next().expect("the injection is always an input");
        terms.fold(first, |acc, t| acc | t)
    };
    m.comment("Outgoing links: at most one input heads for each in any cycle.");
    let latency = ctx.cfg.system.link_latency;
    for p in 0..ports {
        let out = m.wire(&format!("out{p}"), pkb);
        m.assign(out.clone(), steer(p));
        m.instance(
            Instance::new("mtn_delay", &format!("u_link{p}"))
                .param("Width", int(pkb as i64))
                .param("Depth", int(latency as i64))
                .clocked()
                .conn("d_i", out)
                .conn("q_o", id("link_out_o").part(int((p * pkb) as i64), pkb)),
        );
    }
    m.comment("Arrivals for this chip are written to SRAM as they arrive.");
    let local = m.wire("arrival", pkb);
    m.assign(local.clone(), steer(ports));
    let valid = packet.get(&local, Packet::Valid);
    m.assign(id("net_wr_en_o"), valid.clone());
    m.assign(
        retire(Unit::Router),
        valid.land(packet.get(&local, Packet::Last)),
    );
    m.assign(
        id(format!("{}_retire_chip_o", Unit::Router.ident())),
        packet.get(&local, Packet::Src),
    );
    m.assign(retire_pc(Unit::Router), packet.get(&local, Packet::Pc));
    m.assign(id("net_wr_bank_o"), packet.get(&local, Packet::Bank));
    m.assign(id("net_wr_row_o"), packet.get(&local, Packet::Row));
    m.assign(id("net_wr_data_o"), packet.get(&local, Packet::Data));
    // Arrivals are for this chip by construction.
    super::bus::sink(&mut m, "arrival_dst", vec![packet.get(&local, Packet::Dst)]);
    tag.declare(&mut m, "The destination stream's tag");
    packet.declare(&mut m, "A packet");
    header.declare(&mut m, "What stage 1 holds of the packet");
    m
}
