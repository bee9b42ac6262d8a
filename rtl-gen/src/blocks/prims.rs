//! Parameterized leaf modules every block reuses: memories, the row-stream counter and the
//! delay line.

use isa::encoding::COUNT_BITS;
use isa::ops::Opcode;

use crate::ast::*;
use crate::ctx::Ctx;

/// `mtn_ram_sp`: single-port RAM, synchronous read, read-or-write (so Yosys infers block
/// RAM). Contents start at zero; the read register holds until the next read.
pub fn ram_sp() -> Module {
    single_port(
        "mtn_ram_sp",
        &[
            "Single-port RAM: one read or one write a cycle. A read's data appears the next cycle",
            "and holds until the next read. Written as read-or-write so that Yosys infers block",
            "RAM; contents start at zero.",
        ],
        true,
    )
}

/// `mtn_ram_sp_undef`: `mtn_ram_sp` without initial contents, for a memory the host fills
/// before it is read (the instruction memory read over several cycles): Yosys maps it to
/// iCE40 SPRAM, which an initial value would rule out.
pub fn ram_sp_undef() -> Module {
    single_port(
        "mtn_ram_sp_undef",
        &[
            "Single-port RAM: one read or one write a cycle. A read's data appears the next cycle",
            "and holds until the next read. Read-or-write and without initial contents, so",
            "that Yosys infers iCE40 SPRAM (or block RAM); contents start undefined.",
        ],
        false,
    )
}

fn single_port(name: &str, doc: &[&str], zero_fill: bool) -> Module {
    let mut m = Module::new(name, doc);
    let width = m.param("Width", int(8), "bits of a word");
    let depth = m.param("Depth", int(16), "words");
    let abits = m.param("AddrBits", int(4), "address bits");
    m.input("clk_i", 1);
    m.input("en_i", 1);
    m.doc_port("a read or, with we_i, a write this cycle");
    m.input("we_i", 1);
    m.input_w("addr_i", abits);
    m.input_w("wdata_i", width.clone());
    m.output_w("rdata_o", width.clone());
    memory_body(&mut m, &width, &depth, zero_fill);
    m.clocked_block(vec![if_(
        id("en_i"),
        vec![if_else(
            id("we_i"),
            vec![set(id("mem_q").at(id("addr_i")), id("wdata_i"))],
            vec![set(id("rdata_q"), id("mem_q").at(id("addr_i")))],
        )],
    )]);
    m.assign(id("rdata_o"), id("rdata_q"));
    m
}

/// `mtn_ram_1r1w`: one read port and one write port (accumulator banks), synchronous read.
pub fn ram_1r1w() -> Module {
    let mut m = Module::new(
        "mtn_ram_1r1w",
        &[
            "RAM with one write port and one synchronous read port. The schedule never reads",
            "and writes one word in the same cycle, so read-during-write behaviour is unused.",
        ],
    );
    let width = m.param("Width", int(32), "bits of a word");
    let depth = m.param("Depth", int(16), "words");
    let abits = m.param("AddrBits", int(4), "address bits");
    m.input("clk_i", 1);
    m.input("re_i", 1);
    m.input_w("raddr_i", abits.clone());
    m.output_w("rdata_o", width.clone());
    m.input("we_i", 1);
    m.input_w("waddr_i", abits);
    m.input_w("wdata_i", width.clone());
    memory_body(&mut m, &width, &depth, true);
    m.clocked_block(vec![
        if_(
            id("we_i"),
            vec![set(id("mem_q").at(id("waddr_i")), id("wdata_i"))],
        ),
        if_(
            id("re_i"),
            vec![set(id("rdata_q"), id("mem_q").at(id("raddr_i")))],
        ),
    ]);
    m.assign(id("rdata_o"), id("rdata_q"));
    m
}

