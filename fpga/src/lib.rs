//! Place and route of a generated chip on a real FPGA: Yosys synthesis for the part, nextpnr
//! placement and routing at a requested clock, and the packer's bitstream. The result is a
//! [`Report`] (utilisation against the part, Fmax after routing, the critical path, step
//! times), cached by content so a second run of the same design, part and tools is instant.

mod board;
mod device;
mod netlist;
mod report;
mod tools;

pub use board::{Board, BoardReport, Pin, Pull, BOARDS, DEFAULT_BAUD};
pub use device::{Device, Family, Placer, DEVICES};
pub use netlist::{board_netlist, netlist, Netlist};
pub use report::{CriticalPath, Report, Resource, Step};
pub use tools::{simulation_models, Tool};

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use isa::HwConfig;
use sha2::{Digest, Sha256};

/// Bumped whenever the flow's steps or the report's meaning change: old entries stop matching.
const FLOW_VERSION: u32 = 3;

/// What went wrong before the flow could say whether the design fits.
#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    #[error("{} is not installed: run {}", .0.program(), .0.how_to_get())]
    Missing(Tool),
    #[error("cannot run {}: {why}", .tool.program())]
    Run { tool: Tool, why: String },
    #[error("{} failed (its log: {log}):\n{tail}", .tool.program())]
    Failed {
        tool: Tool,
        log: String,
        tail: String,
    },
    #[error(transparent)]
    Gen(#[from] rtl_gen::GenError),
    #[error(transparent)]
    Board(#[from] rtl_gen::board::BoardError),
    #[error("the synthesis cache: {0}")]
    Cache(String),
    #[error("the work directory: {0}")]
    WorkDir(String),
    #[error(
        "the {} has no {} placer in this flow (its nextpnr's: {})",
        .device, .placer.name(),
        .available.iter().map(|p| p.name()).collect::<Vec<_>>().join(", ")
    )]
    Placer {
        placer: Placer,
        device: &'static str,
        available: &'static [Placer],
    },
    #[error(
        "Yosys's simulation models ({file}) are not where its data should be beside {yosys}: \
         reinstall Yosys with {}", Tool::Yosys.how_to_get()
    )]
    NoModels { yosys: String, file: String },
}

/// How to run the flow.
#[derive(Clone, Debug)]
pub struct Options {
    /// The part; with a board, the board's part (this is not read).
    pub device: Device,
    /// The board to build a bitstream for: the chip behind the board top, its pins placed.
    pub board: Option<OnBoard>,
    /// The clock asked of nextpnr (MHz); the device's default if `None`.
    pub clock_mhz: Option<f64>,
    /// nextpnr's placer, and its seed.
    pub placer: Placer,
    pub seed: u32,
    /// The cache directory (results go in its `synth` directory): [`dircache::root`] for users.
    pub cache_root: PathBuf,
}

/// A board and the rate of its serial line.
#[derive(Clone, Copy, Debug)]
pub struct OnBoard {
    pub board: Board,
    pub baud: u32,
}

/// A finished flow: the report, and the cache entry holding it with the logs and bitstream.
#[derive(Debug)]
pub struct Synthesized {
    pub report: Report,
    pub entry: PathBuf,
    /// Whether the result came from the cache.
    pub cached: bool,
}

/// The flow's programs for a family: synthesis, place and route, packing.
fn programs(family: Family) -> [Tool; 3] {
    match family {
        Family::Ice40 => [Tool::Yosys, Tool::NextpnrIce40, Tool::Icepack],
        Family::Ecp5 => [Tool::Yosys, Tool::NextpnrEcp5, Tool::Ecppack],
    }
}

