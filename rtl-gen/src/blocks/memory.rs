//! The SRAM and accumulator banks and the crossbar in front of them.
//!
//! The schedule guarantees at most one access per SRAM bank and per accumulator read or write
//! port in any cycle, so each bank's port is a plain multiplexer of the requests addressed to
//! it: no arbitration. A read's data comes back to the port that asked the next cycle, or
//! through a register a cycle later with registered reads (`chip.registered_reads`). With
//! registered requests (`chip.registered_requests`) every request reaches the crossbar a
//! cycle after the port presents it: reads and writes alike, so they keep their order.
//! Beside each bank, its request (`chip.registered_bank_requests`) and its read data
//! (`chip.registered_bank_reads`) may be registered too, each a cycle more, so that the
//! crossbar, which spans the die, runs between registers.

use super::bus::{sink, MemPort, Reach};
use super::mxu::sext;
use crate::ast::*;
use crate::ctx::Ctx;

/// The requests one bank could serve.
fn reaches(port: &MemPort, acc: bool) -> bool {
    match port.reach {
        Reach::Sram => !acc,
        Reach::Acc => acc,
        Reach::Any => true,
    }
}

/// The row bits of a port that address a memory it reaches; the schedule keeps the rest zero.
fn used_row_bits(port: &MemPort, ctx: &Ctx) -> u32 {
    match port.reach {
        Reach::Sram => ctx.sram_addr_bits,
        Reach::Acc => ctx.acc_addr_bits,
        Reach::Any => ctx.sram_addr_bits.max(ctx.acc_addr_bits),
    }
}

/// A signal of a port's request, as the banks take it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Signal {
    En,
    /// Which memory, for a port that reaches both.
    Acc,
    Bank,
    Row,
    Data,
    /// 32-bit write data saturated to SRAM's int8 lanes.
    Sat,
}

impl Signal {
    const ALL: [Signal; 6] = [
        Signal::En,
        Signal::Acc,
        Signal::Bank,
        Signal::Row,
        Signal::Data,
        Signal::Sat,
    ];

    fn name(self) -> &'static str {
        match self {
            Signal::En => "en",
            Signal::Acc => "acc",
            Signal::Bank => "bank",
            Signal::Row => "row",
            Signal::Data => "data",
            Signal::Sat => "sat",
        }
    }
}

/// Where the banks take the ports' requests from: the ports' inputs, or, with registered
/// requests, registers of what the banks use of them (`<port>_req_<signal>`).
struct Requests<'c> {
    ctx: &'c Ctx,
    registered: bool,
}

impl Requests<'_> {
    /// The bits of `signal` the banks use of `port`'s requests: 0 when they use none.
    fn width(&self, port: &MemPort, signal: Signal) -> u32 {
        let n = self.ctx.n;
        let saturates = port.write && port.lane_bits == 32 && reaches(port, false);
        match signal {
            Signal::En => 1,
            Signal::Acc => u32::from(port.reach == Reach::Any),
            Signal::Bank => self.ctx.bank_bits,
            Signal::Row => used_row_bits(port, self.ctx),
            Signal::Data if port.write && (!saturates || reaches(port, true)) => port.lane_bits * n,
            Signal::Sat if saturates => 8 * n,
            Signal::Data | Signal::Sat => 0,
        }
    }

    /// `signal` of `port`'s request as the port presents it.
    fn presented(&self, port: &MemPort, signal: Signal) -> Expr {
        let p = port.prefix();
        match signal {
            Signal::Sat => id(format!("{p}_sat")),
            Signal::Row if self.width(port, signal) < self.ctx.row_bits => {
                id(format!("{p}_row_i")).bits(self.width(port, signal) - 1, 0)
            }
            _ => id(format!("{p}_{}_i", signal.name())),
        }
    }

    /// `signal` of `port`'s request as the banks take it.
    fn get(&self, port: &MemPort, signal: Signal) -> Expr {
        if self.registered {
            id(format!("{}_req_{}", port.prefix(), signal.name()))
        } else {
            self.presented(port, signal)
        }
    }

    /// With registered requests, the registers. They hold no reset: in reset no port
    /// requests, so the first clock clears the enables.
    fn register(&self, m: &mut Module, ports: &[MemPort]) {
        if !self.registered {
            return;
        }
        m.comment("Every port's request, registered before the crossbar.");
        for port in ports {
            for signal in Signal::ALL {
                let width = self.width(port, signal);
                if width > 0 {
                    let name = format!("{}_req_{}", port.prefix(), signal.name());
                    m.data_reg(&name, width, self.presented(port, signal));
                }
            }
        }
    }

    /// `en && (acc bit says this memory) && bank == b` for a port.
    fn selects(&self, port: &MemPort, acc: bool, bank: u32) -> Expr {
        let mut cond = self.get(port, Signal::En);
        if port.reach == Reach::Any {
            let bit = self.get(port, Signal::Acc);
            cond = cond.land(if acc { bit } else { bit.lnot() });
        }
        cond.land(
            self.get(port, Signal::Bank)
                .eq(lit(self.ctx.bank_bits, bank as u64)),
        )
    }

    /// The low `bits` of a port's row.
    fn row(&self, port: &MemPort, bits: u32) -> Expr {
        let (row, width) = if self.registered {
            (self.get(port, Signal::Row), self.width(port, Signal::Row))
        } else {
            (id(format!("{}_row_i", port.prefix())), self.ctx.row_bits)
        };
        if bits == width {
            row
        } else {
            row.bits(bits - 1, 0)
        }
    }
}

