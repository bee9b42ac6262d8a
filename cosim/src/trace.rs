//! The retirement trace: what the RTL reports cycle by cycle, and its op-by-op comparison with
//! the golden model (issue cycle, completion cycle, every row written and when).

use std::collections::HashMap;
use std::fmt;

use golden::Run;
use isa::timing::{Dir, Mem, Word};
use rtl_gen::Reach;

/// One event of the trace, as the test bench prints it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TraceEvent {
    /// Instruction `pc` of `chip` issued.
    Issue { chip: u32, cycle: u64, pc: u32 },
    /// Instruction `pc` of `chip` completed. A transfer's completion is sampled on the chip it
    /// wrote to, but names the chip that ran it.
    Retire {
        unit: String,
        chip: u32,
        cycle: u64,
        pc: u32,
    },
    /// A row written by a program.
    Write {
        port: String,
        word: Word,
        cycle: u64,
        lanes: Vec<i32>,
    },
}

/// A difference between the RTL and the golden model, located at an instruction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    pub chip: u32,
    pub index: usize,
    pub mnemonic: String,
    /// The unit that ran the instruction.
    pub unit: String,
    pub cycle: u64,
    /// What differs: "issue", "completion", or the word written.
    pub what: String,
    pub expected: String,
    pub actual: String,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "chip {} instruction {} ({}, {}) cycle {}: {}: expected {}, got {}",
            self.chip,
            self.index,
            self.mnemonic,
            self.unit,
            self.cycle,
            self.what,
            self.expected,
            self.actual
        )
    }
}

/// Parses the trace lines the test bench prints; the error is the first malformed line's
/// number.
pub fn parse(text: &str, lanes: usize) -> Result<Vec<TraceEvent>, usize> {
    text.lines()
        .enumerate()
        .map(|(i, line)| parse_line(line, lanes).ok_or(i + 1))
        .collect()
}

fn parse_line(line: &str, lanes: usize) -> Option<TraceEvent> {
    let f: Vec<&str> = line.split_whitespace().collect();
    let num = |i: usize| f.get(i)?.parse::<u64>().ok();
    match *f.first()? {
        "i" => Some(TraceEvent::Issue {
            chip: num(1)? as u32,
            cycle: num(2)?,
            pc: num(3)? as u32,
        }),
        // `r <sampled on> <unit> <cycle> <pc> <ran on>`.
        "r" => Some(TraceEvent::Retire {
            unit: f.get(2)?.to_string(),
            chip: num(5)? as u32,
            cycle: num(3)?,
            pc: num(4)? as u32,
        }),
        "w" => {
            let (chip, cycle, acc, bank, row) = (num(1)?, num(3)?, num(4)?, num(5)?, num(6)?);
            let hex = f.get(7)?;
            let lane_bits = hex.len() * 4 / lanes;
            if lane_bits != 8 && lane_bits != 32 {
                return None;
            }
            let digits = lane_bits / 4;
            let acc = acc == 1;
            // Lanes are printed highest first.
            let lanes = (0..lanes)
                .map(|l| {
                    let at = (lanes - 1 - l) * digits;
                    let v = u64::from_str_radix(&hex[at..at + digits], 16).ok()?;
                    let v = if lane_bits == 8 {
                        v as u8 as i8 as i32
                    } else {
                        v as u32 as i32
                    };
                    Some(if acc { v } else { v.clamp(-128, 127) })
                })
                .collect::<Option<Vec<i32>>>()?;
            Some(TraceEvent::Write {
                port: f.get(2)?.to_string(),
                word: Word {
                    chip: chip as u32,
                    mem: if acc { Mem::Acc } else { Mem::Sram },
                    bank: bank as u32,
                    row,
                },
                cycle,
                lanes,
            })
        }
        _ => None,
    }
}

/// A written lane as the memory stores it: int8 or int32 by the port, and a 32-bit lane
/// written to SRAM saturated to int8.
pub(crate) fn stored_lane(raw: u64, lane_bits: u32, acc: bool) -> i32 {
    let v = if lane_bits == 8 {
        raw as u8 as i8 as i32
    } else {
        raw as u32 as i32
    };
    if acc {
        v
    } else {
        v.clamp(-128, 127)
    }
}

