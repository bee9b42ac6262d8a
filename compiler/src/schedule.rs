//! Static scheduling: list scheduling over a resource-reservation table.
//!
//! The input is a list of ops in *logical* order (the order their data dependencies assume).
//! Each op's dependencies come from the words it touches (read-after-write, write-after-read,
//! write-after-write, the shadow weight buffer included), using the access pattern of
//! [`isa::timing::plan`]. The scheduler then repeatedly takes, among the ops whose
//! dependencies are placed, the one that can issue earliest, and reserves what it uses: its
//! unit for its occupancy, each bank port in each cycle it accesses it, and the sequencer's
//! issue slot. Issue order is placement order, so the program is in-order by construction, and
//! independent ops overtake each other: the next weight tile loads while the array still
//! streams the previous one, and requantization of one output tile runs under the next tile's
//! `MMA`s.
//!
//! The timing rules are the verifier's (`golden::verify`), which the compiler runs on the
//! result: a schedule the verifier refuses is a compiler bug, reported as such.

use std::collections::HashMap;

use isa::timing::{self, Dir, Port, Word};
use isa::topology::Link;
use isa::{HwConfig, Op, Unit};

/// An op placed at its issue cycle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Slot {
    pub op: Op,
    pub issue: u64,
    pub unit: Unit,
    /// Cycles the unit is busy from `issue`.
    pub occupancy: u64,
}

/// A program's schedule: its slots in issue order, ending with `ctl.halt`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    pub slots: Vec<Slot>,
}

impl Schedule {
    /// Cycles the program runs: the halt cycle + 1.
    pub fn cycles(&self) -> u64 {
        self.slots.last().map_or(0, |s| s.issue + 1)
    }

    /// A per-unit chart of the schedule, `width` characters across: each character covers an
    /// equal share of the cycles and shows how busy the unit is in it (`#` over 3/4, `+` over
    /// 1/4, `.` any, blank none), followed by the unit's busy cycles.
    pub fn chart(&self, width: usize) -> String {
        let cycles = self.cycles().max(1);
        let width = width.clamp(1, cycles as usize);
        let bucket = cycles.div_ceil(width as u64);
        let mut out = format!(
            "{:<10} {:>8} {:>6}  timeline, one character = {bucket} cycle(s), {cycles} in all\n",
            "unit", "busy", "share"
        );
        for unit in Unit::ALL {
            let mut busy = vec![0u64; width];
            for s in self.slots.iter().filter(|s| s.unit == unit) {
                for c in s.issue..s.issue + s.occupancy {
                    busy[((c / bucket) as usize).min(width - 1)] += 1;
                }
            }
            let total: u64 = busy.iter().sum();
            if total == 0 {
                continue;
            }
            let bar: String = busy
                .iter()
                .map(|&b| match b * 4 {
                    0 => ' ',
                    x if x > 3 * bucket => '#',
                    x if x > bucket => '+',
                    _ => '.',
                })
                .collect();
            out.push_str(&format!(
                "{:<10} {total:>8} {:>5.1}%  |{bar}|\n",
                unit.name(),
                100.0 * total as f64 / cycles as f64
            ));
        }
        out
    }

    /// Busy cycles of `unit`.
    pub fn busy(&self, unit: Unit) -> u64 {
        self.slots
            .iter()
            .filter(|s| s.unit == unit)
            .map(|s| s.occupancy)
            .sum()
    }
}

/// Cycles a system's program runs: its slowest chip's (each chip's schedule ends with its
/// halt).
pub fn system_cycles(schedules: &[Schedule]) -> u64 {
    schedules.iter().map(Schedule::cycles).max().unwrap_or(0)
}

/// One op's resource use relative to its issue cycle.
struct Footprint {
    chip: u32,
    unit: Unit,
    occupancy: u64,
    /// Cycles before the sequencer may issue another instruction.
    sequencer: u64,
    /// The last cycle used, relative to issue.
    span: u64,
    accesses: Vec<(u64, Dir, Word)>,
    /// `(port index, cycle offset)`: memories' ports and arrival ports, any chip's.
    ports: Vec<(usize, u64)>,
    /// `(link index, cycle offset)`: a row entering the link.
    links: Vec<(usize, u64)>,
    /// `(chip, cycle offset)`: the last row it writes into each other chip.
    remote: Vec<(u32, u64)>,
}

/// Ports by index, chip by chip: SRAM banks, accumulator read ports, accumulator write
/// ports, the arrival port.
fn port_index(port: Port, cfg: &HwConfig) -> usize {
    let (s, a) = (cfg.chip.sram_banks as usize, cfg.chip.acc_banks as usize);
    let per_chip = s + 2 * a + 1;
    let (chip, local) = match port {
        Port::Sram { chip, bank } => (chip, bank as usize),
        Port::AccRead { chip, bank } => (chip, s + bank as usize),
        Port::AccWrite { chip, bank } => (chip, s + a + bank as usize),
        Port::Arrival { chip } => (chip, s + 2 * a),
    };
    chip as usize * per_chip + local
}

