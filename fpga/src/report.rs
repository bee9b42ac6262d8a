//! What a flow measured, read from the tools' own reports: nextpnr's utilisation (its log,
//! which has it even when the design does not fit) and its JSON timing report (Fmax and the
//! critical path), and Yosys's flip-flop count.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

/// A flow's result: everything `metronome synth` prints, also as JSON.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub config_name: String,
    pub config_hash: String,
    /// `--device`'s name, and the vendor's part number.
    pub device: String,
    pub part: String,
    /// The clock asked of nextpnr: on a board, the one its PLL makes.
    pub requested_mhz: f64,
    /// nextpnr's placer and seed (entries from before they were recorded: heap, 1).
    #[serde(default)]
    pub placer: crate::Placer,
    #[serde(default = "first_seed")]
    pub seed: u32,
    /// The board, for a board's bitstream (`None`: the chip alone).
    #[serde(default)]
    pub board: Option<crate::BoardReport>,
    /// Every resource placed, against what the part has.
    pub utilisation: Vec<Resource>,
    /// Whether every resource fits; if not, nothing was placed.
    pub fits: bool,
    /// nextpnr's estimate after routing, for the chip's clock; `None` if nothing was placed.
    pub fmax_mhz: Option<f64>,
    pub critical_path: Option<CriticalPath>,
    /// Clock domains nextpnr timed apart from the chip's clock because the cells' clock
    /// is a constant: nextpnr-ice40 times every port of an `SB_MAC16` as a register, so a
    /// combinational one (its CLK tied low) splits the paths through it into two that
    /// neither reach the chip's clock. Paths through such cells are not checked, and
    /// `fmax_mhz` does not bound them.
    #[serde(default)]
    pub untimed_domains: Vec<String>,
    /// Each step that ran, with its wall time.
    pub steps: Vec<Step>,
    /// The first version line of each tool.
    pub tools: Vec<String>,
    /// The bitstream's file name in the cache entry, if the design was placed.
    pub bitstream: Option<String>,
}

fn first_seed() -> u32 {
    1
}

/// One resource: nextpnr's cell type, a readable name, use and capacity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resource {
    pub name: String,
    pub cell: String,
    pub used: u64,
    pub available: u64,
}

/// A step of the flow and how long it took.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Step {
    pub name: String,
    pub seconds: f64,
}

/// The slowest register-to-register path, as nextpnr reports it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CriticalPath {
    /// The cell the path starts at, and the chip block that cell is in.
    pub from: String,
    pub from_block: String,
    pub to: String,
    pub to_block: String,
    pub delay_ns: f64,
    pub logic_ns: f64,
    pub routing_ns: f64,
    /// Logic cells the path passes through.
    pub logic_levels: u32,
}

impl Report {
    /// Whether the design fits and meets the requested clock.
    pub fn passes(&self) -> bool {
        self.fits
            && self.fmax_mhz.is_some_and(|f| f >= self.requested_mhz)
            && self.untimed_domains.is_empty()
    }

    /// Why the design fails the part or the clock, if it does.
    pub fn failure(&self) -> Option<String> {
        if !self.fits {
            let over: Vec<String> = self
                .utilisation
                .iter()
                .filter(|r| r.used > r.available)
                .map(|r| format!("{} {} of {}", r.name, r.used, r.available))
                .collect();
            return Some(format!(
                "{} does not fit the {} ({}): {}",
                self.config_name,
                self.device,
                self.part,
                over.join(", ")
            ));
        }
        match self.fmax_mhz {
            Some(f) if f < self.requested_mhz => Some(format!(
                "{} misses the requested clock on the {}: {f:.1} MHz reached, {:.1} MHz asked",
                self.config_name, self.device, self.requested_mhz
            )),
            Some(f) if !self.untimed_domains.is_empty() => Some(format!(
                "{} on the {}: {f:.1} MHz covers only part of the design: paths through cells \
                 clocked by a constant ({}) are not timed; register the DSPs (see \
                 docs/fpga.md)",
                self.config_name,
                self.device,
                self.untimed_domains.join(", ")
            )),
            Some(_) => None,
            None => Some("nextpnr reported no clock".into()),
        }
    }

