//! Synthesis with Yosys: the check every generated design must pass, and the area report.
//!
//! The flow is Yosys's generic `synth` (coarse passes, then `techmap` and `abc`), with one
//! deviation: memories stay memories (`synth` would turn every SRAM bank into flip-flops with
//! `memory_map`, which no FPGA or ASIC flow does and which takes minutes and gigabytes here).
//! After the coarse passes no latch may exist and `check -assert` must pass.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use crate::{Design, GenError};

/// How far to take a design.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// Read, elaborate, coarse synthesis: no latches, `check -assert`.
    Check,
    /// Also map to 4-input LUTs and count cells per block.
    Report,
}

/// Why Yosys did not finish.
#[derive(Debug, thiserror::Error)]
pub enum YosysError {
    #[error("yosys is not installed: run ./scripts/setup.sh (or `sudo apt-get install -y yosys`)")]
    Missing,
    #[error("yosys failed on {top}:\n{log}")]
    Failed { top: String, log: String },
    #[error(transparent)]
    Gen(#[from] GenError),
    #[error("cannot run yosys: {0}")]
    Io(#[from] std::io::Error),
}

/// One row of the area report: a block (with its submodules), over all its instances.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BlockArea {
    pub module: String,
    /// Nesting under the top, for display.
    pub depth: usize,
    pub instances: u64,
    pub luts: u64,
    pub flip_flops: u64,
    pub multipliers: u64,
    pub memory_bits: u64,
}

/// The blocks the report breaks a design into, with their nesting depth: the system (if any),
/// the chip, every child of `mtn_chip`, and the array and its PEs inside the matrix unit.
const REPORT_BLOCKS: [(&str, usize); 13] = [
    ("mtn_system", 0),
    ("mtn_chip", 0),
    ("mtn_seq", 1),
    ("mtn_mxu", 1),
    ("mtn_array", 2),
    ("mtn_pe", 3),
    ("mtn_vector", 1),
    ("mtn_permute", 1),
    ("mtn_move", 1),
    ("mtn_router", 1),
    ("mtn_memory", 1),
    ("mtn_tables", 1),
    ("mtn_host", 1),
];

/// Runs Yosys on `design`'s files (written into `dir`) and returns the log; with
/// [`Flow::Report`], the area of each block too.
pub fn synthesize(
    design: &Design,
    dir: &Path,
    flow: Flow,
) -> Result<(String, Vec<BlockArea>), YosysError> {
    design.write_to(dir)?;
    let files: Vec<String> = design.verilog_files().map(|f| f.name.clone()).collect();
    let blocks: Vec<(&str, usize)> = REPORT_BLOCKS
        .iter()
        .copied()
        .filter(|(m, _)| design.modules.iter().any(|x| x.name == *m))
        .collect();
    let mut script = format!("read_verilog {}\n", files.join(" "));
    writeln!(script, "hierarchy -check -top {}", design.top).unwrap();
    // No alumacc: multipliers stay $mul cells, so the report can count them.
    writeln!(
        script,
        "synth -top {} -noalumacc -run begin:fine",
        design.top
    )
    .unwrap();
    script.push_str("select -assert-none t:$dlatch t:$adlatch t:$dlatchsr t:$sr\n");
    script.push_str("check -assert\n");
    if flow == Flow::Report {
        for (m, _) in &blocks {
            writeln!(script, "tee -q -o coarse_{m}.txt stat -width -top {m}").unwrap();
        }
        script.push_str("opt -fast -full\ntechmap\nopt -fast\nabc -lut 4 -fast\nopt -fast\n");
        script.push_str("check -assert\n");
        for (m, _) in &blocks {
            writeln!(script, "tee -q -o mapped_{m}.txt stat -top {m}").unwrap();
        }
    }
    std::fs::write(dir.join("flow.ys"), &script)?;
    let output = match Command::new("yosys")
        .args(["-q", "-l", "yosys.log", "-s", "flow.ys"])
        .current_dir(dir)
        .output()
    {
        Ok(o) => o,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(YosysError::Missing),
        Err(e) => return Err(e.into()),
    };
    let log = std::fs::read_to_string(dir.join("yosys.log")).unwrap_or_default();
    if !output.status.success() {
        let tail: Vec<&str> = log.lines().rev().take(30).collect();
        let mut text: Vec<&str> = tail.into_iter().rev().collect();
        let stderr = String::from_utf8_lossy(&output.stderr);
        text.push(&stderr);
        return Err(YosysError::Failed {
            top: design.top.into(),
            log: text.join("\n"),
        });
    }
    if flow == Flow::Check {
        return Ok((log, Vec::new()));
    }
    let instances = crate::instance_counts(&design.modules, design.top);
    let mut rows = Vec::new();
    for (m, depth) in blocks {
        let coarse = std::fs::read_to_string(dir.join(format!("coarse_{m}.txt")))?;
        let mapped = std::fs::read_to_string(dir.join(format!("mapped_{m}.txt")))?;
        let coarse = hierarchy_totals(&coarse);
        let mapped = hierarchy_totals(&mapped);
        let count = instances.get(m).copied().unwrap_or(0);
        let sum = |cells: &[(String, u64)], pick: &dyn Fn(&str) -> Option<u64>| -> u64 {
            cells
                .iter()
                .filter_map(|(t, n)| pick(t).map(|w| w * n))
                .sum()
        };
        rows.push(BlockArea {
            module: m.to_string(),
            depth,
            instances: count,
            luts: count * sum(&mapped, &|t| (t == "$lut").then_some(1)),
            flip_flops: count * sum(&coarse, &|t| flip_flop_width(t)),
            multipliers: count * sum(&coarse, &|t| t.starts_with("$mul").then_some(1)),
            memory_bits: count * crate::memory_bits(&design.modules, m),
        });
    }
    Ok((log, rows))
}

/// Bits of a flip-flop cell type annotated with its width (`$adffe_8`).
fn flip_flop_width(cell: &str) -> Option<u64> {
    let (kind, width) = cell.rsplit_once('_')?;
    let is_ff = matches!(
        kind,
        "$dff" | "$adff" | "$dffe" | "$adffe" | "$sdff" | "$sdffe" | "$sdffce" | "$dffsr"
    );
    if is_ff {
        width.parse().ok()
    } else {
        None
    }
}

/// The cell counts by type of the whole hierarchy in a `stat -top` report: the lines after
/// the `design hierarchy` heading's tree.
fn hierarchy_totals(stat: &str) -> Vec<(String, u64)> {
    let Some(at) = stat.find("=== design hierarchy ===") else {
        return Vec::new();
    };
    let totals = &stat[at..];
    let Some(cells) = totals.find("Number of cells:") else {
        return Vec::new();
    };
    totals[cells..]
        .lines()
        .skip(1)
        .map_while(|line| {
            let mut parts = line.split_whitespace();
            let (kind, count) = (parts.next()?, parts.next()?);
            if !kind.starts_with('$') && !kind.starts_with("mtn_") {
                return None;
            }
            Some((kind.to_string(), count.parse().ok()?))
        })
        .collect()
}

/// The report as a table.
pub fn format_report(rows: &[BlockArea]) -> String {
    let mut out = format!(
        "{:<22} {:>9} {:>9} {:>9} {:>5} {:>11}\n",
        "block", "instances", "LUT4", "FF", "MUL", "memory bits"
    );
    for r in rows {
        let name = format!("{}{}", "  ".repeat(r.depth), r.module);
        writeln!(
            out,
            "{:<22} {:>9} {:>9} {:>9} {:>5} {:>11}",
            name, r.instances, r.luts, r.flip_flops, r.multipliers, r.memory_bits
        )
        .unwrap();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hierarchy_totals_are_read_from_a_stat_report() {
        let stat = "=== mtn_pe ===\n   Number of cells: 2\n     $mul_16 1\n\n\
                    === design hierarchy ===\n\n   mtn_array 1\n     mtn_pe 16\n\n\
                    Number of wires: 10\n   Number of cells: 40\n     $adff_8 32\n     \
                    $mul_16 16\n\n";
        assert_eq!(
            hierarchy_totals(stat),
            vec![("$adff_8".to_string(), 32), ("$mul_16".to_string(), 16)]
        );
        assert_eq!(flip_flop_width("$adffe_12"), Some(12));
        assert_eq!(flip_flop_width("$mul_12"), None);
    }
}