impl Footprint {
    fn of(chip: u32, op: &Op, cfg: &HwConfig, links: &HashMap<Link, usize>) -> Footprint {
        let plan = timing::plan(op, chip, 0, cfg);
        let span = plan.completion();
        let ports = plan
            .accesses
            .iter()
            .flat_map(|a| a.ports().map(|p| (port_index(p, cfg), a.cycle)))
            .collect();
        Footprint {
            chip,
            unit: plan.unit,
            occupancy: plan.occupancy,
            sequencer: timing::sequencer_occupancy(op, cfg),
            span,
            accesses: plan
                .accesses
                .iter()
                .map(|a| (a.cycle, a.dir, a.word))
                .collect(),
            ports,
            links: plan
                .links
                .iter()
                .map(|l| (links[&l.link], l.cycle))
                .collect(),
            remote: plan.accesses.iter().filter(|a| a.word.chip != chip).fold(
                Vec::new(),
                |mut last: Vec<(u32, u64)>, a| {
                    match last.iter_mut().find(|(c, _)| *c == a.word.chip) {
                        Some((_, cycle)) => *cycle = (*cycle).max(a.cycle),
                        None => last.push((a.word.chip, a.cycle)),
                    }
                    last
                },
            ),
        }
    }
}

/// For each op, the earlier ops it must follow.
fn dependencies(prints: &[Footprint]) -> Vec<Vec<usize>> {
    #[derive(Default)]
    struct Users {
        writer: Option<usize>,
        readers: Vec<usize>,
    }
    let mut words: HashMap<Word, Users> = HashMap::new();
    let mut deps = Vec::with_capacity(prints.len());
    for (i, p) in prints.iter().enumerate() {
        let mut mine = Vec::new();
        for &(_, dir, word) in &p.accesses {
            let users = words.entry(word).or_default();
            mine.extend(users.writer.filter(|w| *w != i));
            if dir == Dir::Write {
                mine.extend(users.readers.iter().copied().filter(|r| *r != i));
            }
        }
        for &(_, dir, word) in &p.accesses {
            let users = words.entry(word).or_default();
            match dir {
                Dir::Read => users.readers.push(i),
                Dir::Write => {
                    users.writer = Some(i);
                    users.readers.clear();
                }
            }
        }
        mine.sort_unstable();
        mine.dedup();
        deps.push(mine);
    }
    deps
}

/// Cycles each port or link is reserved, as bit sets.
struct Reservations {
    sets: Vec<Vec<u64>>,
}

impl Reservations {
    fn new(count: usize) -> Self {
        Reservations {
            sets: vec![Vec::new(); count],
        }
    }
    fn taken(&self, index: usize, cycle: u64) -> bool {
        let (w, b) = ((cycle / 64) as usize, cycle % 64);
        self.sets[index].get(w).is_some_and(|x| x >> b & 1 == 1)
    }
    fn take(&mut self, index: usize, cycle: u64) {
        let (w, b) = ((cycle / 64) as usize, cycle % 64);
        let bits = &mut self.sets[index];
        if bits.len() <= w {
            bits.resize(w + 1, 0);
        }
        bits[w] |= 1 << b;
    }
}

/// What placed ops have done to each word: the last cycle it was written and read.
#[derive(Clone, Copy, Default)]
struct WordTimes {
    written: Option<u64>,
    read: Option<u64>,
}

struct State<'a> {
    prints: &'a [Footprint],
    /// Each op's dependencies on other chips.
    remote_deps: Vec<Vec<usize>>,
    ports: Reservations,
    links: Reservations,
    words: HashMap<Word, WordTimes>,
    unit_free: HashMap<(u32, Unit), u64>,
    /// Per chip, the earliest cycle its sequencer can issue the next instruction.
    next_issue: Vec<u64>,
    /// Each placed op's issue cycle.
    issued: Vec<Option<u64>>,
}

impl State<'_> {
    /// The earliest cycle op `i` can issue given everything placed so far.
    fn earliest(&self, i: usize) -> u64 {
        let p = &self.prints[i];
        let chip = p.chip;
        let mut t = self.next_issue[chip as usize]
            .max(self.unit_free.get(&(chip, p.unit)).copied().unwrap_or(0));
        // After every op it depends on on another chip, too: the golden model's sequential
        // order is by issue cycle, then chip, and must be the logical order wherever two ops
        // touch one word (a chip's own ops issue in order anyway).
        for &j in &self.remote_deps[i] {
            t = t.max(self.issued[j].expect("dependencies are placed first") + 1);
        }
        // A read must come after the last write of its word; a write after the last read and
        // write. (Placed ops that touch a word this op writes are all logically earlier.)
        for &(offset, dir, word) in &p.accesses {
            let Some(times) = self.words.get(&word) else {
                continue;
            };
            let after = match dir {
                Dir::Read => times.written,
                Dir::Write => times.written.max(times.read),
            };
            if let Some(c) = after {
                t = t.max((c + 1).saturating_sub(offset));
            }
        }
        while p
            .ports
            .iter()
            .any(|&(x, offset)| self.ports.taken(x, t + offset))
            || p.links
                .iter()
                .any(|&(x, offset)| self.links.taken(x, t + offset))
        {
            t += 1;
        }
        t
    }

    fn place(&mut self, i: usize, t: u64) {
        let p = &self.prints[i];
        for &(x, offset) in &p.ports {
            self.ports.take(x, t + offset);
        }
        for &(x, offset) in &p.links {
            self.links.take(x, t + offset);
        }
        for &(offset, dir, word) in &p.accesses {
            let times = self.words.entry(word).or_default();
            let c = Some(t + offset);
            match dir {
                Dir::Read => times.read = times.read.max(c),
                Dir::Write => times.written = times.written.max(c),
            }
        }
        self.unit_free.insert((p.chip, p.unit), t + p.occupancy);
        self.next_issue[p.chip as usize] = t + p.sequencer;
        self.issued[i] = Some(t);
    }
}

