//! When every op touches what: the fixed occupancy and the cycle of every memory access and
//! link use, as a function of the op's fields and its issue cycle `t`. The golden timeline, the
//! verifier and the RTL all follow this one description.
//!
//! Conventions: SRAM reads are synchronous (address in cycle `c`, data in `c + 1`, or
//! `c + 1 + G` after `G` read registers); a write in
//! cycle `c` is visible to a read in any later cycle. A read and a write of one word never
//! share a cycle (the verifier refuses it whatever their order), so the hardware never depends
//! on a memory's read-during-write behaviour. A unit is busy from its issue cycle for
//! [`occupancy`] cycles. Rows are numbered `i = 0..count`. `ctl.halt` stops a chip's
//! sequencer only: its router keeps forwarding rows for other chips. A chip writes one row
//! arriving over the network a cycle ([`Port::Arrival`]).
//!
//! | op | unit busy | reads | writes |
//! |---|---|---|---|
//! | `LDW` | `N` | SRAM row `k` at `t + k` | shadow row `k` at `t + k + 1 + G` |
//! | `MMA` | `count` | SRAM row `i` at `t + i`; with `swap`, shadow row `k` at `t + 1 + G + k` .. `t + G + k + N` (the swap wavefront, one column a cycle); with `accumulate`, acc row `i` at `t + i + 2N + P + G - A` | acc row `i` at `t + i + 2N + P + G` |
//! | `RQ` `VOP` `LUT` `RED` | `count * R` | row `i` at `t + R*i` (`VOP`: `a` and `b`, once if they are the same stream) | row `i` at `t + R*i + V + R - 1 + G` |
//! | `PERM` rotate/shift | `count` | row `i` at `t + i` | row `i` at `t + i + 2 + G` |
//! | `PERM` transpose | `count * N + N + 1 + G` | tile `c` row `k` at `t + c*N + k` | tile `c` row `j` at `t + c*N + N + 1 + G + j` |
//! | `MOV` | `count` | row `i` at `t + i` | row `i` at `t + i + 2 + G` |
//! | `XFER` | `count` | row `i` at `t + i` | remote row `i` at `t + i + 1 + G + H*L`; hop `h` link at `t + i + 1 + G + h*L` |
//! | `CTL` | 1 (`sync`: `1 + D*L`) | | |
//!
//! `P` is the registers each product passes (0, or 2 with registered products), `A` the
//! cycles an accumulate reads ahead of its write (1, one more with a registered accumulate
//! and `G` more), `G` the read registers (0, or 1 with registered reads),
//! `H` the route's hop count, `L` the link latency, `D` the system's diameter, `V` the
//! config's vector latency (4 unless a deeper pipeline is asked for), `R` its vector interval
//! (1 unless the vector unit computes fewer lanes than a row has: it then takes `R` cycles a
//! row, its last lanes leaving the pipeline `R - 1` cycles after its first). [`Datapath`] holds
//! every read-to-write latency of one chip's units; a transfer's depends on its route.

use crate::config::HwConfig;
use crate::ops::{Addr, CtlFunc, Op, PermFunc, Space, Unit};
use crate::topology::Link;

/// A pipelined datapath: a unit's path from reading a row to writing what it computed from it.
/// Its latency here is the one definition the golden timeline, the verifier, the compiler
/// and the RTL generator all follow (the generator checks each pipeline it builds against it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Datapath {
    /// `LDW`: weight row `k` read, then written into the shadow buffer.
    WeightLoad,
    /// `MMA`: input row through the skewed array and de-skew to the accumulator write.
    Mma,
    /// `RQ`, `VOP`, `LUT`, `RED`: the vector pipeline ([`ChipConfig::vector_latency`]), and
    /// the cycles a row's later lanes follow its first ([`ChipConfig::vector_interval`]).
    ///
    /// [`ChipConfig::vector_latency`]: crate::ChipConfig::vector_latency
    /// [`ChipConfig::vector_interval`]: crate::ChipConfig::vector_interval
    Vector,
    /// `PERM` rotate and shifts.
    PermuteLanes,
    /// `PERM transpose`: a tile row read to the write of the same-numbered column.
    Transpose,
    /// `MOV`.
    Move,
}

