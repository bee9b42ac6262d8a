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
            for (index, unit_id) in units.iter().enumerate() {
                let unit = unit_id.ident();
                // A transfer completes on the chip it wrote to and names the sender.
                let ran_on = if *unit_id == Unit::Router {
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
        // Every part must fit below the part above it, or the two samplers would pack the
        // same record differently (C++ ORs the parts, Verilog concatenates them).
        assert!(units.len() < 256 && ports.len() < 256 && chips <= 1 << 16);
        for probe in &probes {
            for parts in &probe.header {
                let mut sorted: Vec<&(Value, u32)> = parts.iter().collect();
                sorted.sort_by_key(|(_, shift)| std::cmp::Reverse(*shift));
                let mut room = 32;
                for (v, shift) in sorted {
                    if let Value::Port { name, bits, .. } = v {
                        assert!(shift + bits <= room, "{name} does not fit its trace word");
                    }
                    room = *shift;
                }
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

    /// Bits of a write record's row, for port `index`.
    fn row_bits(&self, index: usize) -> Option<usize> {
        let port = self.ports.get(index)?;
        Some((port.lane_bits * self.lanes as u32) as usize)
    }

    /// Words of a write record's row, for port `index`.
    fn row_words(&self, index: usize) -> Option<usize> {
        Some(self.row_bits(index)?.div_ceil(32))
    }

    /// The events in the monitor's output ([`Probes::verilog`]): one record a line, five
    /// header words and, for a write, the row as one hexadecimal number. An error names the
    /// first malformed line.
    pub fn decode_text(&self, text: &str) -> Result<Vec<TraceEvent>, String> {
        let mut words = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let bad = || format!("line {}: {line:?}", i + 1);
            let fields: Vec<&str> = line.split_whitespace().collect();
            let header = fields.get(..HEADER_WORDS).ok_or_else(bad)?;
            for f in header {
                words.push(u32::from_str_radix(f, 16).map_err(|_| bad())?);
            }
            let first = words[words.len() - HEADER_WORDS];
            let row_bits = match first >> 24 {
                k if k == Kind::Write as u32 => self
                    .row_bits((first >> 16 & 0xff) as usize)
                    .ok_or_else(bad)?,
                _ => 0,
            };
            match (row_bits, &fields[HEADER_WORDS..]) {
                (0, []) => {}
                // `%h` prints every digit of the row.
                (bits, [hex]) if bits > 0 && hex.len() == bits.div_ceil(4) => {
                    // Lowest word last in the text, first in the record.
                    let digits = hex.as_bytes();
                    for w in 0..bits.div_ceil(32) {
                        let end = digits.len().checked_sub(8 * w).ok_or_else(bad)?;
                        let chunk = &digits[end.saturating_sub(8)..end];
                        let chunk = std::str::from_utf8(chunk).map_err(|_| bad())?;
                        words.push(u32::from_str_radix(chunk, 16).map_err(|_| bad())?);
                    }
                }
                _ => return Err(bad()),
            }
        }
        self.decode(&words)
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
                    let len = self.row_words(index).ok_or_else(|| bad("no such port"))?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use isa::HwConfig;

    /// A chip of two lanes and one of everything: rows of 16 and 64 bits, which are not
    /// whole hexadecimal words.
    fn narrow() -> Probes {
        let mut cfg = HwConfig::preset("tiny").unwrap();
        cfg.chip.n = 2;
        cfg.chip.sram_banks = 1;
        cfg.chip.acc_banks = 1;
        cfg.validate().unwrap();
        Probes::new(&rtl_gen::generate(&cfg).unwrap())
    }

    fn port(p: &Probes, name: &str) -> u32 {
        p.ports.iter().position(|x| x.name == name).unwrap() as u32
    }

    #[test]
    fn monitor_lines_decode_rows_lowest_lane_first() {
        let p = narrow();
        let perm = port(&p, "perm");
        let vec = port(&p, "vec");
        // An int8 row to SRAM (16 bits, 4 digits) and an int32 row to SRAM (64 bits, 16
        // digits, saturated on the way in), at cycle 0x1_0000_0007.
        let text = format!(
            "{:08x} 00000007 00000001 00000000 00000005 80ff\n\
             {:08x} 00000008 00000000 00000000 00000003 0000012cffffff00\n\
             00000000 00000009 00000000 00000002 00000000\n",
            2 << 24 | perm << 16,
            2 << 24 | vec << 16,
        );
        let events = p.decode_text(&text).unwrap();
        let TraceEvent::Write {
            port, cycle, lanes, ..
        } = &events[0]
        else {
            panic!("{events:?}")
        };
        assert_eq!(
            (*port, *cycle, lanes.as_slice()),
            ("perm", 1 << 32 | 7, &[-1, -128][..])
        );
        let TraceEvent::Write { word, lanes, .. } = &events[1] else {
            panic!("{events:?}")
        };
        assert_eq!((word.row, lanes.as_slice()), (3, &[-128, 127][..]));
        assert_eq!(
            events[2],
            TraceEvent::Issue {
                chip: 0,
                cycle: 9,
                pc: 2
            }
        );
    }

    #[test]
    fn malformed_traces_are_errors_naming_where() {
        let p = narrow();
        let perm = port(&p, "perm");
        let write = |row: &str| {
            format!(
                "{:08x} 00000007 00000000 00000000 00000005 {row}\n",
                2 << 24 | perm << 16
            )
        };
        for (text, why) in [
            (write("0ff"), "a row one digit short"),
            (write("00ff00"), "a row too long"),
            (write("zzzz"), "not hexadecimal"),
            ("00000000 00000001\n".to_string(), "a cut header"),
            (
                "00000000 00000001 0 0 0 ff\n".to_string(),
                "a row after an issue",
            ),
            ("07000000 0 0 0 0\n".to_string(), "an unknown kind"),
            ("01ff0000 0 0 0 0\n".to_string(), "an unknown unit"),
        ] {
            let err = p.decode_text(&text).expect_err(why);
            assert!(
                err.starts_with("line 1") || err.starts_with("record at"),
                "{why}: {err}"
            );
        }
    }

    #[test]
    fn no_buffer_makes_the_decoder_panic() {
        let p = narrow();
        let mut rng = seeded::Rng::new(11);
        for _ in 0..5000 {
            let len = rng.below(40) as usize;
            let words: Vec<u32> = (0..len)
                .map(|_| match rng.below(3) {
                    // Plausible headers, so decoding gets past the first word.
                    0 => rng.below(3) << 24 | rng.below(12) << 16,
                    _ => rng.next_u64() as u32,
                })
                .collect();
            let _ = p.decode(&words);
        }
    }
}