/// Schedules `ops` (in logical order) for `cfg`'s first chip and appends `ctl.halt` after
/// the last cycle any op uses.
pub fn schedule(ops: &[Op], cfg: &HwConfig) -> Schedule {
    let on_first: Vec<(u32, Op)> = ops.iter().map(|op| (0, *op)).collect();
    schedule_system(&on_first, cfg).swap_remove(0)
}

/// Schedules a system's `ops` (`(chip, op)` in one logical order: a transfer before the ops
/// that read what it writes on the other chip) for `cfg`: each chip's ops in its own issue
/// order, every port, unit and link reserved where it is used, and each chip's `ctl.halt`
/// after the last cycle its ops use and the last row that arrives at it. One schedule a chip.
pub fn schedule_system(ops: &[(u32, Op)], cfg: &HwConfig) -> Vec<Schedule> {
    let chips = cfg.system.chips as usize;
    let link_list = cfg.system.links();
    let links: HashMap<Link, usize> = link_list.iter().enumerate().map(|(k, l)| (*l, k)).collect();
    let prints: Vec<Footprint> = ops
        .iter()
        .map(|(chip, op)| Footprint::of(*chip, op, cfg, &links))
        .collect();
    let deps = dependencies(&prints);
    let mut waiting: Vec<usize> = deps.iter().map(Vec::len).collect();
    let mut dependents = vec![Vec::new(); ops.len()];
    for (i, d) in deps.iter().enumerate() {
        for &j in d {
            dependents[j].push(i);
        }
    }
    let per_chip = cfg.chip.sram_banks as usize + 2 * cfg.chip.acc_banks as usize + 1;
    let mut state = State {
        prints: &prints,
        remote_deps: deps
            .iter()
            .zip(&prints)
            .map(|(d, p)| {
                d.iter()
                    .copied()
                    .filter(|&j| prints[j].chip != p.chip)
                    .collect()
            })
            .collect(),
        ports: Reservations::new(chips * per_chip),
        links: Reservations::new(link_list.len()),
        words: HashMap::new(),
        unit_free: HashMap::new(),
        next_issue: vec![0; chips],
        issued: vec![None; ops.len()],
    };
    let mut ready: Vec<usize> = (0..ops.len()).filter(|&i| waiting[i] == 0).collect();
    let mut slots: Vec<Vec<Slot>> = vec![Vec::new(); chips];
    // The last cycle each chip is used: by its own ops, or by rows arriving at it.
    let mut end: Vec<Option<u64>> = vec![None; chips];
    while !ready.is_empty() {
        let (pos, t) = ready
            .iter()
            .enumerate()
            .map(|(pos, &i)| (pos, state.earliest(i)))
            .min_by_key(|&(pos, t)| (t, ready[pos]))
            .expect("ready is not empty");
        let i = ready.swap_remove(pos);
        state.place(i, t);
        let p = &prints[i];
        let own = &mut end[p.chip as usize];
        *own = Some(own.map_or(t + p.span, |e| e.max(t + p.span)));
        for &(chip, offset) in &p.remote {
            let theirs = &mut end[chip as usize];
            *theirs = Some(theirs.map_or(t + offset, |e| e.max(t + offset)));
        }
        slots[p.chip as usize].push(Slot {
            op: ops[i].1,
            issue: t,
            unit: p.unit,
            occupancy: p.occupancy,
        });
        for &j in &dependents[i] {
            waiting[j] -= 1;
            if waiting[j] == 0 {
                ready.push(j);
            }
        }
    }
    debug_assert_eq!(
        slots.iter().map(Vec::len).sum::<usize>(),
        ops.len(),
        "the dependencies are acyclic"
    );
    let halt = isa::Op::Ctl(isa::ops::Ctl {
        func: isa::ops::CtlFunc::Halt,
    });
    slots
        .into_iter()
        .zip(end)
        .zip(state.next_issue)
        .map(|((mut slots, end), next_issue)| {
            let issue = end.map_or(0, |e| next_issue.max(e + 1));
            slots.push(Slot {
                op: halt,
                issue,
                unit: Unit::Sequencer,
                occupancy: 1,
            });
            Schedule { slots }
        })
        .collect()
}
