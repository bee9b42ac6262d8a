//! The retirement trace, described once: which trace ports of a design each record samples
//! and how it packs them into 32-bit words. The same description renders the sampler for
//! both simulators (C++ for the Verilator harness, a Verilog monitor for Icarus) and decodes
//! what either wrote, so the two can never disagree on the format. (The build script
//! includes this file, so it depends on `isa` and `rtl-gen` only.)
//!
//! A record is five header words, then for a write the written row, lowest word first:
//!
//! | word | holds |
//! |---|---|
//! | 0 | `kind << 24 \| index << 16 \| chip` (kind 0 issue, 1 completion of unit `index`, 2 write through port `index`) |
//! | 1, 2 | the cycle, low and high word |
//! | 3 | `ran_on << 16 \| pc` (the chip the instruction ran on, and its index) |
//! | 4 | `acc << 31 \| bank << 16 \| row` (writes) |

use isa::ops::Unit;
use isa::timing::{Mem, Word};
use rtl_gen::ast::{Dir, Expr};
use rtl_gen::{Design, MemPort, Reach};

/// One event of the trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TraceEvent {
    /// Instruction `pc` of `chip` issued.
    Issue { chip: u32, cycle: u64, pc: u32 },
    /// Instruction `pc` of `chip` completed. A transfer's completion is sampled on the chip it
    /// wrote to, but names the chip that ran it.
    Retire {
        unit: Unit,
        chip: u32,
        cycle: u64,
        pc: u32,
    },
    /// A row written by a program, through the write port named `port`.
    Write {
        port: &'static str,
        word: Word,
        cycle: u64,
        lanes: Vec<i32>,
    },
}

/// Words in a record's header.
pub const HEADER_WORDS: usize = 5;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Issue = 0,
    Retire = 1,
    Write = 2,
}

/// Part of a header word: `bits` bits of a top-level port from bit `lo` (`None`: the whole
/// port), or a constant.
#[derive(Clone, Debug)]
enum Value {
    Port {
        name: String,
        lo: Option<u32>,
        bits: u32,
    },
    Const(u32),
}

/// One record, written in every cycle its strobe port is set.
#[derive(Clone, Debug)]
struct Probe {
    strobe: String,
    /// Each header word as parts at their shifts.
    header: [Vec<(Value, u32)>; HEADER_WORDS],
    /// The written row: a port and its width.
    data: Option<(String, u32)>,
}

/// The trace of one design: its records, and what their indices name.
#[derive(Clone, Debug)]
pub struct Probes {
    probes: Vec<Probe>,
    units: Vec<Unit>,
    ports: Vec<MemPort>,
    lanes: usize,
}

impl Probes {
    pub fn new(design: &Design) -> Self {
        let top = design
            .modules
            .iter()
            .find(|m| m.name == design.top)
            .expect("the design has its top module");
        let width = |port: &str| -> u32 {
            match top
                .ports
                .iter()
                .find(|p| p.name == port && p.dir == Dir::Output)
            {
                Some(p) => match p.width {
                    Expr::Int(w) => w as u32,
                    ref w => panic!("{port}: width {w:?} is not a number"),
                },
                None => panic!("the top has no output {port}"),
            }
        };
        let units = design.units();
        let ports = design.traced_writes();
        let chips = design.config.system.chips;
        let mut probes = Vec::new();
        for chip in 0..chips {
            let name = |signal: &str| {
                if chips > 1 {
                    format!("c{chip}_trace_{signal}_o")
                } else {
                    format!("trace_{signal}_o")
                }
            };
            let port = |signal: &str| {
                let name = name(signal);
                let bits = width(&name);
                Value::Port {
                    name,
                    lo: None,
                    bits,
                }
            };
            let cycle = name("cycle");
            let head = |kind: Kind, index: usize, ran_on: Value, pc: Value, where_: [Value; 3]| {
                let [acc, bank, row] = where_;
                [
                    vec![(
                        Value::Const((kind as u32) << 24 | (index as u32) << 16 | chip),
                        0,
                    )],
                    vec![(
                        Value::Port {
                            name: cycle.clone(),
                            lo: Some(0),
                            bits: 32,
                        },
                        0,
                    )],
                    vec![(
                        Value::Port {
                            name: cycle.clone(),
                            lo: Some(32),
                            bits: 32,
                        },
                        0,
                    )],
                    vec![(ran_on, 16), (pc, 0)],
                    vec![(acc, 31), (bank, 16), (row, 0)],
                ]
            };
            let none = || [Value::Const(0), Value::Const(0), Value::Const(0)];
            probes.push(Probe {
                strobe: name("issue"),
                header: head(Kind::Issue, 0, Value::Const(chip), port("issue_pc"), none()),
                data: None,
            });
            for (index, unit) in units.iter().enumerate() {
                let unit = unit.ident();
                // A transfer completes on the chip it wrote to and names the sender.
                let ran_on = if *unit == *Unit::Router.ident() {
                    port(&format!("{unit}_retire_chip"))
                } else {
                    Value::Const(chip)
                };
                probes.push(Probe {
                    strobe: name(&format!("{unit}_retire")),
                    header: head(
                        Kind::Retire,
                        index,
                        ran_on,
                        port(&format!("{unit}_retire_pc")),
                        none(),
                    ),
                    data: None,
                });
            }
            for (index, p) in ports.iter().enumerate() {
                let n = p.name;
                let acc = match p.reach {
                    Reach::Any => port(&format!("{n}_wr_acc")),
                    Reach::Acc => Value::Const(1),
                    Reach::Sram => Value::Const(0),
                };
                let data = name(&format!("{n}_wr_data"));
                let bits = width(&data);
                probes.push(Probe {
                    strobe: name(&format!("{n}_wr_en")),
                    header: head(
                        Kind::Write,
                        index,
                        Value::Const(chip),
                        Value::Const(0),
                        [
                            acc,
                            port(&format!("{n}_wr_bank")),
                            port(&format!("{n}_wr_row")),
                        ],
                    ),
                    data: Some((data, bits)),
                });
            }
        }
        Probes {
            probes,
            units,
            ports,
            lanes: design.config.lanes(),
        }
    }