    /// The report as text: the utilisation table, the clock, the critical path, the steps.
    pub fn table(&self) -> String {
        let mut out = format!(
            "{} (config {}) on the {} ({}):\n",
            self.config_name, self.config_hash, self.device, self.part
        );
        if let Some(b) = &self.board {
            writeln!(
                out,
                "board {}: the chip at {:.3} MHz from the PLL ({} MHz oscillator), its host \
                 port on UARTBone at {} baud",
                b.name, b.clock_mhz, b.oscillator_mhz, b.baud
            )
            .unwrap();
        }
        out.push('\n');
        writeln!(
            out,
            "{:<24} {:>9} {:>9} {:>6}",
            "resource", "used", "available", "use"
        )
        .unwrap();
        for r in &self.utilisation {
            let share = 100.0 * r.used as f64 / r.available.max(1) as f64;
            let flag = if r.used > r.available { "  OVER" } else { "" };
            writeln!(
                out,
                "{:<24} {:>9} {:>9} {:>5.0}%{flag}",
                format!("{} ({})", r.name, r.cell),
                r.used,
                r.available,
                share
            )
            .unwrap();
        }
        out.push('\n');
        match self.fmax_mhz {
            Some(f) => {
                let verdict = if f >= self.requested_mhz {
                    "met"
                } else {
                    "MISSED"
                };
                writeln!(
                    out,
                    "clock: {f:.2} MHz after routing, {:.2} MHz requested: {verdict} (nextpnr's \
                     {} placer, seed {})",
                    self.requested_mhz,
                    self.placer.name(),
                    self.seed
                )
                .unwrap();
            }
            None => writeln!(out, "clock: not placed").unwrap(),
        }
        if !self.untimed_domains.is_empty() {
            writeln!(
                out,
                "NOT TIMED: paths through cells clocked by a constant ({}): the clock above \
                 does not bound them",
                self.untimed_domains.join(", ")
            )
            .unwrap();
        }
        if let Some(p) = &self.critical_path {
            writeln!(
                out,
                "critical path: {:.2} ns ({:.2} logic, {:.2} routing, {} logic levels)\n  from {} ({})\n  to   {} ({})",
                p.delay_ns,
                p.logic_ns,
                p.routing_ns,
                p.logic_levels,
                p.from,
                p.from_block,
                p.to,
                p.to_block
            )
            .unwrap();
        }
        let steps: Vec<String> = self
            .steps
            .iter()
            .map(|s| format!("{} {:.1} s", s.name, s.seconds))
            .collect();
        writeln!(out, "flow: {}", steps.join(", ")).unwrap();
        out
    }
}

/// The readable name of a nextpnr cell type, for the types the table shows (in its order).
const SHOWN: [(&str, &str); 15] = [
    ("ICESTORM_LC", "logic cells"),
    ("TRELLIS_COMB", "LUT4s"),
    ("TRELLIS_FF", "flip-flops"),
    ("TRELLIS_RAMW", "LUT RAM"),
    ("ICESTORM_DSP", "DSPs"),
    ("MULT18X18D", "multipliers"),
    ("ICESTORM_RAM", "block RAMs"),
    ("DP16KD", "block RAMs"),
    ("ICESTORM_SPRAM", "SPRAMs"),
    ("SB_IO", "IOs"),
    ("TRELLIS_IO", "IOs"),
    ("SB_GB", "global buffers"),
    ("DCCA", "global buffers"),
    ("ICESTORM_PLL", "PLLs"),
    ("EHXPLLL", "PLLs"),
];

/// The `Device utilisation` table of a nextpnr log, for the cell types the report shows.
pub fn utilisation(log: &str) -> Vec<Resource> {
    let Some(at) = log.find("Device utilisation:") else {
        return Vec::new();
    };
    let mut found: Vec<Resource> = log[at..]
        .lines()
        .skip(1)
        .map_while(|line| {
            // `Info: \t  ICESTORM_LC:  1234/ 5280    23%`
            let (cell, counts) = line.strip_prefix("Info:")?.trim().split_once(':')?;
            let (used, rest) = counts.split_once('/')?;
            let available = rest.split_whitespace().next()?;
            Some(Resource {
                name: String::new(),
                cell: cell.trim().to_string(),
                used: used.trim().parse().ok()?,
                available: available.parse().ok()?,
            })
        })
        .filter_map(|mut r| {
            let (_, name) = SHOWN.iter().find(|(cell, _)| *cell == r.cell)?;
            r.name = name.to_string();
            Some(r)
        })
        .collect();
    found.sort_by_key(|r| SHOWN.iter().position(|(cell, _)| *cell == r.cell));
    found
}

/// nextpnr's `--report` JSON, the parts read here.
#[derive(Deserialize)]
struct NextpnrReport {
    #[serde(default)]
    fmax: std::collections::BTreeMap<String, ClockFmax>,
    #[serde(default)]
    critical_paths: Vec<NextpnrPath>,
}

