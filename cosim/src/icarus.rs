//! The second simulator: Icarus Verilog runs the generated RTL under `testbench/tb_host.v`,
//! driven by host-port commands from a file, so a program's results can be checked against
//! the golden model (and, with the Verilator harness, three ways).

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use isa::{HwConfig, MemImage, Program};
use rtl_gen::ctx::Ctx;
use rtl_gen::Design;

use crate::host::{HostOp, HostPort};
use crate::probe::Probes;
use crate::{Backend, RtlRun, SimError, Wave};

const TESTBENCH: &str = include_str!("../../testbench/tb_host.v");
/// The test bench's command memory (its `MaxCmds`).
const MAX_COMMANDS: usize = 1 << 20;
/// The most cycles the test bench counts (a 32-bit signed integer, less one).
const ICARUS_MAX_CYCLES: u64 = (1 << 31) - 2;

fn vvp_args(wave: Option<&Wave>) -> Result<Vec<String>, SimError> {
    let mut args = vec!["-n".to_string(), "model.vvp".to_string()];
    if let Some(w) = wave {
        // vvp runs in its own directory: the file must be named absolutely.
        let path = std::path::absolute(&w.path)?;
        // FST unless the file is named .vcd.
        if path.extension().is_none_or(|e| e != "vcd") {
            args.push("-fst".into());
        }
        args.push(format!("+wave={}", path.display()));
        // The bench counts cycles in 32-bit integers.
        args.push(format!("+wave_from={}", w.from.min(ICARUS_MAX_CYCLES)));
        args.push(format!("+wave_to={}", w.to.min(ICARUS_MAX_CYCLES)));
    }
    Ok(args)
}

/// A design compiled for Icarus, in its own directory.
pub struct Icarus {
    dir: tempfile::TempDir,
    cfg: HwConfig,
    probes: Probes,
}

fn tool(name: &'static str, args: &[String], dir: &Path) -> Result<String, SimError> {
    let out = Command::new(name)
        .args(args)
        .current_dir(dir)
        .output()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => SimError::Missing {
                tool: name,
                package: "iverilog",
            },
            _ => SimError::Io(e),
        })?;
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    if out.status.success() {
        Ok(text)
    } else {
        Err(SimError::Failed {
            tool: name,
            output: text,
        })
    }
}

impl Icarus {
    /// Writes `design` and the test bench and compiles them.
    pub fn compile(design: &Design) -> Result<Self, SimError> {
        Self::compile_with(design, &[], &[])
    }

    /// [`Icarus::compile`], with `libraries` (such as a vendor's simulation models of the
    /// primitives a netlist instantiates) compiled beside the design, and macros `defines`.
    pub fn compile_with(
        design: &Design,
        libraries: &[std::path::PathBuf],
        defines: &[&str],
    ) -> Result<Self, SimError> {
        let dir = tempfile::tempdir()?;
        design.write_to(dir.path())?;
        std::fs::write(dir.path().join("tb_host.v"), TESTBENCH)?;
        let probes = Probes::new(design);
        std::fs::write(dir.path().join("trace_monitor.vh"), probes.verilog())?;
        let ctx = Ctx::new(&design.config);
        let mut args: Vec<String> = vec![
            "-g2005".into(),
            "-s".into(),
            "tb_host".into(),
            "-o".into(),
            "model.vvp".into(),
            format!("-Ptb_host.AddrBits={}", ctx.host_addr_bits),
            format!("-Ptb_host.ChipBits={}", ctx.chip_bits),
            "-DTRACE".into(),
            "-I.".into(),
        ];
        if ctx.multi_chip() {
            args.push("-DSYSTEM".into());
        }
        args.extend(defines.iter().map(|d| format!("-D{d}")));
        args.extend(design.verilog_files().map(|f| f.name.clone()));
        args.extend(libraries.iter().map(|l| l.display().to_string()));
        args.push("tb_host.v".into());
        tool("iverilog", &args, dir.path())?;
        Ok(Icarus {
            dir,
            cfg: design.config.clone(),
            probes,
        })
    }