    /// The most words one cycle can add: every record at once.
    pub fn most_words_per_cycle(&self) -> usize {
        self.probes
            .iter()
            .map(|p| HEADER_WORDS + p.data.as_ref().map_or(0, |(_, b)| b.div_ceil(32) as usize))
            .sum()
    }

    /// C++ statements that append this cycle's records at `uint32_t* p`, reading the model's
    /// ports through `m_->`.
    pub fn cpp(&self) -> String {
        let value = |v: &Value| match v {
            Value::Const(c) => format!("{c}u"),
            Value::Port { name, lo, bits } => {
                let shifted = match lo {
                    None | Some(0) => format!("m_->{name}"),
                    Some(lo) => format!("(m_->{name} >> {lo})"),
                };
                if *bits >= 32 {
                    format!("static_cast<uint32_t>({shifted})")
                } else {
                    format!(
                        "(static_cast<uint32_t>({shifted}) & 0x{:x}u)",
                        (1u64 << bits) - 1
                    )
                }
            }
        };
        let mut out = String::new();
        for probe in &self.probes {
            out += &format!("    if (m_->{}) {{\n", probe.strobe);
            for (w, parts) in probe.header.iter().enumerate() {
                let word: Vec<String> = parts
                    .iter()
                    .map(|(v, shift)| match shift {
                        0 => value(v),
                        s => format!("{} << {s}", value(v)),
                    })
                    .collect();
                out += &format!("      p[{w}] = {};\n", word.join(" | "));
            }
            out += &format!("      p += {HEADER_WORDS};\n");
            if let Some((port, bits)) = &probe.data {
                let port = format!("m_->{port}");
                out += &match bits {
                    0..=32 => format!("      *p++ = {port};\n"),
                    33..=64 => format!(
                        "      *p++ = static_cast<uint32_t>({port});\n      \
                         *p++ = static_cast<uint32_t>({port} >> 32);\n"
                    ),
                    _ => format!(
                        "      std::memcpy(p, {port}.data(), {});\n      p += {};\n",
                        4 * bits.div_ceil(32),
                        bits.div_ceil(32)
                    ),
                };
            }
            out += "    }\n";
        }
        out
    }