/// Runs the flow on `cfg`'s chip (or takes its result from the cache), calling `progress` with
/// the name of each step as it starts.
pub fn synthesize(
    cfg: &HwConfig,
    options: &Options,
    progress: &mut dyn FnMut(&str),
) -> Result<Synthesized, FlowError> {
    let device = options.board.map_or(options.device, |b| b.board.device());
    let available = device.family.placers();
    if !available.contains(&options.placer) {
        return Err(FlowError::Placer {
            placer: options.placer,
            device: device.name,
            available,
        });
    }
    let mut clock = options.clock_mhz.unwrap_or(device.default_clock_mhz);
    let cells = device.family.cells();
    let (design, board) = match options.board {
        None => (rtl_gen::generate_fpga(cfg, cells)?, None),
        Some(OnBoard { board, baud }) => {
            let top = board.top(clock, baud)?;
            // nextpnr times the clock the PLL makes, not the one asked for.
            clock = top.clock_mhz();
            let design = rtl_gen::generate_board(cfg, &top, cells)?;
            let report = BoardReport {
                name: board.name.into(),
                oscillator_mhz: board.oscillator_mhz,
                clock_mhz: clock,
                baud,
            };
            (design, Some((board, report)))
        }
    };
    let pins = board
        .as_ref()
        .map(|(b, _)| (b.pin_file_name(), b.pin_file()));
    let tools = programs(device.family);
    let mut paths = Vec::new();
    let mut versions = Vec::new();
    for tool in tools {
        let path = tool.locate()?;
        versions.push(tool.version(&path)?);
        paths.push(path);
    }

    let mut hasher = Sha256::new();
    hasher.update(format!("flow {FLOW_VERSION}\n"));
    for f in design.verilog_files() {
        hasher.update(format!("{} {}\n", f.name, f.text.len()));
        hasher.update(&f.text);
    }
    hasher.update(format!(
        "{} {:?} {clock} {} {} {}\n",
        device.name,
        device.nextpnr_args,
        options.placer.name(),
        options.seed,
        synth_script(&[], device.family, cfg, design.top)
    ));
    if let Some((name, text)) = &pins {
        hasher.update(format!("{name} {}\n", text.len()));
        hasher.update(text);
    }
    for v in &versions {
        hasher.update(format!("{v}\n"));
    }
    let key: String = hasher.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    // The config's name only labels the entry (the key identifies it): kept to characters
    // that are safe in a file name.
    let name: String = cfg
        .name
        .as_deref()
        .unwrap_or("unnamed")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .take(40)
        .collect();
    let entry = options.cache_root.join("synth").join(format!(
        "{}-{name}-{key}",
        board.as_ref().map_or(device.name, |(b, _)| b.name)
    ));

    let flow = Flow {
        cfg,
        device,
        clock,
        placer: options.placer,
        seed: options.seed,
        design: &design,
        pins: pins.as_ref(),
        board: board.map(|(_, r)| r),
        tools,
        paths: &paths,
        versions: &versions,
    };
    let mut failure = None;
    let outcome = dircache::cached(&entry, |dir| {
        flow.run(dir, progress).map_err(|e| {
            let text = e.to_string();
            failure = Some(e);
            text
        })
    });
    let outcome = match (outcome, failure) {
        (Ok(o), _) => o,
        (Err(_), Some(e)) => return Err(e),
        (Err(e), None) => return Err(FlowError::Cache(e)),
    };
    let text = std::fs::read_to_string(entry.join(REPORT))
        .map_err(|e| FlowError::Cache(format!("{}: {e}", entry.display())))?;
    let report = serde_json::from_str(&text)
        .map_err(|e| FlowError::Cache(format!("{}: {e}", entry.display())))?;
    Ok(Synthesized {
        report,
        entry,
        cached: outcome == dircache::Outcome::Hit,
    })
}

/// The Yosys commands that read `files` and synthesize `top` of `cfg`'s chip for `family`;
/// the caller adds the command that writes its output.
fn synth_script(files: &[String], family: Family, cfg: &HwConfig, top: &str) -> String {
    format!(
        "read_verilog {}\n{}",
        files.join(" "),
        family.synthesis(cfg, top)
    )
}

/// The last lines of a failed tool's log, for the error.
fn log_tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

const REPORT: &str = "report.json";
const NETLIST: &str = "netlist.json";

/// One run of the flow.
struct Flow<'a> {
    cfg: &'a HwConfig,
    device: Device,
    clock: f64,
    placer: Placer,
    seed: u32,
    design: &'a rtl_gen::Design,
    /// The board's pin file, its name and text.
    pins: Option<&'a (String, String)>,
    board: Option<BoardReport>,
    tools: [Tool; 3],
    paths: &'a [PathBuf],
    versions: &'a [String],
}

