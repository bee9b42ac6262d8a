//! The tops: `mtn_chip` joins the blocks; `mtn_system` wires chips by the topology.

use isa::ops::Unit;

use super::bus::{retire_bundle, sink, Bundle, MemPort};
use super::host::{imem_bundle, pins_bundle, HOST_READ, HOST_WRITE};
use super::router::{
    link_bundle, packet_bits, route_entry_bits, strap_bundle, NET_WRITE, XFER_READ,
};
use super::seq::{issue_bundle, op_bundle, ops_of, unit_ops};
use super::tables::host_tables_bundle;
use super::vector::tables_bundle;
use super::{mxu, permute, vector};
use crate::ast::*;
use crate::ctx::Ctx;

/// Every port of the banks, the host's last.
pub fn mem_ports(ctx: &Ctx) -> Vec<MemPort> {
    let mut ports: Vec<MemPort> = mxu::mem_ports().into();
    ports.extend(vector::mem_ports(ctx));
    if has_unit(ctx, Unit::Permute) {
        ports.extend(permute::perm_ports());
    }
    if has_unit(ctx, Unit::Memory) {
        ports.extend(permute::move_ports());
    }
    if has_unit(ctx, Unit::Router) {
        ports.extend([XFER_READ, NET_WRITE]);
    }
    ports.extend([HOST_READ, HOST_WRITE]);
    ports
}

/// The ports programs write through: the trace reports each of them.
pub fn traced_writes(ctx: &Ctx) -> Vec<MemPort> {
    mem_ports(ctx)
        .into_iter()
        .filter(|p| p.write && *p != HOST_WRITE)
        .collect()
}

/// Whether a chip of `ctx` has `unit`: the sequencer always, any other unit when it has
/// hardware for one of the unit's ops ([`Ctx::has`]).
pub fn has_unit(ctx: &Ctx, unit: Unit) -> bool {
    unit == Unit::Sequencer || ops_of(ctx, &[unit]).next().is_some()
}

/// The units a chip of `ctx` has.
pub fn units(ctx: &Ctx) -> Vec<Unit> {
    Unit::ALL
        .into_iter()
        .filter(|u| has_unit(ctx, *u))
        .collect()
}

/// The completion reports of every unit.
fn retire_bundles(ctx: &Ctx) -> Vec<Bundle> {
    units(ctx)
        .into_iter()
        .map(|unit| retire_bundle(unit, ctx))
        .collect()
}

/// What the retirement trace reports: every program write (address and data) and every
/// instruction's completion, by unit.
pub fn trace_bundles(ctx: &Ctx) -> Vec<Bundle> {
    let mut out: Vec<Bundle> = traced_writes(ctx).iter().map(|p| p.bundle(ctx)).collect();
    out.extend(retire_bundles(ctx));
    out
}