    /// The Verilog monitor (for a bench whose design instance is `dut` and whose open file
    /// is `trace`): every record a line of hexadecimal words, the row last as one number.
    pub fn verilog(&self) -> String {
        let value = |v: &Value| match v {
            Value::Const(c) => format!("32'd{c}"),
            Value::Port { name, lo, bits } => match lo {
                None => format!("dut.{name}"),
                Some(lo) => format!("dut.{name}[{lo} +: {bits}]"),
            },
        };
        let mut out = String::from("always @(negedge clk) begin\n");
        for probe in &self.probes {
            // Each word as a 32-bit concatenation, zero-filled between its parts.
            let words: Vec<String> = probe
                .header
                .iter()
                .map(|parts| {
                    let mut sorted: Vec<&(Value, u32)> = parts.iter().collect();
                    sorted.sort_by_key(|(_, shift)| std::cmp::Reverse(*shift));
                    let mut at = 32;
                    let mut pieces = Vec::new();
                    for (v, shift) in sorted {
                        let bits = match v {
                            // A constant fills the room up to the part above it.
                            Value::Const(_) => at - shift,
                            Value::Port { bits, .. } => *bits,
                        };
                        if at > shift + bits {
                            pieces.push(format!("{}'d0", at - shift - bits));
                        }
                        pieces.push(match v {
                            Value::Const(c) => format!("{bits}'d{c}"),
                            port => value(port),
                        });
                        at = *shift;
                    }
                    if at > 0 {
                        pieces.push(format!("{at}'d0"));
                    }
                    format!("{{{}}}", pieces.join(", "))
                })
                .collect();
            let mut format = vec!["%h"; HEADER_WORDS];
            let mut args = words;
            if let Some((port, _)) = &probe.data {
                format.push("%h");
                args.push(format!("dut.{port}"));
            }
            out += &format!(
                "  if (dut.{}) $fdisplay(trace, \"{}\", {});\n",
                probe.strobe,
                format.join(" "),
                args.join(", ")
            );
        }
        out += "end\n";
        out
    }

    /// The words of the monitor's output ([`Probes::verilog`]); the error is the first
    /// malformed line's number.
    pub fn words_of_text(text: &str) -> Result<Vec<u32>, usize> {
        let mut words = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.len() < HEADER_WORDS {
                return Err(i + 1);
            }
            for f in &fields[..HEADER_WORDS] {
                words.push(u32::from_str_radix(f, 16).map_err(|_| i + 1)?);
            }
            if let Some(row) = fields.get(HEADER_WORDS) {
                // The row is one hexadecimal number: its words, lowest first.
                let digits = row.as_bytes();
                for end in (0..digits.len()).rev().step_by(8) {
                    let start = end.saturating_sub(7);
                    let chunk = std::str::from_utf8(&digits[start..=end]).map_err(|_| i + 1)?;
                    words.push(u32::from_str_radix(chunk, 16).map_err(|_| i + 1)?);
                }
            }
        }
        Ok(words)
    }

    /// The events in a trace buffer; an error says what is malformed.
    pub fn decode(&self, words: &[u32]) -> Result<Vec<TraceEvent>, String> {
        let mut events = Vec::new();
        let mut at = 0;
        while at < words.len() {
            let r = words
                .get(at..at + HEADER_WORDS)
                .ok_or_else(|| format!("a record is cut short at word {at}"))?;
            let (kind, index, chip) = (r[0] >> 24, (r[0] >> 16 & 0xff) as usize, r[0] & 0xffff);
            let cycle = r[1] as u64 | (r[2] as u64) << 32;
            let (pc, ran_on) = (r[3] & 0xffff, r[3] >> 16);
            let (acc, bank, row) = (r[4] >> 31 == 1, r[4] >> 16 & 0x7fff, r[4] & 0xffff);
            at += HEADER_WORDS;
            let bad = |what: &str| format!("record at word {}: {what}", at - HEADER_WORDS);
            events.push(match kind {
                k if k == Kind::Issue as u32 => TraceEvent::Issue { chip, cycle, pc },
                k if k == Kind::Retire as u32 => TraceEvent::Retire {
                    unit: *self.units.get(index).ok_or_else(|| bad("no such unit"))?,
                    chip: ran_on,
                    cycle,
                    pc,
                },
                k if k == Kind::Write as u32 => {
                    let port = self.ports.get(index).ok_or_else(|| bad("no such port"))?;
                    let len = (port.lane_bits * self.lanes as u32).div_ceil(32) as usize;
                    let data = words
                        .get(at..at + len)
                        .ok_or_else(|| bad("the row is cut short"))?;
                    at += len;
                    let lanes = (0..self.lanes)
                        .map(|l| {
                            let raw = match port.lane_bits {
                                8 => (data[l / 4] >> (8 * (l % 4))) as u8 as i8 as i32,
                                _ => data[l] as i32,
                            };
                            // What the memory stores: a 32-bit lane written to SRAM
                            // saturates to int8.
                            if acc {
                                raw
                            } else {
                                raw.clamp(-128, 127)
                            }
                        })
                        .collect();
                    TraceEvent::Write {
                        port: port.name,
                        word: Word {
                            chip,
                            mem: if acc { Mem::Acc } else { Mem::Sram },
                            bank,
                            row: row as u64,
                        },
                        cycle,
                        lanes,
                    }
                }
                other => return Err(bad(&format!("unknown kind {other}"))),
            });
        }
        Ok(events)
    }
}
