//! The hand-written cells of `hdl/`: every vendor version computes what its portable model
//! computes, cycle for cycle and through reset, on the vendor's own simulation model (Yosys's
//! `cells_sim.v` under Icarus Verilog), as written and as the flow's Yosys synthesizes it;
//! and the portable model computes the products this file computes. A missing tool fails the
//! test with the command that installs it.

use std::path::Path;
use std::process::Command;

use fpga::{Family, Tool};
use isa::config::PRODUCT_REGISTERS;
use rtl_gen::cells::{Cell, Cells};

/// Cycles of stimulus each bench runs: every pair of bytes once.
const CYCLES: usize = 65536;
/// Cycles the bench runs beyond: the first pairs again (their first time is in the first
/// reset), the last pair's products, a second reset and the cycles after it.
const TAIL: usize = 12;

/// Drives `cell` (every cell has the ports `a_i`, `b_i`, `p_o`) with `stimulus`, a statement
/// that sets `a` and `b` from the cycle `i`, with a reset at the start and another after
/// [`CYCLES`], and prints `rst_n a b p` in hex each cycle, just before the clock edge.
fn bench(cell: Cell, stimulus: &str) -> String {
    format!(
        "module bench;
  reg clk = 1'b0, rst_n = 1'b0;
  reg [15:0] a = 16'd0, b = 16'd0;
  wire [31:0] p;
  integer i;
  integer seed = 1;
  {} dut (.clk_i(clk), .rst_ni(rst_n), .a_i(a), .b_i(b), .p_o(p));
  always #5 clk = !clk;
  initial begin
    for (i = 0; i < {cycles} + {TAIL}; i = i + 1) begin
      #4 $display(\"%h %h %h %h\", rst_n, a, b, p);
      #6 ;
      rst_n = !(i < 2 || (i >= {cycles} + 4 && i < {cycles} + 7));
      {stimulus}
    end
    $finish;
  end
endmodule
",
        cell.name(),
        cycles = CYCLES
    )
}

fn run(tool: Tool, args: &[String], dir: &Path) -> String {
    let path = tool.locate().unwrap_or_else(|e| panic!("{e}"));
    let out = Command::new(&path)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", path.display()));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{} failed:\n{stdout}{}",
        tool.program(),
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// A version of a cell to simulate.
#[derive(Clone, Copy, Debug)]
enum Version {
    Portable,
    /// The iCE40 version as written.
    Ice40,
    /// The iCE40 version as the iCE40 flow's Yosys synthesizes it (for a chip with
    /// registered products, whose cells these are).
    Ice40Netlist,
}

/// The bench's lines on `version` of `cell`, with the vendor's models if it needs them.
fn simulate(cell: Cell, version: Version, dir: &Path) -> String {
    let name = format!("{version:?}").to_lowercase();
    let file = format!("{name}.v");
    let cells = match version {
        Version::Portable => Cells::Portable,
        Version::Ice40 | Version::Ice40Netlist => Cells::Ice40,
    };
    std::fs::write(dir.join(&file), cell.verilog(cells)).unwrap();
    let mut args = vec!["-o".to_string(), name.clone(), "bench.v".into()];
    if let Version::Ice40Netlist = version {
        let mut cfg = isa::HwConfig::preset("tiny").unwrap();
        cfg.chip.registered_products = true;
        let script = format!(
            "read_verilog {file}; {}; write_verilog -noattr netlist_{file}",
            Family::Ice40
                .synthesis(&cfg, cell.name())
                .replace('\n', "; ")
        );
        run(Tool::Yosys, &["-q".into(), "-p".into(), script], dir);
        args.push(format!("netlist_{file}"));
    } else {
        args.push(file);
    }
    if cells == Cells::Ice40 {
        let yosys = Tool::Yosys.locate().unwrap_or_else(|e| panic!("{e}"));
        let models = fpga::simulation_models(&yosys, Family::Ice40).unwrap();
        args.extend(
            Family::Ice40
                .simulation_defines()
                .iter()
                .map(|d| format!("-D{d}")),
        );
        args.push(models.display().to_string());
    }
    run(Tool::Iverilog, &args, dir);
    run(Tool::Vvp, &["-n".into(), name], dir)
}

/// Runs `cell` on both versions and checks every output against `product` of the operands
/// [`PRODUCT_REGISTERS`] cycles before, and zeros in reset; returns how many distinct operand
/// pairs it checked.
fn check(cell: Cell, stimulus: &str, product: impl Fn(u32, u32) -> u32) -> usize {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bench.v"), bench(cell, stimulus)).unwrap();
    let portable = simulate(cell, Version::Portable, dir.path());

    let rows: Vec<[u32; 4]> = portable
        .lines()
        .map(|l| {
            let v: Vec<u32> = l
                .split(' ')
                .map(|x| u32::from_str_radix(x, 16).unwrap_or_else(|_| panic!("{l}")))
                .collect();
            [v[0], v[1], v[2], v[3]]
        })
        .collect();
    assert_eq!(rows.len(), CYCLES + TAIL);
    let delay = PRODUCT_REGISTERS as usize;
    let mut checked = std::collections::HashSet::new();
    for (c, &[rst_n, _, _, p]) in rows.iter().enumerate() {
        if rst_n == 0 {
            assert_eq!(p, 0, "{}: cycle {c}, in reset", cell.name());
        }
        // Within the registers' depth of a reset, they hold its zeros.
        if c < delay || rows[c - delay..=c].iter().any(|r| r[0] == 0) {
            continue;
        }
        let [_, a, b, _] = rows[c - delay];
        assert_eq!(
            p,
            product(a, b),
            "{}: cycle {c}, a {a:04x} b {b:04x} {delay} cycles before",
            cell.name()
        );
        checked.insert((a, b));
    }
    for version in [Version::Ice40, Version::Ice40Netlist] {
        let lines = simulate(cell, version, dir.path());
        assert!(
            lines == portable,
            "{}: {version:?} differs from the portable model at cycle {}",
            cell.name(),
            portable
                .lines()
                .zip(lines.lines())
                .position(|(x, y)| x != y)
                .unwrap_or(0)
        );
    }
    checked.len()
}

/// Every pair of int8 operands in each half, each checked against the product: the high half
/// sees `(i % 256, i / 256)`, the low `(i / 256, !i % 256)`, `i` counting on past 65,535.
#[test]
fn the_ice40_dual_8x8_multiplier_equals_its_portable_model_and_the_products() {
    let int8 = |v: u32| v as u8 as i8 as i16;
    let product = |a: u32, b: u32| (int8(a) * int8(b)) as u16 as u32;
    let pairs = check(
        Cell::Mul8x8x2,
        "a = {i[7:0], i[15:8]}; b = {i[15:8], ~i[7:0]};",
        |a, b| product(a >> 8, b >> 8) << 16 | product(a & 0xff, b & 0xff),
    );
    assert_eq!(pairs, CYCLES);
}

/// Random operands, every 97th cycle the largest.
#[test]
fn the_ice40_16x16_multiplier_equals_its_portable_model_and_the_products() {
    let pairs = check(
        Cell::Mul16x16,
        "a = $random(seed); b = $random(seed); if (i % 97 == 0) a = 16'hffff; \
         if (i % 89 == 0) b = 16'hffff;",
        |a, b| a * b,
    );
    assert!(pairs > CYCLES / 2, "{pairs}");
}