/// The Verilog that prints the trace of `design` (included by `testbench/tb_host.v`): one
/// `always` block sampling every trace port in the middle of each cycle.
pub fn monitor(design: &rtl_gen::Design) -> String {
    let units = design.retire_units();
    let ports = design.traced_writes();
    let mut v = String::from("always @(negedge clk) begin\n");
    let chips = design.config.system.chips;
    for c in 0..chips {
        let t = |name: &str| {
            if chips > 1 {
                format!("dut.c{c}_trace_{name}_o")
            } else {
                format!("dut.trace_{name}_o")
            }
        };
        let cycle = t("cycle");
        v += &format!(
            "  if ({}) $fdisplay(trace, \"i {c} %0d %0d\", {cycle}, {});\n",
            t("issue"),
            t("issue_pc")
        );
        for u in &units {
            // Every unit's completion names the chip that ran the instruction: the chip
            // itself, or for a transfer the sender.
            let ran_on = if *u == "xfer" {
                t("xfer_retire_chip")
            } else {
                c.to_string()
            };
            v += &format!(
                "  if ({}) $fdisplay(trace, \"r {c} {u} %0d %0d %0d\", {cycle}, {}, {ran_on});\n",
                t(&format!("{u}_retire")),
                t(&format!("{u}_retire_pc"))
            );
        }
        for port in &ports {
            let p = port.name;
            let acc = match port.reach {
                Reach::Any => t(&format!("{p}_wr_acc")),
                Reach::Acc => "1'b1".into(),
                Reach::Sram => "1'b0".into(),
            };
            v += &format!(
                "  if ({}) $fdisplay(trace, \"w {c} {p} %0d %0d %0d %0d %h\", {cycle}, {acc}, {}, {}, {});\n",
                t(&format!("{p}_wr_en")),
                t(&format!("{p}_wr_bank")),
                t(&format!("{p}_wr_row")),
                t(&format!("{p}_wr_data"))
            );
        }
    }
    v += "end\n";
    v
}