/// The request a bank's block RAM takes: the signals `taken` names (`<bank>_<signal>`, the
/// crossbar's choice), or with `registered`, registers of them beside the bank. Like the requests' registers, they hold no
/// reset: in reset no port requests, so the clocks through it clear the enables.
fn bank_requests<const K: usize>(
    m: &mut Module,
    registered: bool,
    bank: &str,
    taken: [(&str, u32); K],
) -> [Expr; K] {
    taken.map(|(signal, width)| {
        let name = format!("{bank}_{signal}");
        if registered {
            m.data_reg(&format!("{name}_q"), width, id(name))
        } else {
            id(name)
        }
    })
}

/// The banks' read data (the wire `name`) as the crossbar takes it: as the block RAMs give it, or with
/// `registered`, through a register beside the banks (data only: no reset).
fn bank_reads(m: &mut Module, registered: bool, name: &str, width: u32) -> Expr {
    if registered {
        m.data_reg(&format!("{name}_q"), width, id(name))
    } else {
        id(name)
    }
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
    let requests = Requests {
        ctx,
        registered: c.registered_requests,
    };

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

    requests.register(&mut m, ports);

    m.comment("SRAM banks: one port each.");
    let sram_rdata = m.wire("sram_rdata", 8 * n * c.sram_banks);
    for b in 0..c.sram_banks {
        let en = m.reg(&format!("sram{b}_en"), 1);
        let we = m.reg(&format!("sram{b}_we"), 1);
        let addr = m.reg(&format!("sram{b}_addr"), sab);
        let wdata = m.reg(&format!("sram{b}_wdata"), 8 * n);
        let mut body = vec![
            set(en.clone(), lit(1, 0)),
            set(we.clone(), lit(1, 0)),
            set(addr.clone(), zero(sab)),
            set(wdata.clone(), zero(8 * n)),
        ];
        for port in ports.iter().filter(|p| reaches(p, false)) {
            let mut then = vec![
                set(en.clone(), lit(1, 1)),
                set(addr.clone(), requests.row(port, sab)),
            ];
            if port.write {
                then.push(set(we.clone(), lit(1, 1)));
                let data = if port.lane_bits == 32 {
                    Signal::Sat
                } else {
                    Signal::Data
                };
                then.push(set(wdata.clone(), requests.get(port, data)));
            }
            body.push(if_(requests.selects(port, false, b), then));
        }
        m.comb(body);
        let taken = [("en", 1), ("we", 1), ("addr", sab), ("wdata", 8 * n)];
        let bank = format!("sram{b}");
        let [en, we, addr, wdata] = bank_requests(&mut m, c.registered_bank_requests, &bank, taken);
        m.instance(
            Instance::new("mtn_ram_sp", &format!("u_sram{b}"))
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
    let sram_rdata = bank_reads(
        &mut m,
        c.registered_bank_reads,
        "sram_rdata",
        8 * n * c.sram_banks,
    );

    m.comment("Accumulator banks: a read port and a write port each.");
    let acc_rdata = m.wire("acc_rdata", 32 * n * c.acc_banks);
    for b in 0..c.acc_banks {
        let re = m.reg(&format!("acc{b}_re"), 1);
        let raddr = m.reg(&format!("acc{b}_raddr"), aab);
        let we = m.reg(&format!("acc{b}_we"), 1);
        let waddr = m.reg(&format!("acc{b}_waddr"), aab);
        let wdata = m.reg(&format!("acc{b}_wdata"), 32 * n);
        let mut body = vec![
            set(re.clone(), lit(1, 0)),
            set(raddr.clone(), zero(aab)),
            set(we.clone(), lit(1, 0)),
            set(waddr.clone(), zero(aab)),
            set(wdata.clone(), zero(32 * n)),
        ];
        for port in ports.iter().filter(|p| reaches(p, true)) {
            let then = if port.write {
                vec![
                    set(we.clone(), lit(1, 1)),
                    set(waddr.clone(), requests.row(port, aab)),
                    set(wdata.clone(), requests.get(port, Signal::Data)),
                ]
            } else {
                vec![
                    set(re.clone(), lit(1, 1)),
                    set(raddr.clone(), requests.row(port, aab)),
                ]
            };
            body.push(if_(requests.selects(port, true, b), then));
        }
        m.comb(body);
        let taken = [
            ("re", 1),
            ("raddr", aab),
            ("we", 1),
            ("waddr", aab),
            ("wdata", 32 * n),
        ];
        let bank = format!("acc{b}");
        let [re, raddr, we, waddr, wdata] =
            bank_requests(&mut m, c.registered_bank_requests, &bank, taken);
        m.instance(
            Instance::new("mtn_ram_1r1w", &format!("u_acc{b}"))
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
    let acc_rdata = bank_reads(
        &mut m,
        c.registered_bank_reads,
        "acc_rdata",
        32 * n * c.acc_banks,
    );

    // Cycles from a request at the crossbar to its data at the crossbar.
    let bank_cycles =
        1 + u32::from(c.registered_bank_requests) + u32::from(c.registered_bank_reads);
    let when = match bank_cycles {
        1 => "last cycle".to_string(),
        k => format!("{k} cycles ago"),
    };
    let through = if c.registered_reads {
        ", through a register"
    } else {
        ""
    };
    m.comment(&format!(
        "Read data returns to the port that asked, by the bank it asked {when}{through}."
    ));
    let bb = ctx.bank_bits;
    for port in ports.iter().filter(|p| !p.write) {
        let p = port.prefix();
        let mut remembered = |signal: Signal, width: u32| {
            let mut value = requests.get(port, signal);
            for k in 0..bank_cycles {
                let suffix = if k == 0 { String::new() } else { k.to_string() };
                value = m.data_reg(&format!("{p}_{}_q{suffix}", signal.name()), width, value);
            }
            value
        };
        let bank = remembered(Signal::Bank, bb);
        let acc = (port.reach == Reach::Any).then(|| remembered(Signal::Acc, 1));
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
        // The read registers hold data only: no reset, as the bank's own output has none.
        let mut data = data;
        for k in 0..u32::from(c.registered_reads) {
            data = m.data_reg(&format!("{p}_data_q{k}"), width, data);
        }
        m.assign(id(format!("{p}_data_o")), data);
    }

    m.comment("Row bits above a memory's depth: the schedule keeps them zero.");
    let mut unused = Vec::new();
    for port in ports {
        let p = port.prefix();
        let used = used_row_bits(port, ctx);
        if used < ctx.row_bits {
            unused.push(id(format!("{p}_row_i")).bits(ctx.row_bits - 1, used));
        }
    }
    sink(&mut m, "rows", unused);
    m
}