/// `mtn_chip`.
pub fn chip(ctx: &Ctx) -> Module {
    let mut m = Module::clocked(
        "mtn_chip",
        &[
            "One Metronome chip: sequencer, matrix unit, vector unit, permute and memory units,",
            "banks, tables, host port and (in a system) the router. The trace_* outputs report",
            "every issue, every program write and every completion for lock-step checking.",
        ],
    );
    pins_bundle(ctx).ports(&mut m, false);
    m.output("running_o", 1);
    m.output("halted_o", 1);
    m.output("trace_cycle_o", 64);
    m.doc_port("the cycle counter (see the host port's cycle count)");
    m.output("trace_issue_o", 1);
    m.output("trace_issue_pc_o", ctx.pc_bits);
    let traces = trace_bundles(ctx);
    for b in &traces {
        for s in &b.0 {
            m.output(&format!("trace_{}_o", s.name), s.width);
        }
    }
    let multi = ctx.multi_chip();
    if multi {
        strap_bundle(ctx).ports(&mut m, false);
        link_bundle(ctx).ports(&mut m, true);
    }

    m.comment("Wires between the blocks, named after the bundles they carry.");
    for w in [
        ("running", 1),
        ("halted", 1),
        ("cycle", 64),
        ("start", 1),
        ("issue", 1),
    ] {
        m.wire(w.0, w.1);
    }
    let ports = mem_ports(ctx);
    let internal: Vec<Bundle> = ports
        .iter()
        .map(|p| p.bundle(ctx))
        .chain(unit_ops(ctx).map(|op| op_bundle(ctx, op)))
        .chain([
            issue_bundle(ctx),
            tables_bundle(ctx),
            host_tables_bundle(ctx),
            imem_bundle(ctx),
        ])
        .chain(retire_bundles(ctx))
        .collect();
    for b in &internal {
        b.wires(&mut m);
    }

    // A block takes the decoded fields of the ops its units run, and reports their
    // completions.
    let ops = |inst: Instance, units: &[Unit]| {
        let inst = ops_of(ctx, units).fold(inst, |i, op| op_bundle(ctx, op).connect(i, false));
        units
            .iter()
            .fold(inst, |i, unit| retire_bundle(*unit, ctx).connect(i, true))
    };
    let with_ports = |inst: Instance, which: &[MemPort]| {
        which
            .iter()
            .fold(inst, |i, p| p.bundle(ctx).connect(i, true))
    };
    let issue = issue_bundle(ctx);

    let mut seq = Instance::new("mtn_seq", "u_seq")
        .clocked()
        .conn("start_i", id("start"));
    seq = imem_bundle(ctx).connect(seq, false);
    seq = seq
        .conn("running_o", id("running"))
        .conn("halted_o", id("halted"))
        .conn("cycle_o", id("cycle"))
        .conn("issue_o", id("issue"));
    seq = issue.connect(seq, true);
    seq = retire_bundle(Unit::Sequencer, ctx).connect(seq, true);
    for op in unit_ops(ctx) {
        seq = op_bundle(ctx, op).connect(seq, true);
    }
    m.instance(seq);

    let mut mxu_inst = issue.connect(Instance::new("mtn_mxu", "u_mxu").clocked(), false);
    mxu_inst = ops(mxu_inst, &[Unit::MxuLoad, Unit::MxuArray]);
    m.instance(with_ports(mxu_inst, &mxu::mem_ports()));

    let mut vec_inst = issue.connect(Instance::new("mtn_vector", "u_vector").clocked(), false);
    vec_inst = ops(vec_inst, &[Unit::Vector]);
    vec_inst = with_ports(vec_inst, &vector::mem_ports(ctx));
    m.instance(tables_bundle(ctx).connect(vec_inst, false));

    if has_unit(ctx, Unit::Permute) {
        let mut perm = issue.connect(Instance::new("mtn_permute", "u_permute").clocked(), false);
        perm = ops(perm, &[Unit::Permute]);
        m.instance(with_ports(perm, &permute::perm_ports()));
    }

    if has_unit(ctx, Unit::Memory) {
        let mut mov = issue.connect(Instance::new("mtn_move", "u_move").clocked(), false);
        mov = ops(mov, &[Unit::Memory]);
        m.instance(with_ports(mov, &permute::move_ports()));
    }

    if multi {
        let mut r = issue.connect(Instance::new("mtn_router", "u_router").clocked(), false);
        r = strap_bundle(ctx).pass_through(r, false);
        r = ops(r, &[Unit::Router]);
        r = with_ports(r, &[XFER_READ, NET_WRITE]);
        m.instance(link_bundle(ctx).pass_through(r, true));
    }

    let mem = ports.iter().fold(
        Instance::new("mtn_memory", "u_memory").conn("clk_i", id("clk_i")),
        |i, p| p.bundle(ctx).connect(i, false),
    );
    m.instance(mem);

    let mut tables = Instance::new("mtn_tables", "u_tables").conn("clk_i", id("clk_i"));
    tables = tables_bundle(ctx).connect(tables, true);
    m.instance(host_tables_bundle(ctx).connect(tables, false));

    let mut host =
        pins_bundle(ctx).pass_through(Instance::new("mtn_host", "u_host").clocked(), false);
    host = host
        .conn("running_i", id("running"))
        .conn("halted_i", id("halted"))
        .conn("cycle_i", id("cycle"))
        .conn("start_o", id("start"));
    host = with_ports(host, &[HOST_READ, HOST_WRITE]);
    host = host_tables_bundle(ctx).connect(host, true);
    m.instance(imem_bundle(ctx).connect(host, true));

    m.comment("Status and the retirement trace.");
    m.assign(id("running_o"), id("running"));
    m.assign(id("halted_o"), id("halted"));
    m.assign(id("trace_cycle_o"), id("cycle"));
    m.assign(id("trace_issue_o"), id("issue"));
    m.assign(id("trace_issue_pc_o"), id("issue_pc"));
    for b in &traces {
        for s in &b.0 {
            m.assign(id(format!("trace_{}_o", s.name)), id(&s.name));
        }
    }
    m
}

/// The link ports of every chip: `neighbours[c][p]` is the chip at the far end of chip `c`'s
/// port `p` (ports follow the sorted link list).
pub fn neighbours(ctx: &Ctx) -> Vec<Vec<u32>> {
    let links = ctx.cfg.system.links();
    (0..ctx.cfg.system.chips)
        .map(|c| links.iter().filter(|l| l.from == c).map(|l| l.to).collect())
        .collect()
}

/// The route table strapped onto chip `c`: entry `d` is the port toward chip `d`, or the
/// port count for `c` itself.
pub fn route_table(ctx: &Ctx, c: u32) -> Vec<u32> {
    let near = neighbours(ctx);
    (0..ctx.cfg.system.chips)
        .map(|d| {
            if d == c {
                ctx.link_ports
            } else {
                let hop = ctx.cfg.system.route(c, d)[0].to;
                near[c as usize]
                    .iter()
                    .position(|x| *x == hop)
                    .expect("a route's first hop is a neighbour") as u32
            }
        })
        .collect()
}

