//! The SRAM and accumulator banks and the crossbar in front of them.
//!
//! The schedule guarantees at most one access per SRAM bank and per accumulator read or write
//! port in any cycle, so each bank's port is a plain multiplexer of the requests addressed to
//! it: no arbitration. A read's data comes back the next cycle to the port that asked.

use super::bus::{sink, MemPort, Reach};
use super::mxu::sext;
use crate::ast::*;
use crate::ctx::Ctx;
use isa::encoding::bits_for;

/// The requests one bank could serve.
fn reaches(port: &MemPort, acc: bool) -> bool {
    match port.reach {
        Reach::Sram => !acc,
        Reach::Acc => acc,
        Reach::Any => true,
    }
}

/// `en && (acc bit says this memory) && bank == b` for a port.
fn selects(port: &MemPort, acc: bool, bank: u32, ctx: &Ctx) -> Expr {
    let p = port.prefix();
    let mut cond = id(format!("{p}_en_i"));
    if port.reach == Reach::Any {
        let bit = id(format!("{p}_acc_i"));
        cond = cond.land(if acc { bit } else { bit.lnot() });
    }
    cond.land(id(format!("{p}_bank_i")).eq(lit(ctx.bank_bits, bank as u64)))
}

/// The low `bits` of a port's row.
fn row_of(port: &MemPort, bits: u32, ctx: &Ctx) -> Expr {
    let row = id(format!("{}_row_i", port.prefix()));
    if bits == ctx.row_bits {
        row
    } else {
        row.bits(bits - 1, 0)
    }
}

/// One wire per port, `{bank}_from_{port}`: the port addresses this bank this cycle.
fn selects_into(
    m: &mut Module,
    bank: &str,
    ports: &[&MemPort],
    acc: bool,
    index: u32,
    ctx: &Ctx,
) -> Vec<Expr> {
    ports
        .iter()
        .map(|p| {
            let name = format!("{bank}_from_{}", p.prefix());
            m.wire_of(&name, 1, selects(p, acc, index, ctx))
        })
        .collect()
}

/// The first of each pair.
fn firsts(pairs: &[(Expr, Expr)]) -> Vec<Expr> {
    pairs.iter().map(|(a, _)| a.clone()).collect()
}

/// Whether any of `conds` holds (`1'b0` for none).
fn any(conds: &[Expr]) -> Expr {
    match conds {
        [] => lit(1, 0),
        [one] => one.clone(),
        _ => cat(conds.to_vec()).reduce_or(),
    }
}

/// The value whose select holds, as an AND-OR: the schedule lets at most one hold, and
/// this is flat where a chain of `if`s would be a priority chain as deep as the ports.
fn one_hot(width: u32, choices: &[(Expr, Expr)]) -> Expr {
    let terms: Vec<Expr> = choices
        .iter()
        .map(|(sel, value)| repeat(width, sel.clone()) & value.clone())
        .collect();
    or_tree(&terms).unwrap_or_else(|| zero(width))
}

/// `terms` ORed as a balanced tree (shallow parentheses in the Verilog).
fn or_tree(terms: &[Expr]) -> Option<Expr> {
    match terms {
        [] => None,
        [one] => Some(one.clone()),
        _ => {
            let (a, b) = terms.split_at(terms.len() / 2);
            Some(or_tree(a)? | or_tree(b)?)
        }
    }
}

/// The value whose select holds, through a binary index of the selects (`{name}_src`): a
/// 2^k-to-1 multiplexer per bit. Selects decoded next to each bit would make LUT mapping
/// copy the sources' logic (the saturation of 32-bit writes) into every bank.
fn by_index(m: &mut Module, name: &str, width: u32, choices: &[(Expr, Expr)]) -> Expr {
    let out = m.wire(name, width);
    match choices {
        [] => m.assign(out.clone(), zero(width)),
        [(_, only)] => m.assign(out.clone(), only.clone()),
        _ => {
            let k = bits_for(choices.len() as u32);
            let index_bits: Vec<Expr> = (0..k)
                .rev()
                .map(|bit| {
                    let sels: Vec<Expr> = choices
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| i >> bit & 1 == 1)
                        .map(|(_, (s, _))| s.clone())
                        .collect();
                    any(&sels)
                })
                .collect();
            let src = m.wire_of(&format!("{name}_src"), k, cat(index_bits));
            let values: Vec<Expr> = choices.iter().map(|(_, v)| v.clone()).collect();
            m.assign(out.clone(), index_tree(&src, k, k, &values));
        }
    }
    out
}

