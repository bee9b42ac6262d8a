//! The program verifier and the cycle timeline.
//!
//! [`verify`] computes when every instruction of every chip issues and completes and which
//! ports, words and links it uses on which cycles (from [`isa::timing`]), then checks the
//! static-schedule contract and returns every violation, each naming the chip, instruction,
//! cycle and resource (an instruction with a field or address out of range is reported once,
//! for the first such problem, and its accesses are not checked further).
//!
//! Sequential order: the golden model executes instructions one at a time, ordered by issue
//! cycle, then chip, then index (for one chip: program order). Within an instruction, rows go
//! in order and each row is read before it is written. The hardware overlaps all of this; the
//! verifier accepts a program only if every pair of accesses to one word (at least one a write)
//! happens in the same order in time as in the sequential order, so the two agree.

use std::collections::HashMap;
use std::fmt;

use isa::ops::{Op, Unit};
use isa::timing::{self, Access, Dir, Mem, Plan, Word};
use isa::{HwConfig, Instr, Layout, Link, Program};

/// What rule a violation breaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Rule {
    /// The program has a different number of chips than the system.
    ChipCount,
    /// More instructions than the instruction memory holds.
    ProgramTooLong,
    /// A chip's program has no `ctl.halt`.
    MissingHalt,
    /// An instruction after `ctl.halt` (never issued).
    AfterHalt,
    /// A unit (the sequencer included) issued while still busy.
    UnitBusy,
    /// Two accesses to one port in one cycle.
    PortConflict,
    /// Two rows on one link in one cycle.
    LinkConflict,
    /// A read at or before the cycle of the write it depends on.
    ReadAfterWrite,
    /// A write at or before the cycle of an earlier read of the same word.
    WriteAfterRead,
    /// A write at or before the cycle of an earlier write of the same word.
    WriteAfterWrite,
    /// A bank, row, table, parameter entry, chip or lane amount out of range.
    OutOfRange,
    /// An op whose hardware the config leaves out.
    MissingUnit,
    /// An instruction still using resources when its chip halts (or data arriving at a halted
    /// chip).
    UnfinishedAtHalt,
}

impl Rule {
    pub fn name(self) -> &'static str {
        match self {
            Rule::ChipCount => "chip-count",
            Rule::ProgramTooLong => "program-too-long",
            Rule::MissingHalt => "missing-halt",
            Rule::AfterHalt => "after-halt",
            Rule::UnitBusy => "unit-busy",
            Rule::PortConflict => "port-conflict",
            Rule::LinkConflict => "link-conflict",
            Rule::ReadAfterWrite => "read-after-write",
            Rule::WriteAfterRead => "write-after-read",
            Rule::WriteAfterWrite => "write-after-write",
            Rule::OutOfRange => "out-of-range",
            Rule::MissingUnit => "missing-unit",
            Rule::UnfinishedAtHalt => "unfinished-at-halt",
        }
    }
}

/// One broken rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub rule: Rule,
    pub chip: u32,
    /// Index of the offending instruction in its chip's program.
    pub index: usize,
    pub cycle: u64,
    /// The unit, port, word, link or field concerned.
    pub resource: String,
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "chip {} instruction {} cycle {}: {} [{}]: {}",
            self.chip,
            self.index,
            self.cycle,
            self.rule.name(),
            self.resource,
            self.message
        )
    }
}

/// Timing of one issued instruction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstrTiming {
    pub index: usize,
    pub op: Op,
    pub plan: Plan,
}

impl InstrTiming {
    pub fn issue(&self) -> u64 {
        self.plan.issue
    }
    pub fn completion(&self) -> u64 {
        self.plan.completion()
    }
}

/// The cycle timeline of a verified program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timeline {
    /// Per chip, every issued instruction up to and including `ctl.halt`.
    pub chips: Vec<Vec<InstrTiming>>,
}