#[derive(Deserialize)]
struct ClockFmax {
    achieved: f64,
}

#[derive(Deserialize)]
struct NextpnrPath {
    from: String,
    to: String,
    path: Vec<PathSegment>,
}

#[derive(Deserialize)]
struct PathSegment {
    #[serde(rename = "type")]
    kind: String,
    from: PathEnd,
    to: PathEnd,
    delay: f64,
}

#[derive(Deserialize)]
struct PathEnd {
    cell: String,
}

/// What nextpnr's timing report says of the chip's clock.
#[derive(Debug, Default, PartialEq)]
pub struct Timing {
    /// The lowest Fmax of a real clock, and the critical path of its domain.
    pub fmax_mhz: Option<f64>,
    pub critical_path: Option<CriticalPath>,
    /// Domains of a constant clock ([`Report::untimed_domains`]).
    pub untimed_domains: Vec<String>,
}

/// Whether a clock net nextpnr names is a constant (the packer's ground or supply net).
fn is_constant_clock(net: &str) -> bool {
    net.contains("$PACKER_GND_NET") || net.contains("$PACKER_VCC_NET")
}

/// Reads nextpnr's JSON timing report.
pub fn timing(report_json: &str) -> Result<Timing, String> {
    let report: NextpnrReport = serde_json::from_str(report_json)
        .map_err(|e| format!("nextpnr's JSON report is not what this version reads: {e}"))?;
    let (constant, real): (Vec<_>, Vec<_>) = report
        .fmax
        .iter()
        .partition(|(clock, _)| is_constant_clock(clock));
    let untimed_domains = constant
        .iter()
        .map(|(clock, _)| clock.to_string())
        .collect();
    let Some((clock, fmax)) = real
        .into_iter()
        .min_by(|a, b| a.1.achieved.total_cmp(&b.1.achieved))
    else {
        return Ok(Timing {
            untimed_domains,
            ..Timing::default()
        });
    };
    let critical_path = report
        .critical_paths
        .iter()
        .find(|p| p.from == format!("posedge {clock}") && p.to == format!("posedge {clock}"))
        .and_then(critical_path);
    Ok(Timing {
        fmax_mhz: Some(fmax.achieved),
        critical_path,
        untimed_domains,
    })
}

fn critical_path(p: &NextpnrPath) -> Option<CriticalPath> {
    let first = p.path.first()?;
    let last = p.path.last()?;
    let sum = |pick: &dyn Fn(&str) -> bool| -> f64 {
        p.path
            .iter()
            .filter(|s| pick(&s.kind))
            .map(|s| s.delay)
            .sum()
    };
    Some(CriticalPath {
        from: first.from.cell.clone(),
        from_block: block_of(&first.from.cell),
        to: last.to.cell.clone(),
        to_block: block_of(&last.to.cell),
        delay_ns: sum(&|_| true),
        logic_ns: sum(&|k| k != "routing"),
        routing_ns: sum(&|k| k == "routing"),
        logic_levels: p.path.iter().filter(|s| s.kind == "logic").count() as u32,
    })
}