/// Every difference between the golden run and the trace: each instruction's issue and
/// completion cycle, and every row written (where, when and what), in sequential order.
pub fn compare(golden: &Run, events: &[TraceEvent]) -> Vec<Mismatch> {
    let mut issues: HashMap<(u32, u32), u64> = HashMap::new();
    let mut retires: HashMap<(u32, u32), u64> = HashMap::new();
    let mut writes: HashMap<(Word, u64), Vec<i32>> = HashMap::new();
    for e in events {
        match e {
            TraceEvent::Issue { chip, cycle, pc } => {
                issues.insert((*chip, *pc), *cycle);
            }
            TraceEvent::Retire {
                chip, cycle, pc, ..
            } => {
                retires.insert((*chip, *pc), *cycle);
            }
            TraceEvent::Write {
                word, cycle, lanes, ..
            } => {
                writes.insert((*word, *cycle), lanes.clone());
            }
        }
    }
    let show = |c: Option<&u64>| c.map_or("nothing".to_string(), |c| format!("cycle {c}"));
    let mut out = Vec::new();
    let mut expected_writes = 0;
    for r in &golden.retired {
        let timing = &golden.timeline.chips[r.chip as usize][r.index];
        let at = |what: String, expected: String, actual: String, cycle: u64| Mismatch {
            chip: r.chip,
            index: r.index,
            mnemonic: timing.op.mnemonic(),
            unit: timing.op.unit().name().to_string(),
            cycle,
            what,
            expected,
            actual,
        };
        let key = (r.chip, r.index as u32);
        if issues.get(&key) != Some(&r.issue) {
            out.push(at(
                "issue".into(),
                format!("cycle {}", r.issue),
                show(issues.get(&key)),
                r.issue,
            ));
        }
        if retires.get(&key) != Some(&r.completion) {
            out.push(at(
                "completion".into(),
                format!("cycle {}", r.completion),
                show(retires.get(&key)),
                r.completion,
            ));
        }
        // The plan's write accesses are in the same order as the rows the op wrote.
        let cycles = timing
            .plan
            .accesses
            .iter()
            .filter(|a| a.dir == Dir::Write && a.word.mem != Mem::Shadow)
            .map(|a| a.cycle);
        for (w, cycle) in r.writes.iter().zip(cycles) {
            expected_writes += 1;
            match writes.get(&(w.word, cycle)) {
                Some(lanes) if *lanes == w.lanes => {}
                got => out.push(at(
                    w.word.to_string(),
                    format!("{:?}", w.lanes),
                    got.map_or("no write".to_string(), |l| format!("{l:?}")),
                    cycle,
                )),
            }
        }
    }
    let actual_writes = events
        .iter()
        .filter(|e| matches!(e, TraceEvent::Write { .. }))
        .count();
    if actual_writes != expected_writes {
        out.push(Mismatch {
            chip: 0,
            index: 0,
            mnemonic: "(program)".into(),
            unit: "-".into(),
            cycle: 0,
            what: "rows written".into(),
            expected: expected_writes.to_string(),
            actual: actual_writes.to_string(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use golden::SystemState;
    use isa::{assemble, HwConfig};

    #[test]
    fn write_lines_parse_lanes_lowest_last_and_saturate_sram() {
        let e = parse("w 0 perm 12 0 2 5 80ff017f\n", 4).unwrap();
        let TraceEvent::Write {
            word, cycle, lanes, ..
        } = &e[0]
        else {
            panic!("{e:?}")
        };
        assert_eq!((word.bank, word.row, *cycle), (2, 5, 12));
        assert_eq!(lanes, &vec![127, 1, -1, -128]);
        // A 32-bit lane of 300 written to SRAM is stored as 127; to an accumulator, as is.
        let wide = "0000012c000000000000000000000000";
        let e = parse(
            &format!("w 0 vec 3 0 0 0 {wide}\nw 0 vec 3 1 0 0 {wide}\n"),
            4,
        )
        .unwrap();
        let lanes = |i: usize| match &e[i] {
            TraceEvent::Write { lanes, .. } => lanes[3],
            _ => unreachable!(),
        };
        assert_eq!((lanes(0), lanes(1)), (127, 300));
        assert_eq!(parse("w 0 vec 3 0 0 0 zz\n", 4), Err(1));
    }

    /// The trace a correct chip prints for `run`, built from the golden timeline.
    fn ideal_trace(run: &Run) -> Vec<TraceEvent> {
        let mut events = Vec::new();
        for r in &run.retired {
            let t = &run.timeline.chips[r.chip as usize][r.index];
            events.push(TraceEvent::Issue {
                chip: r.chip,
                cycle: r.issue,
                pc: r.index as u32,
            });
            events.push(TraceEvent::Retire {
                unit: t.op.unit().name().into(),
                chip: r.chip,
                cycle: r.completion,
                pc: r.index as u32,
            });
            let cycles = t
                .plan
                .accesses
                .iter()
                .filter(|a| a.dir == Dir::Write && a.word.mem != Mem::Shadow);
            for (w, a) in r.writes.iter().zip(cycles) {
                events.push(TraceEvent::Write {
                    port: "any".into(),
                    word: w.word,
                    cycle: a.cycle,
                    lanes: w.lanes.clone(),
                });
            }
        }
        events
    }

    #[test]
    fn compare_names_the_instruction_cycle_and_word_of_each_fault() {
        let cfg = HwConfig::preset("tiny").unwrap();
        let program = assemble(
            "+0 vop.add a=acc0[0] b=imm imm=5 dst=acc0[8] count=2\n\
             +5 mov src=acc0[8] dst=sram1[0] count=2\n\
             +4 ctl.halt\n",
        )
        .unwrap();
        let run = golden::run(&program, &cfg, SystemState::new(&cfg), None).unwrap();
        let mut trace = ideal_trace(&run);
        assert!(compare(&run, &trace).is_empty());

        // A flipped bit in lane 1 of the vop's second row, and the mov completing late.
        for e in trace.iter_mut() {
            match e {
                TraceEvent::Write { word, lanes, .. } if word.row == 9 => lanes[1] ^= 4,
                TraceEvent::Retire { pc: 1, cycle, .. } => *cycle += 1,
                _ => {}
            }
        }
        let found: Vec<String> = compare(&run, &trace)
            .iter()
            .map(|m| m.to_string())
            .collect();
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(
            found[0].starts_with("chip 0 instruction 0 (vop.add, vector) cycle 5: chip 0 acc0[9]"),
            "{}",
            found[0]
        );
        assert!(
            found[1].starts_with("chip 0 instruction 1 (mov, memory) cycle 8: completion"),
            "{}",
            found[1]
        );
    }
}