impl Timeline {
    /// Cycles chip `c` runs: its `ctl.halt` issues in the last one.
    pub fn chip_cycles(&self, chip: usize) -> u64 {
        self.chips[chip].last().map_or(0, |t| t.issue() + 1)
    }
    /// Cycles the system runs (the slowest chip).
    pub fn cycles(&self) -> u64 {
        (0..self.chips.len())
            .map(|c| self.chip_cycles(c))
            .max()
            .unwrap_or(0)
    }
    /// Cycles each unit of chip `c` is busy, in [`Unit::ALL`] order. The sequencer spends a
    /// cycle issuing every instruction and runs `CTL` ops for their whole occupancy.
    pub fn unit_busy(&self, chip: usize) -> Vec<(Unit, u64)> {
        let busy = |unit: Unit, t: &InstrTiming| match (unit, t.plan.unit) {
            (u, v) if u == v => t.plan.occupancy,
            (Unit::Sequencer, _) => 1,
            _ => 0,
        };
        Unit::ALL
            .iter()
            .map(|u| (*u, self.chips[chip].iter().map(|t| busy(*u, t)).sum()))
            .collect()
    }
    /// Instructions of all chips in sequential order (issue cycle, chip, index).
    pub fn sequential_order(&self) -> Vec<(u32, usize)> {
        let mut order: Vec<(u64, u32, usize)> = self
            .chips
            .iter()
            .enumerate()
            .flat_map(|(c, ts)| ts.iter().map(move |t| (t.issue(), c as u32, t.index)))
            .collect();
        order.sort_unstable();
        order.into_iter().map(|(_, c, i)| (c, i)).collect()
    }
}

/// The most unit-busy cycles (summed over all instructions) a program may have. The verifier
/// keeps every access in memory (a few per busy cycle); this bounds it to about a gigabyte.
pub const MAX_BUSY_CYCLES: u64 = 4 << 20;

/// Checks `program` against `cfg`; on success returns its timeline.
pub fn verify(program: &Program, cfg: &HwConfig) -> Result<Timeline, Vec<Violation>> {
    let mut v = Verifier {
        cfg,
        layout: Layout::new(cfg),
        violations: Vec::new(),
    };
    let busy: u64 = program
        .chips
        .iter()
        .flatten()
        .map(|i| timing::occupancy(&i.op, cfg))
        .sum();
    if busy > MAX_BUSY_CYCLES {
        v.report(
            Rule::ProgramTooLong,
            0,
            0,
            0,
            "verifier".into(),
            format!(
                "the program keeps units busy for {busy} cycles in all; the verifier handles up \
                 to {MAX_BUSY_CYCLES}: split it into smaller programs"
            ),
        );
        return Err(v.violations);
    }
    if program.chips.len() != cfg.system.chips as usize {
        v.report(
            Rule::ChipCount,
            0,
            0,
            0,
            "system".into(),
            format!(
                "the program has {} chip sections, the system has {} chips",
                program.chips.len(),
                cfg.system.chips
            ),
        );
        return Err(v.violations);
    }
    let timeline = v.schedule(program);
    v.check_halts(&timeline);
    v.check_ports_and_links(&timeline);
    v.check_hazards(&timeline);
    if v.violations.is_empty() {
        Ok(timeline)
    } else {
        v.violations.sort_by_key(|x| (x.cycle, x.chip, x.index));
        Err(v.violations)
    }
}

struct Verifier<'a> {
    cfg: &'a HwConfig,
    layout: Layout,
    violations: Vec<Violation>,
}