    /// Runs host operations; returns the words read, in order, and the cycles simulated.
    pub fn drive(&self, ops: &[HostOp]) -> Result<(Vec<u32>, u64), SimError> {
        self.drive_with_wave(ops, None)
    }

    /// [`Icarus::drive`], dumping a waveform (FST, or VCD if named `.vcd`) of the run's
    /// program cycles `wave.from..=wave.to` into `wave.path`.
    pub fn drive_with_wave(
        &self,
        ops: &[HostOp],
        wave: Option<&Wave>,
    ) -> Result<(Vec<u32>, u64), SimError> {
        if ops.len() >= MAX_COMMANDS {
            return Err(SimError::Unsupported(format!(
                "this config needs {} host operations to load and read back, more than the \
                 Icarus bench's {MAX_COMMANDS}: use Verilator",
                ops.len()
            )));
        }
        if let Some(budget) = ops.iter().find_map(|op| match op {
            HostOp::Run { budget } => Some(*budget),
            _ => None,
        }) {
            if budget > ICARUS_MAX_CYCLES {
                return Err(SimError::Unsupported(format!(
                    "the Icarus bench counts at most {ICARUS_MAX_CYCLES} cycles; the budget is \
                     {budget}: use Verilator for longer runs"
                )));
            }
        }
        let mut cmds = String::new();
        for op in ops {
            let (kind, chip, addr, data): (u64, u32, u32, u64) = match *op {
                HostOp::Write { chip, addr, data } => (0, chip, addr, data as u64),
                HostOp::Read { chip, addr } => (1, chip, addr, 0),
                HostOp::Run { budget } => (2, 0, 0, budget),
                HostOp::Idle(n) => (3, 0, 0, n as u64),
            };
            let word = kind << 60 | (chip as u64) << 52 | (addr as u64) << 32 | data;
            writeln!(cmds, "{word:016x}").unwrap();
        }
        writeln!(cmds, "{:016x}", 0xfu64 << 60).unwrap();
        std::fs::write(self.dir.path().join("cmds.hex"), cmds)?;
        tool("vvp", &vvp_args(wave)?, self.dir.path())?;
        let dump = std::fs::read_to_string(self.dir.path().join("dump.txt"))?;
        let mut words = Vec::new();
        let mut cycles: u64 = ops
            .iter()
            .map(|op| match op {
                HostOp::Write { .. } | HostOp::Read { .. } => 1,
                HostOp::Idle(n) => *n as u64,
                HostOp::Run { .. } => 0,
            })
            .sum();
        for (i, line) in dump.lines().enumerate() {
            let bad = || SimError::Output(format!("dump.txt line {}: {line:?}", i + 1));
            match line.split_once(' ') {
                Some(("r", hex)) => words.push(u32::from_str_radix(hex, 16).map_err(|_| bad())?),
                Some(("halted", n)) => cycles += n.parse::<u64>().map_err(|_| bad())?,
                _ if line == "budget" => {
                    let budget = ops
                        .iter()
                        .find_map(|op| match op {
                            HostOp::Run { budget } => Some(*budget),
                            _ => None,
                        })
                        .unwrap_or(0);
                    return Err(SimError::OverBudget { budget });
                }
                _ => return Err(bad()),
            }
        }
        Ok((words, cycles))
    }
}

impl Backend for Icarus {
    fn name(&self) -> &'static str {
        "icarus"
    }

    fn config(&self) -> &HwConfig {
        &self.cfg
    }

    /// Loads `program` and `image`, runs to halt (at most `budget` cycles) and reads
    /// everything back, with the trace of the run and, if asked, a waveform (FST, or VCD if
    /// the file is named `.vcd`).
    fn run(
        &mut self,
        program: &Program,
        image: &MemImage,
        budget: u64,
        wave: Option<&Wave>,
    ) -> Result<RtlRun, SimError> {
        let host = HostPort::new(&self.cfg);
        let (words, cycles) = self.drive_with_wave(&host.session(program, image, budget)?, wave)?;
        let text = std::fs::read_to_string(self.dir.path().join("trace.txt"))?;
        let trace = self
            .probes
            .decode_text(&text)
            .map_err(|e| SimError::Output(format!("trace.txt {e}")))?;
        host.finish(&words, trace, cycles)
    }
}