/// The chip block a flattened cell name belongs to: `u_chip.u_vector.s2_q_...` is in
/// `u_vector` (under a board top, `u_board.u_chip...`); cells of the top itself are in `top`,
/// the board's own (bridge, serial line) in `board`.
fn block_of(cell: &str) -> String {
    let inside = cell.strip_prefix("u_board.");
    let mut parts = inside.unwrap_or(cell).split('.');
    match (parts.next(), parts.next()) {
        (Some("u_chip"), Some(block)) if block.starts_with("u_") => block.to_string(),
        (Some("u_chip"), _) => "chip".into(),
        _ if inside.is_some() => "board".into(),
        _ => "top".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_utilisation_table_is_read_from_the_log_even_when_over() {
        let log = "Info: Device utilisation:\nInfo: \t         ICESTORM_LC: 17843/ 5280   337%\n\
                   Info: \t        ICESTORM_RAM:    73/   30   243%\n\
                   Info: \t        ICESTORM_PLL:     0/    1     0%\n\
                   Info: \t        ICESTORM_DSP:    44/    8   550%\n\nInfo: Placed 0 cells\n";
        let u = utilisation(log);
        let cells: Vec<(&str, u64, u64)> = u
            .iter()
            .map(|r| (r.cell.as_str(), r.used, r.available))
            .collect();
        assert_eq!(
            cells,
            [
                ("ICESTORM_LC", 17843, 5280),
                ("ICESTORM_DSP", 44, 8),
                ("ICESTORM_RAM", 73, 30),
                ("ICESTORM_PLL", 0, 1)
            ]
        );
        assert_eq!(u[0].name, "logic cells");
    }

    #[test]
    fn fmax_and_the_critical_path_are_read_from_the_timing_report() {
        let end = |cell: &str| format!(r#"{{"cell": "{cell}", "port": "Q", "loc": [1, 2]}}"#);
        let segment = |kind: &str, from: &str, to: &str, delay: f64| {
            format!(
                r#"{{"type": "{kind}", "from": {}, "to": {}, "delay": {delay}}}"#,
                end(from),
                end(to)
            )
        };
        let a = "u_chip.u_vector.s3_q_TRELLIS_FF_Q";
        let b = "u_chip.u_vector.s3_out_LUT4_Z";
        let c = "u_chip.u_memory.bank_DP16KD";
        let path = [
            segment("clk-to-q", a, a, 0.5),
            segment("routing", a, b, 1.25),
            segment("logic", b, b, 0.5),
            segment("routing", b, c, 2.0),
            segment("setup", c, c, 0.25),
        ]
        .join(", ");
        let json = format!(
            r#"{{"fmax": {{"$glbnet$clk": {{"achieved": 222.2, "constraint": 60}}}},
               "critical_paths": [
                 {{"from": "<async>", "to": "posedge $glbnet$clk", "path": []}},
                 {{"from": "posedge $glbnet$clk", "to": "posedge $glbnet$clk", "path": [{path}]}}
               ]}}"#
        );
        let read = timing(&json).unwrap();
        assert_eq!(read.fmax_mhz, Some(222.2));
        assert!(read.untimed_domains.is_empty());
        let path = read.critical_path.unwrap();
        assert_eq!((path.from.as_str(), path.to.as_str()), (a, c));
        assert_eq!(
            (path.from_block.as_str(), path.to_block.as_str()),
            ("u_vector", "u_memory")
        );
        assert_eq!(
            (path.delay_ns, path.logic_ns, path.routing_ns),
            (4.5, 1.25, 3.25)
        );
        assert_eq!(path.logic_levels, 1);
        assert!(timing("{").unwrap_err().contains("nextpnr's JSON report"));
    }

    #[test]
    fn a_constant_clock_is_reported_untimed_not_taken_for_the_chips() {
        // nextpnr-ice40 on a chip with combinational DSPs: their tied-low clock is a domain
        // of its own, faster than the chip's.
        let json = r#"{"fmax": {
                "$PACKER_GND_NET_$glb_clk": {"achieved": 224.8, "constraint": 30},
                "clk_i$SB_IO_IN_$glb_clk": {"achieved": 26.1, "constraint": 30}},
            "critical_paths": []}"#;
        let read = timing(json).unwrap();
        assert_eq!(read.fmax_mhz, Some(26.1));
        assert_eq!(read.untimed_domains, ["$PACKER_GND_NET_$glb_clk"]);
        let mut report = Report {
            config_name: "lean".into(),
            config_hash: "0".into(),
            device: "up5k".into(),
            part: "iCE40UP5K-SG48".into(),
            requested_mhz: 20.0,
            placer: crate::Placer::Heap,
            seed: 1,
            board: None,
            utilisation: Vec::new(),
            fits: true,
            fmax_mhz: read.fmax_mhz,
            critical_path: None,
            untimed_domains: read.untimed_domains,
            steps: Vec::new(),
            tools: Vec::new(),
            bitstream: None,
        };
        // Above the requested clock, yet not passing: part of the design is not timed.
        assert!(!report.passes());
        assert!(report.failure().unwrap().contains("not timed"));
        assert!(report.table().contains("NOT TIMED"));
        report.untimed_domains.clear();
        assert!(report.passes());
    }

    #[test]
    fn cells_are_named_by_their_block() {
        assert_eq!(block_of("u_chip.u_vector.s2_q_SB_DFFER_Q"), "u_vector");
        assert_eq!(block_of("u_chip.cycle_SB_LUT4_O"), "chip");
        assert_eq!(block_of("request_q_SB_DFFER_Q_9"), "top");
        assert_eq!(block_of("u_board.u_chip.u_seq.pc_q"), "u_seq");
        assert_eq!(block_of("u_board.u_bridge.state_q"), "board");
    }
}