/// `mtn_system`: the chips, their links, one host port with a chip select (a start goes to
/// every chip at once) and each chip's trace.
pub fn system(ctx: &Ctx, chip: &Module) -> Module {
    let chips = ctx.cfg.system.chips;
    let cb = ctx.chip_bits;
    let pkb = packet_bits(ctx);
    let reb = route_entry_bits(ctx);
    let mut m = Module::clocked(
        "mtn_system",
        &[
            "A system of chips on one clock and reset, linked by the topology. The host port",
            "reaches the chip host_chip_i selects; a write of the control register (start) goes",
            "to every chip, so all start in the same cycle. cN_* are chip N's trace.",
        ],
    );
    m.input("host_chip_i", cb);
    pins_bundle(ctx).ports(&mut m, false);
    m.output("running_o", 1);
    m.doc_port("any chip running");
    m.output("halted_o", 1);
    m.doc_port("every chip halted");
    let chip_outputs: Vec<(String, Expr)> = chip
        .ports
        .iter()
        .filter(|p| p.dir == Dir::Output && p.name.starts_with("trace_"))
        .map(|p| (p.name.clone(), p.width.clone()))
        .collect();
    for c in 0..chips {
        for (name, width) in &chip_outputs {
            m.output_w(&format!("c{c}_{name}"), width.clone());
        }
    }

    let near = neighbours(ctx);
    let is_ctrl = id("host_addr_i").eq(lit(
        ctx.host_addr_bits,
        crate::host_map::Reg::Control as u64,
    ));
    let broadcast = m.wire("broadcast", 1);
    m.assign(broadcast.clone(), id("host_we_i").land(is_ctrl));
    let (sel_d, sel_q) = m.flop("read_chip", cb, true);
    m.assign(
        sel_d,
        mux(id("host_req_i"), id("host_chip_i"), sel_q.clone()),
    );
    let rdata = m.wire("chip_rdata", 32 * chips);
    m.wire("chip_running", chips);
    m.wire("chip_halted", chips);
    for c in 0..chips {
        let link_in = m.wire(&format!("c{c}_link_in"), ctx.link_ports * pkb);
        m.wire(&format!("c{c}_link_out"), ctx.link_ports * pkb);
        let selected = id("host_chip_i")
            .eq(lit(cb, c as u64))
            .lor(broadcast.clone());
        let table = route_table(ctx, c);
        let route = cat(table.iter().rev().map(|p| lit(reb, *p as u64)).collect());
        let mut inst = Instance::new("mtn_chip", &format!("u_chip{c}"))
            .clocked()
            .conn("host_req_i", id("host_req_i").land(selected))
            .conn("host_we_i", id("host_we_i"))
            .conn("host_addr_i", id("host_addr_i"))
            .conn("host_wdata_i", id("host_wdata_i"))
            .conn("host_rdata_o", rdata.clone().part(int((32 * c) as i64), 32))
            .conn("running_o", id("chip_running").bit(c))
            .conn("halted_o", id("chip_halted").bit(c));
        for (name, _) in &chip_outputs {
            inst = inst.conn(name, id(format!("c{c}_{name}")));
        }
        inst = inst
            .conn("chip_id_i", lit(cb, c as u64))
            .conn("route_i", route)
            .conn("link_in_i", link_in.clone())
            .conn("link_out_o", id(format!("c{c}_link_out")));
        m.instance(inst);
        // Incoming port q of chip c carries what its neighbour sends toward c.
        let mut parts = Vec::new();
        for q in (0..ctx.link_ports).rev() {
            parts.push(match near[c as usize].get(q as usize) {
                Some(&d) => {
                    let back = near[d as usize]
                        .iter()
                        .position(|x| *x == c)
                        .expect("links come in pairs") as u32;
                    id(format!("c{d}_link_out")).part(int((back * pkb) as i64), pkb)
                }
                None => zero(pkb),
            });
        }
        m.assign(link_in, cat(parts));
    }
    m.assign(id("host_rdata_o"), rdata.part(sel_q.mul(int(32)), 32));
    m.assign(id("running_o"), id("chip_running").reduce_or());
    m.assign(id("halted_o"), id("chip_halted").reduce_and());
    let unused_ports: Vec<Expr> = (0..chips)
        .flat_map(|c| {
            let n = near[c as usize].len() as u32;
            (n..ctx.link_ports)
                .map(move |p| id(format!("c{c}_link_out")).part(int((p * pkb) as i64), pkb))
        })
        .collect();
    sink(&mut m, "link_out", unused_ports);
    m
}