impl Verifier<'_> {
    fn report(
        &mut self,
        rule: Rule,
        chip: u32,
        index: usize,
        cycle: u64,
        resource: String,
        message: String,
    ) {
        self.violations.push(Violation {
            rule,
            chip,
            index,
            cycle,
            resource,
            message,
        });
    }

    /// Issue cycles, ranges and unit occupancy; plans of in-range instructions.
    fn schedule(&mut self, program: &Program) -> Timeline {
        let mut chips = Vec::new();
        for (c, instrs) in program.chips.iter().enumerate() {
            let chip = c as u32;
            if instrs.len() > self.cfg.chip.imem_depth as usize {
                self.report(
                    Rule::ProgramTooLong,
                    chip,
                    self.cfg.chip.imem_depth as usize,
                    0,
                    "instruction memory".into(),
                    format!(
                        "{} instructions do not fit the instruction memory of {}",
                        instrs.len(),
                        self.cfg.chip.imem_depth
                    ),
                );
            }
            let halt = instrs.iter().position(|i| i.op.is_halt());
            let issued = match halt {
                Some(h) => {
                    if h + 1 < instrs.len() {
                        self.report(
                            Rule::AfterHalt,
                            chip,
                            h + 1,
                            0,
                            "sequencer".into(),
                            format!(
                                "{} instructions follow the ctl.halt at index {h} and never issue",
                                instrs.len() - h - 1
                            ),
                        );
                    }
                    &instrs[..=h]
                }
                None => {
                    let last = instrs.len().saturating_sub(1);
                    self.report(
                        Rule::MissingHalt,
                        chip,
                        last,
                        0,
                        "sequencer".into(),
                        "the program has no ctl.halt".into(),
                    );
                    &instrs[..]
                }
            };
            let mut timings = Vec::with_capacity(issued.len());
            let mut busy_until: HashMap<Unit, (u64, usize)> = HashMap::new();
            let mut cycle = 0u64;
            for (index, instr) in issued.iter().enumerate() {
                cycle += instr.delay as u64;
                let unit = instr.op.unit();
                // The sequencer issues every instruction (at most one an issue interval); CTL
                // ops hold it longer.
                let mut uses = vec![(
                    Unit::Sequencer,
                    timing::sequencer_occupancy(&instr.op, self.cfg),
                )];
                if unit != Unit::Sequencer {
                    uses.push((unit, timing::occupancy(&instr.op, self.cfg)));
                }
                for (u, occupied) in uses {
                    if let Some(&(until, by)) = busy_until.get(&u) {
                        if cycle < until {
                            self.report(Rule::UnitBusy, chip, index, cycle, u.name().into(), format!(
                                "{} issues while {u} is busy with instruction {by} until cycle {until}",
                                instr.op.mnemonic()
                            ));
                        }
                    }
                    busy_until.insert(u, (cycle + occupied, index));
                }
                let in_range = self.check_implemented(chip, index, cycle, &instr.op)
                    && self.check_encodable(chip, index, cycle, instr)
                    && self.check_fields(chip, index, cycle, &instr.op);
                let plan = if in_range {
                    let plan = timing::plan(&instr.op, chip, cycle, self.cfg);
                    self.check_addresses(chip, index, plan)
                } else {
                    empty_plan(&instr.op, cycle, self.cfg)
                };
                timings.push(InstrTiming {
                    index,
                    op: instr.op,
                    plan,
                });
            }
            chips.push(timings);
        }
        Timeline { chips }
    }

    /// An op needs its unit; false if the config leaves it out.
    fn check_implemented(&mut self, chip: u32, index: usize, cycle: u64, op: &Op) -> bool {
        let Some(missing) = self.cfg.missing_unit(op.opcode()) else {
            return true;
        };
        let message = format!("{} needs {missing}", op.mnemonic());
        let unit = missing.unit.trim_start_matches("the ").to_string();
        self.report(Rule::MissingUnit, chip, index, cycle, unit, message);
        false
    }

    /// What the hardware cannot encode it cannot run (a count of 0, a step wider than its
    /// field, ...); false if the instruction does not encode.
    fn check_encodable(&mut self, chip: u32, index: usize, cycle: u64, instr: &Instr) -> bool {
        let Err(e) = self.layout.encode(instr) else {
            return true;
        };
        let message = format!("{} cannot be encoded: {}", instr.op.mnemonic(), e.message);
        self.report(
            Rule::OutOfRange,
            chip,
            index,
            cycle,
            e.field.into(),
            message,
        );
        false
    }

    /// Range checks on fields that are not addresses; false if any fails.
    fn check_fields(&mut self, chip: u32, index: usize, cycle: u64, op: &Op) -> bool {
        let c = &self.cfg.chip;
        let (field, value, limit, what) = match op {
            Op::Rq(x) => ("param", x.param, c.param_depth, "parameter entries"),
            Op::Lut(x) => ("table", x.table, c.lut_tables, "lookup tables"),
            Op::Perm(x) => ("amount", x.amount, c.n, "lanes"),
            Op::Xfer(x) if x.chip == chip => {
                self.report(
                    Rule::OutOfRange,
                    chip,
                    index,
                    cycle,
                    "chip".into(),
                    "xfer to its own chip: use mov".into(),
                );
                return false;
            }
            Op::Xfer(x) => ("chip", x.chip, self.cfg.system.chips, "chips"),
            Op::Ldw(_) | Op::Mma(_) | Op::Vop(_) | Op::Red(_) | Op::Mov(_) | Op::Ctl(_) => {
                return true
            }
        };
        if value >= limit {
            self.report(
                Rule::OutOfRange,
                chip,
                index,
                cycle,
                field.into(),
                format!(
                    "{} {field}={value} but there are {limit} {what}",
                    op.mnemonic()
                ),
            );
            return false;
        }
        true
    }

    /// Reports the first access outside its memory; such a plan keeps only its unit use.
    fn check_addresses(&mut self, chip: u32, index: usize, plan: Plan) -> Plan {
        let c = &self.cfg.chip;
        let bad = plan.accesses.iter().find(|a| {
            let w = a.word;
            match w.mem {
                Mem::Sram => w.bank >= c.sram_banks || w.row >= c.sram_depth as u64,
                Mem::Acc => w.bank >= c.acc_banks || w.row >= c.acc_depth as u64,
                Mem::Shadow => false,
            }
        });
        match bad {
            Some(a) => {
                let (banks, depth) = match a.word.mem {
                    Mem::Sram => (c.sram_banks, c.sram_depth),
                    _ => (c.acc_banks, c.acc_depth),
                };
                self.report(
                    Rule::OutOfRange,
                    chip,
                    index,
                    a.cycle,
                    a.word.to_string(),
                    format!("address outside the memory ({banks} banks of {depth} rows)"),
                );
                Plan {
                    accesses: Vec::new(),
                    links: Vec::new(),
                    ..plan
                }
            }
            None => plan,
        }
    }

    fn check_halts(&mut self, timeline: &Timeline) {
        let halts: Vec<Option<u64>> = timeline
            .chips
            .iter()
            .map(|ts| ts.last().filter(|t| t.op.is_halt()).map(InstrTiming::issue))
            .collect();
        for (c, ts) in timeline.chips.iter().enumerate() {
            let Some(halt) = halts[c] else { continue };
            for t in ts {
                if t.completion() >= halt && t.issue() < halt {
                    self.report(
                        Rule::UnfinishedAtHalt,
                        c as u32,
                        t.index,
                        t.completion(),
                        t.plan.unit.name().into(),
                        format!(
                            "still running in cycle {} but the chip halts in cycle {halt}",
                            t.completion()
                        ),
                    );
                }
            }
        }
        // Data sent to a chip that has already halted.
        for (c, ts) in timeline.chips.iter().enumerate() {
            for t in ts {
                for a in &t.plan.accesses {
                    let target = a.word.chip as usize;
                    if target == c {
                        continue;
                    }
                    if let Some(Some(halt)) = halts.get(target) {
                        if a.cycle >= *halt {
                            self.report(
                                Rule::UnfinishedAtHalt,
                                c as u32,
                                t.index,
                                a.cycle,
                                a.word.to_string(),
                                format!(
                                    "arrives in cycle {} but chip {target} halts in cycle {halt}",
                                    a.cycle
                                ),
                            );
                        }
                    }
                }
            }
        }
    }

    fn check_ports_and_links(&mut self, timeline: &Timeline) {
        let mut ports: HashMap<(isa::timing::Port, u64), (u32, usize)> = HashMap::new();
        let mut links: HashMap<(Link, u64), (u32, usize)> = HashMap::new();
        for (c, i) in timeline.sequential_order() {
            let t = &timeline.chips[c as usize][i];
            for (a, port) in t
                .plan
                .accesses
                .iter()
                .flat_map(|a| a.ports().map(move |p| (a, p)))
            {
                if let Some(&(oc, oi)) = ports.get(&(port, a.cycle)) {
                    self.report(
                        Rule::PortConflict,
                        c,
                        i,
                        a.cycle,
                        port.to_string(),
                        format!(
                        "{} {} while chip {oc} instruction {oi} uses the port in the same cycle",
                        dir_name(a.dir),
                        a.word
                    ),
                    );
                } else {
                    ports.insert((port, a.cycle), (c, i));
                }
            }
            for l in &t.plan.links {
                if let Some(&(oc, oi)) = links.get(&(l.link, l.cycle)) {
                    self.report(
                        Rule::LinkConflict,
                        c,
                        i,
                        l.cycle,
                        l.link.to_string(),
                        format!("chip {oc} instruction {oi} sends on the link in the same cycle"),
                    );
                } else {
                    links.insert((l.link, l.cycle), (c, i));
                }
            }
        }
    }

    fn check_hazards(&mut self, timeline: &Timeline) {
        // Every access in sequential order: instruction order, then the op's own order, reads
        // of an order before its writes.
        let mut all: Vec<(u32, usize, &Access)> = Vec::new();
        for (c, i) in timeline.sequential_order() {
            let t = &timeline.chips[c as usize][i];
            let mut own: Vec<&Access> = t.plan.accesses.iter().collect();
            own.sort_by_key(|a| (a.order, a.dir == Dir::Write));
            all.extend(own.into_iter().map(|a| (c, i, a)));
        }
        #[derive(Default)]
        struct WordState {
            last_write: Option<(u64, u32, usize)>,
            latest_read: Option<(u64, u32, usize)>,
        }
        let mut words: HashMap<Word, WordState> = HashMap::new();
        for (c, i, a) in all {
            let s = words.entry(a.word).or_default();
            let mut found = Vec::new();
            match a.dir {
                Dir::Read => {
                    if let Some((w, wc, wi)) = s.last_write {
                        if w >= a.cycle {
                            found.push((Rule::ReadAfterWrite, format!(
                                "reads in cycle {} but chip {wc} instruction {wi} writes it in cycle {w}",
                                a.cycle
                            )));
                        }
                    }
                    if s.latest_read.is_none_or(|(r, ..)| a.cycle > r) {
                        s.latest_read = Some((a.cycle, c, i));
                    }
                }
                Dir::Write => {
                    if let Some((w, wc, wi)) = s.last_write {
                        if w >= a.cycle {
                            found.push((Rule::WriteAfterWrite, format!(
                                "writes in cycle {} but earlier chip {wc} instruction {wi} writes it in cycle {w}",
                                a.cycle
                            )));
                        }
                    }
                    if let Some((r, rc, ri)) = s.latest_read {
                        if r >= a.cycle {
                            found.push((Rule::WriteAfterRead, format!(
                                "writes in cycle {} but earlier chip {rc} instruction {ri} reads it in cycle {r}",
                                a.cycle
                            )));
                        }
                    }
                    s.last_write = Some((a.cycle, c, i));
                    s.latest_read = None;
                }
            }
            for (rule, message) in found {
                self.report(rule, c, i, a.cycle, a.word.to_string(), message);
            }
        }
    }
}

fn dir_name(d: Dir) -> &'static str {
    match d {
        Dir::Read => "reads",
        Dir::Write => "writes",
    }
}

fn empty_plan(op: &Op, issue: u64, cfg: &HwConfig) -> Plan {
    Plan {
        unit: op.unit(),
        issue,
        occupancy: timing::occupancy(op, cfg),
        accesses: Vec::new(),
        links: Vec::new(),
    }
}