/// The memory array, its read register and, if asked, the zero fill.
fn memory_body(m: &mut Module, width: &Expr, depth: &Expr, zero_fill: bool) {
    m.items.push(Item::Blank);
    m.items.push(Item::Decl {
        kind: NetKind::Reg,
        name: "mem_q".into(),
        width: width.clone(),
        depth: Some(depth.clone()),
    });
    m.reg_w("rdata_q", width.clone());
    if !zero_fill {
        return;
    }
    m.items.push(Item::Integer("i".into()));
    m.items.push(Item::Initial(vec![
        Stmt::For(
            "i".into(),
            depth.clone(),
            vec![set(id("mem_q").at(id("i")), zero_w(width.clone()))],
        ),
        set(id("rdata_q"), zero_w(width.clone())),
    ]));
}

/// `mtn_stream`: the row counter behind every operand stream. Started with a base row, a step
/// and a count, it presents row `base + i * step`, `i < count`, in the start cycle `t` (row 0,
/// straight from the inputs) and then in each cycle its `advance` input is high (tied high:
/// cycles `t + i`). A tag (bank, space, op fields) given at the start is held for the whole
/// stream.
pub fn stream() -> Module {
    let mut m = Module::clocked(
        "mtn_stream",
        &[
            "Row stream: row base + i*step for i < count, row 0 straight from the inputs in the",
            "start cycle, each later row in the next cycle with advance_i high. The tag given at",
            "the start is held throughout.",
        ],
    );
    let rb = m.param("RowBits", int(8), "bits of a row address");
    let tb = m.param("TagBits", int(1), "bits of the tag held for the stream");
    let cb = m.param("CountBits", int(16), "bits of the row count");
    m.input("start_i", 1);
    m.input("advance_i", 1);
    m.doc_port("the next row may be presented (high: a row a cycle)");
    m.input_w("base_i", rb.clone());
    m.input_w("step_i", rb.clone());
    m.input_w("count_i", cb.clone());
    m.input_w("tag_i", tb.clone());
    m.output("valid_o", 1);
    m.output_w("row_o", rb.clone());
    m.output_w("tag_o", tb.clone());
    m.output("last_o", 1);
    m.doc_port("this is the stream's final row");

    m.reg_w("row_q", rb.clone());
    m.reg_w("step_q", rb.clone());
    m.reg_w("tag_q", tb.clone());
    m.reg_w("left_q", cb.clone());
    m.wire_w("left", cb.clone());
    m.wire_w("step", rb.clone());
    m.comment("Rows left including this one; in the start cycle the fields come from the inputs.");
    m.assign(id("left"), mux(id("start_i"), id("count_i"), id("left_q")));
    m.assign(id("step"), mux(id("start_i"), id("step_i"), id("step_q")));
    m.assign(id("row_o"), mux(id("start_i"), id("base_i"), id("row_q")));
    m.assign(id("tag_o"), mux(id("start_i"), id("tag_i"), id("tag_q")));
    let one = cat(vec![zero_w(cb.clone() - int(1)), lit(1, 1)]);
    m.assign(
        id("valid_o"),
        id("start_i") | id("advance_i").land(id("left_q").reduce_or()),
    );
    m.assign(id("last_o"), id("valid_o").land(id("left").eq(one.clone())));
    m.items.push(Item::AlwaysFf {
        reset: true,
        body: vec![if_else(
            id("rst_ni").lnot(),
            vec![
                set(id("row_q"), zero_w(rb.clone())),
                set(id("step_q"), zero_w(rb)),
                set(id("tag_q"), zero_w(tb)),
                set(id("left_q"), zero_w(cb.clone())),
            ],
            vec![if_(
                id("valid_o"),
                vec![
                    set(id("row_q"), id("row_o") + id("step")),
                    set(id("step_q"), id("step")),
                    set(id("tag_q"), id("tag_o")),
                    set(id("left_q"), id("left") - one),
                ],
            )],
        )],
    });
    m
}

/// What an `mtn_stream` instance is given: it starts with `start` at row `base`, stepping
/// `step`, for `count` rows (`count_bits` wide), and holds `tag` (`tag_bits` wide).
pub struct StreamSpec {
    pub start: Expr,
    pub base: Expr,
    pub step: Expr,
    pub count: Expr,
    pub count_bits: u32,
    pub tag: Expr,
    pub tag_bits: u32,
}