impl Flow<'_> {
    /// Runs every step in `dir` and writes the report there. A design that does not fit is a
    /// result (the report says so), not an error.
    fn run(&self, dir: &Path, progress: &mut dyn FnMut(&str)) -> Result<(), FlowError> {
        let [yosys, nextpnr, packer] = self.tools;
        let io = |e: std::io::Error| FlowError::Cache(format!("{}: {e}", dir.display()));
        let src = dir.join("src");
        self.design.write_to(&src)?;
        let files: Vec<String> = self
            .design
            .verilog_files()
            .map(|f| format!("src/{}", f.name))
            .collect();
        let mut steps = Vec::new();

        progress(&format!(
            "yosys: synthesis of {} for the {}",
            self.design.top, self.device.name
        ));
        let script = format!(
            "{}\nwrite_json {NETLIST}\n",
            synth_script(&files, self.device.family, self.cfg, self.design.top)
        );
        std::fs::write(dir.join("synth.ys"), script).map_err(io)?;
        let args = ["-q", "-l", "yosys.log", "-s", "synth.ys"].map(String::from);
        steps.push(self.step(yosys, &self.paths[0], &args, dir, "yosys.log")?);

        progress(&format!(
            "{}: place and route on the {} at {} MHz",
            nextpnr.program(),
            self.device.name,
            self.clock
        ));
        let (placed_flag, placed) = self.device.family.placed();
        let bitstream = self.device.family.bitstream();
        let mut args: Vec<String> = self
            .device
            .nextpnr_args
            .iter()
            .map(|s| s.to_string())
            .collect();
        args.extend(
            [
                "--json",
                NETLIST,
                placed_flag,
                placed,
                "--report",
                "timing.json",
                "--timing-allow-fail",
                "-q",
                "-l",
                "nextpnr.log",
            ]
            .map(String::from),
        );
        if let Some((name, text)) = self.pins {
            std::fs::write(dir.join(name), text).map_err(io)?;
            args.extend([self.device.family.pin_file_flag().into(), name.clone()]);
        }
        args.extend(["--freq".into(), self.clock.to_string()]);
        args.extend(["--placer".into(), self.placer.name().into()]);
        args.extend(["--seed".into(), self.seed.to_string()]);
        let started = Instant::now();
        let routed = self.step(nextpnr, &self.paths[1], &args, dir, "nextpnr.log");
        let log = std::fs::read_to_string(dir.join("nextpnr.log")).unwrap_or_default();
        let utilisation = report::utilisation(&log);
        let fits = !utilisation.is_empty() && utilisation.iter().all(|r| r.used <= r.available);
        let mut report = Report {
            config_name: self.cfg.name.clone().unwrap_or_else(|| "unnamed".into()),
            config_hash: self.cfg.hash().to_string(),
            device: self.device.name.into(),
            part: self.device.part.into(),
            requested_mhz: self.clock,
            placer: self.placer,
            seed: self.seed,
            board: self.board.clone(),
            utilisation,
            fits,
            fmax_mhz: None,
            critical_path: None,
            untimed_domains: Vec::new(),
            steps: Vec::new(),
            tools: self.versions.to_vec(),
            bitstream: None,
        };
        match routed {
            Ok(step) => steps.push(step),
            Err(_) if !fits && !report.utilisation.is_empty() => {
                // Not fitting ends nextpnr with an error; the report says why.
                steps.push(Step {
                    name: nextpnr.program().into(),
                    seconds: started.elapsed().as_secs_f64(),
                });
            }
            Err(e) => return Err(e),
        }
        if fits {
            let timing = std::fs::read_to_string(dir.join("timing.json")).map_err(io)?;
            let timing = report::timing(&timing).map_err(FlowError::Cache)?;
            report.fmax_mhz = timing.fmax_mhz;
            report.critical_path = timing.critical_path;
            report.untimed_domains = timing.untimed_domains;

            progress(&format!("{}: the bitstream", packer.program()));
            let args = [placed, bitstream].map(String::from);
            steps.push(self.step(packer, &self.paths[2], &args, dir, "")?);
            report.bitstream = Some(bitstream.into());
            std::fs::remove_file(dir.join(placed)).map_err(io)?;
        }
        // The netlist is tens of megabytes and is rebuilt in minutes: not worth keeping.
        std::fs::remove_file(dir.join(NETLIST)).map_err(io)?;
        report.steps = steps;
        let text = serde_json::to_string_pretty(&report).expect("a report serializes");
        std::fs::write(dir.join(REPORT), text).map_err(io)?;
        Ok(())
    }

    /// Runs `tool` in `dir`, timed; on failure the error quotes the end of `log` (or of its
    /// output, for a tool without a log file) and names a copy of it that outlives `dir`.
    fn step(
        &self,
        tool: Tool,
        path: &Path,
        args: &[String],
        dir: &Path,
        log: &str,
    ) -> Result<Step, FlowError> {
        let started = Instant::now();
        let out = Command::new(path)
            .args(args)
            .current_dir(dir)
            .output()
            .map_err(|e| FlowError::Run {
                tool,
                why: e.to_string(),
            })?;
        if !out.status.success() {
            let text = if log.is_empty() {
                String::from_utf8_lossy(&out.stderr).into_owned()
            } else {
                std::fs::read_to_string(dir.join(log)).unwrap_or_default()
            };
            let tail = log_tail(&text);
            // The build directory goes with the failed build: the whole log is kept beside
            // it, as `<entry>.<tool>.log`.
            let entry = dir.file_stem().unwrap_or_default().to_string_lossy();
            let kept = dir.with_file_name(format!("{entry}.{}.log", tool.program()));
            let log = match std::fs::write(&kept, &text) {
                Ok(()) => kept.display().to_string(),
                Err(e) => format!("not kept: {e}"),
            };
            return Err(FlowError::Failed { tool, log, tail });
        }
        Ok(Step {
            name: tool.program().into(),
            seconds: started.elapsed().as_secs_f64(),
        })
    }
}