impl Datapath {
    pub const ALL: [Datapath; 6] = [
        Datapath::WeightLoad,
        Datapath::Mma,
        Datapath::Vector,
        Datapath::PermuteLanes,
        Datapath::Transpose,
        Datapath::Move,
    ];

    /// The unit the datapath belongs to.
    pub fn unit(self) -> Unit {
        match self {
            Datapath::WeightLoad => Unit::MxuLoad,
            Datapath::Mma => Unit::MxuArray,
            Datapath::Vector => Unit::Vector,
            Datapath::PermuteLanes | Datapath::Transpose => Unit::Permute,
            Datapath::Move => Unit::Memory,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Datapath::WeightLoad => "ldw",
            Datapath::Mma => "mma",
            Datapath::Vector => "vector",
            Datapath::PermuteLanes => "perm.lanes",
            Datapath::Transpose => "perm.transpose",
            Datapath::Move => "mov",
        }
    }

    /// Cycles from the read of a row to the write it leads to: the unit's own, and the read
    /// registers ([`ChipConfig::read_registers`]) the row passes before it reaches the unit.
    ///
    /// [`ChipConfig::read_registers`]: crate::ChipConfig::read_registers
    pub fn latency(self, cfg: &HwConfig) -> u64 {
        let n = cfg.chip.n as u64;
        let own = match self {
            Datapath::WeightLoad => 1,
            Datapath::Mma => 2 * n + cfg.chip.product_registers() as u64,
            Datapath::Vector => (cfg.chip.vector_latency + cfg.chip.vector_interval() - 1) as u64,
            Datapath::PermuteLanes | Datapath::Move => 2,
            Datapath::Transpose => n + 1,
        };
        own + read_registers(cfg)
    }
}

/// The registers a read's data passes after the bank's output ([`ChipConfig::read_registers`]).
///
/// [`ChipConfig::read_registers`]: crate::ChipConfig::read_registers
pub fn read_registers(cfg: &HwConfig) -> u64 {
    cfg.chip.read_registers() as u64
}

/// A memory the verifier tracks word by word.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Mem {
    Sram,
    Acc,
    /// The matrix unit's shadow weight buffer; `row` is the weight row `k`.
    Shadow,
}

/// One word of one chip.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Word {
    pub chip: u32,
    pub mem: Mem,
    pub bank: u32,
    pub row: u64,
}

impl std::fmt::Display for Word {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.mem {
            Mem::Sram => write!(f, "chip {} sram{}[{}]", self.chip, self.bank, self.row),
            Mem::Acc => write!(f, "chip {} acc{}[{}]", self.chip, self.bank, self.row),
            Mem::Shadow => write!(f, "chip {} shadow weight row {}", self.chip, self.row),
        }
    }
}

/// A port that serves one access per cycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Port {
    /// An SRAM bank's single read/write port.
    Sram { chip: u32, bank: u32 },
    /// An accumulator bank's read port.
    AccRead { chip: u32, bank: u32 },
    /// An accumulator bank's write port.
    AccWrite { chip: u32, bank: u32 },
    /// The port through which rows arriving over the network are written: one a cycle.
    Arrival { chip: u32 },
}

impl std::fmt::Display for Port {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Port::Sram { chip, bank } => write!(f, "chip {chip} sram bank {bank} port"),
            Port::AccRead { chip, bank } => write!(f, "chip {chip} acc bank {bank} read port"),
            Port::AccWrite { chip, bank } => write!(f, "chip {chip} acc bank {bank} write port"),
            Port::Arrival { chip } => write!(f, "chip {chip} arrival port"),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dir {
    Read,
    Write,
}

/// One word access at one cycle. `order` is the access's place in the op's sequential
/// semantics (rows in order, each read before its write): the hardware must agree with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Access {
    pub cycle: u64,
    pub order: u32,
    pub dir: Dir,
    pub word: Word,
    /// The write of a row arriving over the network, which takes the chip's arrival port
    /// as well as its bank's.
    pub arrival: bool,
}