/// `values[index]` as a tree of 2-to-1 multiplexers on the low `bits` bits of `index`
/// (`index_width` bits wide).
fn index_tree(index: &Expr, index_width: u32, bits: u32, values: &[Expr]) -> Expr {
    if bits == 0 || values.len() == 1 {
        return values[0].clone();
    }
    let half = 1 << (bits - 1);
    if values.len() <= half {
        return index_tree(index, index_width, bits - 1, values);
    }
    // A 1-bit index has no bit select in Verilog.
    let top = if index_width == 1 {
        index.clone()
    } else {
        index.clone().bit(bits - 1)
    };
    mux(
        top,
        index_tree(index, index_width, bits - 1, &values[half..]),
        index_tree(index, index_width, bits - 1, &values[..half]),
    )
}

/// `mtn_memory`: every bank and the crossbar, for the given ports.
pub fn memory(ctx: &Ctx, ports: &[MemPort]) -> Module {
    let c = &ctx.cfg.chip;
    let n = ctx.n;
    let mut m = Module::new(
        "mtn_memory",
        &[
            "SRAM banks (single port, int8 rows) and accumulator banks (one read and one write",
            "port, int32 rows) behind a crossbar. The schedule never sends two requests to one",
            "port in a cycle, so each port takes whichever request addresses it. 32-bit lanes",
            "written to SRAM saturate to int8; SRAM rows read by 32-bit ports are sign-extended.",
        ],
    );
    m.input("clk_i", 1);
    for port in ports {
        port.bundle(ctx).ports(&mut m, false);
    }
    let (sab, aab) = (ctx.sram_addr_bits, ctx.acc_addr_bits);

    // Saturated copies of 32-bit data written to SRAM.
    for port in ports
        .iter()
        .filter(|p| p.write && p.lane_bits == 32 && reaches(p, false))
    {
        let p = port.prefix();
        let sat = m.wire(&format!("{p}_sat"), 8 * n);
        let v = || id("v");
        m.items.push(Item::Generate {
            genvar: "l".into(),
            count: int(n as i64),
            label: format!("g_{p}_sat"),
            items: vec![
                Item::Decl {
                    kind: NetKind::Wire,
                    name: "v".into(),
                    width: int(32),
                    depth: None,
                },
                Item::Assign(v(), id(format!("{p}_data_i")).lane(id("l"), 32)),
                // In range when bits 31..7 all equal the sign: no comparator, which would
                // be a carry chain on an FPGA.
                Item::Assign(
                    sat.clone().lane(id("l"), 8),
                    mux(
                        v().bits(31, 7)
                            .reduce_and()
                            .lor(v().bits(31, 7).reduce_or().lnot()),
                        v().bits(7, 0),
                        mux(v().bit(31), lit(8, 0x80), lit(8, 0x7f)),
                    ),
                ),
            ],
        });
    }

    m.comment("SRAM banks: one port each.");
    let sram_rdata = m.wire("sram_rdata", 8 * n * c.sram_banks);
    let sram_ports: Vec<&MemPort> = ports.iter().filter(|p| reaches(p, false)).collect();
    for b in 0..c.sram_banks {
        let bank = format!("sram{b}");
        let sel = selects_into(&mut m, &bank, &sram_ports, false, b, ctx);
        let writes: Vec<(Expr, Expr)> = sram_ports
            .iter()
            .zip(&sel)
            .filter(|(p, _)| p.write)
            .map(|(p, s)| {
                let data = if p.lane_bits == 32 {
                    id(format!("{}_sat", p.prefix()))
                } else {
                    id(format!("{}_data_i", p.prefix()))
                };
                (s.clone(), data)
            })
            .collect();
        let rows: Vec<(Expr, Expr)> = sram_ports
            .iter()
            .zip(&sel)
            .map(|(p, s)| (s.clone(), row_of(p, sab, ctx)))
            .collect();
        let en = m.wire_of(&format!("{bank}_en"), 1, any(&sel));
        let we = m.wire_of(&format!("{bank}_we"), 1, any(&firsts(&writes)));
        let addr = m.wire_of(&format!("{bank}_addr"), sab, one_hot(sab, &rows));
        let wdata = by_index(&mut m, &format!("{bank}_wdata"), 8 * n, &writes);
        m.instance(
            Instance::new("mtn_ram_sp", &format!("u_{bank}"))
                .param("Width", int(8 * n as i64))
                .param("Depth", int(c.sram_depth as i64))
                .param("AddrBits", int(sab as i64))
                .conn("clk_i", id("clk_i"))
                .conn("en_i", en)
                .conn("we_i", we)
                .conn("addr_i", addr)
                .conn("wdata_i", wdata)
                .conn(
                    "rdata_o",
                    sram_rdata.clone().part(int((8 * n * b) as i64), 8 * n),
                ),
        );
    }

    m.comment("Accumulator banks: a read port and a write port each.");
    let acc_rdata = m.wire("acc_rdata", 32 * n * c.acc_banks);
    let acc_ports: Vec<&MemPort> = ports.iter().filter(|p| reaches(p, true)).collect();
    for b in 0..c.acc_banks {
        let bank = format!("acc{b}");
        let sel = selects_into(&mut m, &bank, &acc_ports, true, b, ctx);
        let (mut reads, mut write_rows, mut write_data) = (Vec::new(), Vec::new(), Vec::new());
        for (p, s) in acc_ports.iter().zip(&sel) {
            let row = (s.clone(), row_of(p, aab, ctx));
            if p.write {
                write_rows.push(row);
                write_data.push((s.clone(), id(format!("{}_data_i", p.prefix()))));
            } else {
                reads.push(row);
            }
        }
        let re = m.wire_of(&format!("{bank}_re"), 1, any(&firsts(&reads)));
        let raddr = m.wire_of(&format!("{bank}_raddr"), aab, one_hot(aab, &reads));
        let we = m.wire_of(&format!("{bank}_we"), 1, any(&firsts(&write_rows)));
        let waddr = m.wire_of(&format!("{bank}_waddr"), aab, one_hot(aab, &write_rows));
        let wdata = by_index(&mut m, &format!("{bank}_wdata"), 32 * n, &write_data);
        m.instance(
            Instance::new("mtn_ram_1r1w", &format!("u_{bank}"))
                .param("Width", int(32 * n as i64))
                .param("Depth", int(c.acc_depth as i64))
                .param("AddrBits", int(aab as i64))
                .conn("clk_i", id("clk_i"))
                .conn("re_i", re)
                .conn("raddr_i", raddr)
                .conn(
                    "rdata_o",
                    acc_rdata.clone().part(int((32 * n * b) as i64), 32 * n),
                )
                .conn("we_i", we)
                .conn("waddr_i", waddr)
                .conn("wdata_i", wdata),
        );
    }

    m.comment("Read data returns to the port that asked, by the bank it asked last cycle.");
    let bb = ctx.bank_bits;
    for port in ports.iter().filter(|p| !p.write) {
        let p = port.prefix();
        let bank = m.reg(&format!("{p}_bank_q"), bb);
        let mut remember = vec![set(bank.clone(), id(format!("{p}_bank_i")))];
        let acc = (port.reach == Reach::Any).then(|| {
            let acc = m.reg(&format!("{p}_acc_q"), 1);
            remember.push(set(acc.clone(), id(format!("{p}_acc_i"))));
            acc
        });
        m.clocked_block(remember);
        let width = port.lane_bits * n;
        let acc_row = || {
            acc_rdata
                .clone()
                .part(bank.clone().mul(int(32 * n as i64)), width)
        };
        let data = if reaches(port, false) {
            let sram_row = m.wire(&format!("{p}_sram"), 8 * n);
            m.assign(
                sram_row.clone(),
                sram_rdata
                    .clone()
                    .part(bank.clone().mul(int(8 * n as i64)), 8 * n),
            );
            let widened = if port.lane_bits == 32 {
                cat((0..n)
                    .rev()
                    .map(|l| sext(sram_row.clone().part(int((8 * l) as i64), 8), 8, 32))
                    .collect())
            } else {
                sram_row
            };
            match acc {
                Some(acc) => mux(acc, acc_row(), widened),
                None => widened,
            }
        } else {
            acc_row()
        };
        m.assign(id(format!("{p}_data_o")), data);
    }

    m.comment("Row bits above a memory's depth: the schedule keeps them zero.");
    let mut unused = Vec::new();
    for port in ports {
        let p = port.prefix();
        let used = match port.reach {
            Reach::Sram => sab,
            Reach::Acc => aab,
            Reach::Any => sab.max(aab),
        };
        if used < ctx.row_bits {
            unused.push(id(format!("{p}_row_i")).bits(ctx.row_bits - 1, used));
        }
    }
    sink(&mut m, "rows", unused);
    m
}
