//! `mtn_fpga_top`: one chip as an FPGA design, for place and route. The host port's 70-odd
//! wires do not fit the pins of a small part (an iCE40 UP5K in its SG48 package has 39), so
//! here it sits behind shift registers on five pins; the trace outputs, which only simulation
//! reads, are left open so that synthesis removes the logic behind them.

use crate::ast::*;
use crate::cells::Cell;
use crate::ctx::Ctx;

/// The bits of a host request, shifted in most significant first: write enable, address,
/// write data.
fn request_bits(ctx: &Ctx) -> u32 {
    1 + ctx.host_addr_bits + 32
}

pub fn fpga_top(ctx: &Ctx, chip: &Module) -> Module {
    let width = request_bits(ctx);
    let mut m = Module::clocked(
        "mtn_fpga_top",
        &[
            "The chip on an FPGA, its host port behind shift registers. While shift_i is high,",
            "sdi_i shifts into the request (write enable, address, write data; most significant",
            "bit first) and the read data shifts out on sdo_o (most significant first); a",
            "one-cycle pulse on req_i issues the request. While shift_i is low the read register",
            "follows the host port's read data. The chip's reset takes a global network. The",
            "trace outputs are left open.",
        ],
    );
    m.input("sdi_i", 1);
    m.input("shift_i", 1);
    m.input("req_i", 1);
    m.output("sdo_o", 1);
    m.output("running_o", 1);
    m.output("halted_o", 1);

    let shift = id("shift_i");
    let (request_d, request_q) = m.flop("request", width, true);
    m.assign(
        request_d,
        mux(
            shift.clone(),
            cat(vec![request_q.clone().bits(width - 2, 0), id("sdi_i")]),
            request_q.clone(),
        ),
    );
    let (req_d, req_q) = m.flop("req", 1, true);
    m.assign(req_d, id("req_i"));
    let rdata = m.wire("host_rdata", 32);
    let (read_d, read_q) = m.flop("read", 32, true);
    m.assign(
        read_d,
        mux(
            shift,
            cat(vec![read_q.clone().bits(30, 0), zero(1)]),
            rdata.clone(),
        ),
    );
    m.assign(id("sdo_o"), read_q.bit(31));

    let rst_n = m.wire("rst_n", 1);
    m.instance(global(id("rst_ni"), rst_n.clone()));
    let inst = Instance::new("mtn_chip", "u_chip")
        .conn("clk_i", id("clk_i"))
        .conn("rst_ni", rst_n)
        .conn("host_req_i", req_q)
        .conn("host_we_i", request_q.clone().bit(width - 1))
        .conn("host_addr_i", request_q.clone().bits(width - 2, 32))
        .conn("host_wdata_i", request_q.bits(31, 0))
        .conn("host_rdata_o", rdata)
        .conn("running_o", id("running_o"))
        .conn("halted_o", id("halted_o"));
    let inst = open_traces(&mut m, chip, inst);
    m.instance(inst);
    m
}

/// `o = i` through [`Cell::Global`]: the chip's reset, which reaches nearly every flip-flop.
pub fn global(i: Expr, o: Expr) -> Instance {
    Instance::new(Cell::Global.name(), "u_reset_global")
        .conn("i", i)
        .conn("o", o)
}

/// `inst` of `chip` with its trace outputs on wires of `m` that nothing reads, so that
/// synthesis removes the logic behind them.
pub fn open_traces(m: &mut Module, chip: &Module, mut inst: Instance) -> Instance {
    // Verilator's -Wall does not report signals whose names contain "unused".
    for p in chip
        .ports
        .iter()
        .filter(|p| p.dir == Dir::Output && p.name.starts_with("trace_"))
    {
        let open = m.wire_w(&format!("unused_{}", p.name), p.width.clone());
        inst = inst.conn(&p.name, open);
    }
    inst
}
