//! The retirement trace: what the RTL reports cycle by cycle, and its op-by-op comparison with
//! the golden model (issue cycle, completion cycle, every row written and when).

use std::collections::HashMap;

use golden::Run;
use isa::timing::{Dir, Mem, Word};

use crate::compare::{Mismatch, OpAt, OpEvent};
pub use crate::probe::TraceEvent;

/// The trace a correct chip writes for `run`, built from the golden timeline: what the
/// golden backend reports, and what [`compare`] is measured against in tests.
pub fn from_golden(run: &Run) -> Vec<TraceEvent> {
    let mut events = Vec::new();
    for r in &run.retired {
        let t = &run.timeline.chips[r.chip as usize][r.index];
        events.push(TraceEvent::Issue {
            chip: r.chip,
            cycle: r.issue,
            pc: r.index as u32,
        });
        events.push(TraceEvent::Retire {
            unit: t.op.unit(),
            chip: r.chip,
            cycle: r.completion,
            pc: r.index as u32,
        });
        for (w, cycle) in r.writes.iter().zip(write_cycles(t)) {
            events.push(TraceEvent::Write {
                port: "golden",
                word: w.word,
                cycle,
                lanes: w.lanes.clone(),
            });
        }
    }
    events.sort_by_key(|e| match e {
        TraceEvent::Issue { cycle, .. }
        | TraceEvent::Retire { cycle, .. }
        | TraceEvent::Write { cycle, .. } => *cycle,
    });
    events
}

/// The cycles of the rows an instruction writes, in the order it writes them (the shadow
/// buffer is not traced).
fn write_cycles(t: &golden::InstrTiming) -> impl Iterator<Item = u64> + '_ {
    t.plan
        .accesses
        .iter()
        .filter(|a| a.dir == Dir::Write && a.word.mem != Mem::Shadow)
        .map(|a| a.cycle)
}

/// Every difference between the golden run and the trace: each instruction's issue and
/// completion cycle, and every row written (where, when and what), in sequential order.
pub fn compare(golden: &Run, events: &[TraceEvent]) -> Vec<Mismatch> {
    let mut issues: HashMap<(u32, u32), u64> = HashMap::new();
    let mut retires: HashMap<(u32, u32), u64> = HashMap::new();
    let mut writes: HashMap<(Word, u64), &Vec<i32>> = HashMap::new();
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
                writes.insert((*word, *cycle), lanes);
            }
        }
    }
    let mut out = Vec::new();
    let mut expected_writes = 0;
    for r in &golden.retired {
        let timing = &golden.timeline.chips[r.chip as usize][r.index];
        let at = OpAt {
            chip: r.chip,
            index: r.index,
            mnemonic: timing.op.mnemonic(),
            unit: timing.op.unit(),
        };
        let key = (r.chip, r.index as u32);
        for (event, expected, actual) in [
            (OpEvent::Issue, r.issue, issues.get(&key)),
            (OpEvent::Completion, r.completion, retires.get(&key)),
        ] {
            if actual != Some(&expected) {
                out.push(Mismatch::Timing {
                    at: at.clone(),
                    event,
                    expected,
                    actual: actual.copied(),
                });
            }
        }
        for (w, cycle) in r.writes.iter().zip(write_cycles(timing)) {
            expected_writes += 1;
            let actual = writes.get(&(w.word, cycle));
            if actual != Some(&&w.lanes) {
                out.push(Mismatch::Row {
                    at: at.clone(),
                    word: w.word,
                    cycle,
                    expected: w.lanes.clone(),
                    actual: actual.map(|l| l.to_vec()),
                });
            }
        }
    }
    let actual_writes = events
        .iter()
        .filter(|e| matches!(e, TraceEvent::Write { .. }))
        .count();
    if actual_writes != expected_writes {
        out.push(Mismatch::RowCount {
            expected: expected_writes,
            actual: actual_writes,
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
    fn compare_names_the_instruction_cycle_and_word_of_each_fault() {
        let cfg = HwConfig::preset("tiny").unwrap();
        let program = assemble(
            "+0 vop.add a=acc0[0] b=imm imm=5 dst=acc0[8] count=2\n\
             +5 mov src=acc0[8] dst=sram1[0] count=2\n\
             +4 ctl.halt\n",
        )
        .unwrap();
        let run = golden::run(&program, &cfg, SystemState::new(&cfg), None).unwrap();
        let mut trace = from_golden(&run);
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