impl Access {
    /// The port this access occupies (the shadow buffer has none to contend for).
    pub fn port(&self) -> Option<Port> {
        let Word { chip, bank, .. } = self.word;
        match (self.word.mem, self.dir) {
            (Mem::Sram, _) => Some(Port::Sram { chip, bank }),
            (Mem::Acc, Dir::Read) => Some(Port::AccRead { chip, bank }),
            (Mem::Acc, Dir::Write) => Some(Port::AccWrite { chip, bank }),
            (Mem::Shadow, _) => None,
        }
    }

    /// The ports this access occupies: its memory's ([`Access::port`]) and, for a row
    /// arriving over the network, the chip's arrival port.
    pub fn ports(&self) -> impl Iterator<Item = Port> {
        let arrival = self.arrival.then_some(Port::Arrival {
            chip: self.word.chip,
        });
        self.port().into_iter().chain(arrival)
    }
}

/// A row crossing a link, entering it at `cycle`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinkUse {
    pub cycle: u64,
    pub link: Link,
}

/// Everything an issued instruction does, and when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    pub unit: Unit,
    pub issue: u64,
    /// Cycles the unit stays busy from `issue`.
    pub occupancy: u64,
    pub accesses: Vec<Access>,
    pub links: Vec<LinkUse>,
}

impl Plan {
    /// The last cycle the instruction uses anything, its unit included.
    pub fn completion(&self) -> u64 {
        let accesses = self.accesses.iter().map(|a| a.cycle);
        let links = self.links.iter().map(|l| l.cycle);
        let unit_free = self.issue + self.occupancy.max(1) - 1;
        accesses.chain(links).fold(unit_free, u64::max)
    }
}

/// How long `op` keeps its unit busy.
pub fn occupancy(op: &Op, cfg: &HwConfig) -> u64 {
    let n = cfg.chip.n as u64;
    let vector_rows = |count: u32| count as u64 * cfg.chip.vector_interval() as u64;
    match op {
        Op::Ldw(_) => n,
        Op::Mma(x) => x.count as u64,
        Op::Rq(x) => vector_rows(x.count),
        Op::Vop(x) => vector_rows(x.count),
        Op::Lut(x) => vector_rows(x.count),
        Op::Red(x) => vector_rows(x.count),
        Op::Perm(x) => match x.func {
            PermFunc::Transpose => x.count as u64 * n + Datapath::Transpose.latency(cfg),
            PermFunc::Rotate | PermFunc::ShiftDown | PermFunc::ShiftUp => x.count as u64,
        },
        Op::Mov(x) => x.count as u64,
        Op::Xfer(x) => x.count as u64,
        Op::Ctl(x) => match x.func {
            CtlFunc::Nop | CtlFunc::Halt => 1,
            CtlFunc::Sync => sync_cycles(cfg),
        },
    }
}

/// Cycles from an instruction's issue to the earliest issue of the next: the sequencer reads
/// an instruction over [`ChipConfig::imem_fetch_cycles`] cycles, a line a cycle, and reads the
/// next while the one before waits.
///
/// [`ChipConfig::imem_fetch_cycles`]: crate::ChipConfig::imem_fetch_cycles
pub fn issue_interval(cfg: &HwConfig) -> u64 {
    cfg.chip.imem_fetch_cycles as u64
}

/// Cycles `op` keeps the sequencer from issuing the next instruction: the issue interval,
/// or a `CTL` op's whole occupancy when that is longer.
pub fn sequencer_occupancy(op: &Op, cfg: &HwConfig) -> u64 {
    let own = if op.unit() == Unit::Sequencer {
        occupancy(op, cfg)
    } else {
        1
    };
    own.max(issue_interval(cfg))
}