impl StreamSpec {
    /// The rows of address operand `field` of `op`, for the op's 16-bit `count`, started by
    /// its issue strobe.
    pub fn operand(ctx: &Ctx, op: Opcode, field: &str, tag: Expr, tag_bits: u32) -> Self {
        let operand = super::seq::operand(ctx, op, field);
        StreamSpec {
            start: super::seq::issued(op),
            base: operand.row,
            step: operand.step,
            count: super::seq::decoded(ctx, op, "count"),
            count_bits: COUNT_BITS,
            tag,
            tag_bits,
        }
    }
}

/// The wires an `mtn_stream` instance drives.
pub struct Stream {
    pub valid: Expr,
    pub row: Expr,
    pub tag: Expr,
    pub last: Expr,
}

/// Declares `<name>_valid`, `<name>_row`, `<name>_tag` and `<name>_last`, and the instance
/// `u_<name>_stream` (of `row_bits`-wide rows, one a cycle) that drives them.
pub fn add_stream(m: &mut Module, name: &str, row_bits: u32, spec: StreamSpec) -> Stream {
    add_paced_stream(m, name, row_bits, spec, lit(1, 1))
}

/// [`add_stream`], presenting its rows after the first only in cycles with `advance` high.
pub fn add_paced_stream(
    m: &mut Module,
    name: &str,
    row_bits: u32,
    spec: StreamSpec,
    advance: Expr,
) -> Stream {
    let out = Stream {
        valid: m.wire(&format!("{name}_valid"), 1),
        row: m.wire(&format!("{name}_row"), row_bits),
        tag: m.wire(&format!("{name}_tag"), spec.tag_bits),
        last: m.wire(&format!("{name}_last"), 1),
    };
    m.instance(
        Instance::new("mtn_stream", &format!("u_{name}_stream"))
            .param("RowBits", int(row_bits as i64))
            .param("TagBits", int(spec.tag_bits as i64))
            .param("CountBits", int(spec.count_bits as i64))
            .clocked()
            .conn("start_i", spec.start)
            .conn("advance_i", advance)
            .conn("base_i", spec.base)
            .conn("step_i", spec.step)
            .conn("count_i", spec.count)
            .conn("tag_i", spec.tag)
            .conn("valid_o", out.valid.clone())
            .conn("row_o", out.row.clone())
            .conn("tag_o", out.tag.clone())
            .conn("last_o", out.last.clone()),
    );
    out
}

/// `mtn_delay`: a `Depth`-stage register pipeline, reset to zero.
pub fn delay() -> Module {
    let mut m = Module::clocked(
        "mtn_delay",
        &["Delay line: q_o is d_i from Depth cycles earlier (zero after reset)."],
    );
    let w = m.param("Width", int(1), "bits");
    let depth = m.param("Depth", int(1), "stages, at least 1");
    m.input_w("d_i", w.clone());
    m.output_w("q_o", w.clone());
    m.wire_w("chain", (depth.clone() + int(1)).mul(w.clone()));
    m.assign(id("chain").part_w(int(0), w.clone()), id("d_i"));
    let stage = id("chain").part_w(id("g").mul(w.clone()), w.clone());
    let next = id("chain").part_w((id("g") + int(1)).mul(w.clone()), w.clone());
    m.items.push(Item::Generate {
        genvar: "g".into(),
        count: depth.clone(),
        label: "g_stage".into(),
        items: vec![
            Item::Decl {
                kind: NetKind::Reg,
                name: "stage_q".into(),
                width: w.clone(),
                depth: None,
            },
            Item::AlwaysFf {
                reset: true,
                body: vec![if_else(
                    id("rst_ni").lnot(),
                    vec![set(id("stage_q"), zero_w(w.clone()))],
                    vec![set(id("stage_q"), stage)],
                )],
            },
            Item::Assign(next, id("stage_q")),
        ],
    });
    m.assign(id("q_o"), id("chain").part_w(depth.mul(w.clone()), w));
    m
}