/// Cycles a `ctl.sync` holds the sequencer: one barrier token across the system's diameter.
pub fn sync_cycles(cfg: &HwConfig) -> u64 {
    1 + cfg.system.diameter() as u64 * cfg.system.link_latency as u64
}

/// A stream's rows: how many, the cycles between their reads, and from read to write.
#[derive(Clone, Copy)]
struct Rows {
    count: u32,
    interval: u64,
    latency: u64,
}

impl Rows {
    /// A row a cycle.
    fn each_cycle(count: u32, latency: u64) -> Self {
        Rows {
            count,
            interval: 1,
            latency,
        }
    }
}

/// Builds the list of accesses; `order` counts up in sequential-semantics order.
struct Builder {
    chip: u32,
    accesses: Vec<Access>,
}

impl Builder {
    fn push(&mut self, cycle: u64, order: u32, dir: Dir, addr: Addr, row: u64) {
        let mem = match addr.space {
            Space::Sram => Mem::Sram,
            Space::Acc => Mem::Acc,
            Space::Imm => return,
        };
        self.push_word(
            cycle,
            order,
            dir,
            Word {
                chip: self.chip,
                mem,
                bank: addr.bank,
                row,
            },
        );
    }
    fn push_word(&mut self, cycle: u64, order: u32, dir: Dir, word: Word) {
        self.accesses.push(Access {
            cycle,
            order,
            dir,
            word,
            arrival: false,
        });
    }
    /// A row stream: row `i` read from `src` at `t + interval * i`, written to `dst`
    /// `latency` cycles later. Two identical sources (`vop.mul` squaring a row) are one read.
    fn stream(&mut self, t: u64, rows: Rows, srcs: &[(Addr, u32)], dst: (Addr, u32)) {
        for i in 0..rows.count as u64 {
            let order = 2 * i as u32;
            let read = t + rows.interval * i;
            for (s, &(src, step)) in srcs.iter().enumerate() {
                if srcs[..s].contains(&(src, step)) {
                    continue;
                }
                self.push(read, order, Dir::Read, src, src.nth(step, i));
            }
            self.push(
                read + rows.latency,
                order + 1,
                Dir::Write,
                dst.0,
                dst.0.nth(dst.1, i),
            );
        }
    }
}

/// The plan of `op` issued at cycle `issue` on chip `chip`. Field ranges must have been
/// checked (a transfer's `chip` in particular must exist and differ from `chip`).
pub fn plan(op: &Op, chip: u32, issue: u64, cfg: &HwConfig) -> Plan {
    let n = cfg.chip.n;
    let t = issue;
    let mut b = Builder {
        chip,
        accesses: Vec::new(),
    };
    let mut links = Vec::new();
    let vector = |count: u32| Rows {
        count,
        interval: cfg.chip.vector_interval() as u64,
        latency: Datapath::Vector.latency(cfg),
    };
    match op {
        Op::Ldw(x) => {
            for k in 0..n as u64 {
                b.push(
                    t + k,
                    2 * k as u32,
                    Dir::Read,
                    x.src,
                    x.src.nth(x.src_step, k),
                );
                let shadow = Word {
                    chip,
                    mem: Mem::Shadow,
                    bank: 0,
                    row: k,
                };
                let at = t + k + Datapath::WeightLoad.latency(cfg);
                b.push_word(at, 2 * k as u32 + 1, Dir::Write, shadow);
            }
        }
        Op::Mma(x) => {
            let n64 = n as u64;
            if x.swap {
                // The swap happens before row 0 in the sequential semantics (order 0), but the
                // hardware moves it across the array with the first vector.
                let g = read_registers(cfg);
                for k in 0..n64 {
                    let shadow = Word {
                        chip,
                        mem: Mem::Shadow,
                        bank: 0,
                        row: k,
                    };
                    b.push_word(t + 1 + g + k, 0, Dir::Read, shadow);
                    b.push_word(t + g + k + n64, 0, Dir::Read, shadow);
                }
            }
            let lat = Datapath::Mma.latency(cfg);
            for i in 0..x.count as u64 {
                let order = 1 + 3 * i as u32;
                b.push(t + i, order, Dir::Read, x.src, x.src.nth(x.src_step, i));
                let dst_row = x.dst.nth(x.dst_step, i);
                if x.accumulate {
                    let ahead = cfg.chip.accumulate_read_ahead() as u64;
                    b.push(t + i + lat - ahead, order + 1, Dir::Read, x.dst, dst_row);
                }
                b.push(t + i + lat, order + 2, Dir::Write, x.dst, dst_row);
            }
        }
        Op::Rq(x) => b.stream(
            t,
            vector(x.count),
            &[(x.src, x.src_step)],
            (x.dst, x.dst_step),
        ),
        Op::Vop(x) => b.stream(
            t,
            vector(x.count),
            &[(x.a, x.a_step), (x.b, x.b_step)],
            (x.dst, x.dst_step),
        ),
        Op::Lut(x) => b.stream(
            t,
            vector(x.count),
            &[(x.src, x.src_step)],
            (x.dst, x.dst_step),
        ),
        Op::Red(x) => b.stream(
            t,
            vector(x.count),
            &[(x.src, x.src_step)],
            (x.dst, x.dst_step),
        ),
        Op::Perm(x) => match x.func {
            PermFunc::Transpose => {
                let n64 = n as u64;
                for c in 0..x.count as u64 {
                    let base = c * n64;
                    let order = 2 * c as u32 * n;
                    for k in 0..n64 {
                        let row = x.src.nth(x.src_step, base + k);
                        b.push(t + base + k, order + k as u32, Dir::Read, x.src, row);
                    }
                    for j in 0..n64 {
                        let row = x.dst.nth(x.dst_step, base + j);
                        b.push(
                            t + base + j + Datapath::Transpose.latency(cfg),
                            order + n + j as u32,
                            Dir::Write,
                            x.dst,
                            row,
                        );
                    }
                }
            }
            PermFunc::Rotate | PermFunc::ShiftDown | PermFunc::ShiftUp => b.stream(
                t,
                Rows::each_cycle(x.count, Datapath::PermuteLanes.latency(cfg)),
                &[(x.src, x.src_step)],
                (x.dst, x.dst_step),
            ),
        },
        Op::Mov(x) => b.stream(
            t,
            Rows::each_cycle(x.count, Datapath::Move.latency(cfg)),
            &[(x.src, x.src_step)],
            (x.dst, x.dst_step),
        ),
        Op::Xfer(x) => {
            let route = cfg.system.route(chip, x.chip);
            let latency = cfg.system.link_latency as u64;
            let hops = route.len() as u64;
            // The row enters the first link as its read's data arrives.
            let send = 1 + read_registers(cfg);
            for i in 0..x.count as u64 {
                let order = 2 * i as u32;
                b.push(t + i, order, Dir::Read, x.src, x.src.nth(x.src_step, i));
                for (h, link) in route.iter().enumerate() {
                    links.push(LinkUse {
                        cycle: t + i + send + h as u64 * latency,
                        link: *link,
                    });
                }
                let remote = Word {
                    chip: x.chip,
                    mem: Mem::Sram,
                    bank: x.dst.bank,
                    row: x.dst.nth(x.dst_step, i),
                };
                b.accesses.push(Access {
                    cycle: t + i + send + hops * latency,
                    order: order + 1,
                    dir: Dir::Write,
                    word: remote,
                    arrival: true,
                });
            }
        }
        Op::Ctl(_) => {}
    }
    Plan {
        unit: op.unit(),
        issue,
        occupancy: occupancy(op, cfg),
        accesses: b.accesses,
        links,
    }
}
