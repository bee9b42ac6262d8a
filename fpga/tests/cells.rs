//! The hand-written cells of `hdl/`: every vendor version computes what its portable model
//! computes, cycle for cycle, on the vendor's own simulation model (Yosys's `cells_sim.v`
//! under Icarus Verilog), and both compute the products this file computes. A missing tool
//! fails the test with the command that installs it.

use std::path::Path;
use std::process::Command;

use fpga::{Family, Tool};
use rtl_gen::cells::{self, Cells};

/// Drives `mtn_mul8x8x2` through every pair of int8 operands in each half (the high half sees
/// `(i % 256, i / 256)`, the low `(i / 256, !i % 256)`), with resets before and mid-way, and
/// prints `rst_n a b p` in hex each cycle, just before the clock edge.
const MUL8X8X2_BENCH: &str = "
module bench;
  reg clk = 1'b0, rst_n = 1'b0;
  reg [15:0] a = 16'd0, b = 16'd0;
  wire [31:0] p;
  integer i;
  mtn_mul8x8x2 dut (.clk_i(clk), .rst_ni(rst_n), .a_i(a), .b_i(b), .p_o(p));
  always #5 clk = !clk;
  initial begin
    for (i = 0; i < 65536 + 8; i = i + 1) begin
      #4 $display(\"%h %h %h %h\", rst_n, a, b, p);
      #6 ;
      rst_n = !(i < 2 || (i >= 30000 && i < 30003));
      a = {i[7:0], i[15:8]};
      b = {i[15:8], ~i[7:0]};
    end
    $finish;
  end
endmodule
";

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

/// The bench's lines on `cells`' version of the cell, with the vendor's models if it has any.
fn simulate(cells: Cells, dir: &Path) -> String {
    let name = format!("{cells:?}").to_lowercase();
    let cell = format!("{name}.v");
    std::fs::write(dir.join(&cell), cells::mul8x8x2(cells).verbatim.unwrap()).unwrap();
    let mut args = vec!["-o".to_string(), name.clone(), "bench.v".into(), cell];
    if cells == Cells::Ice40 {
        let yosys = Tool::Yosys.locate().unwrap_or_else(|e| panic!("{e}"));
        let models = fpga::simulation_models(&yosys, Family::Ice40).unwrap();
        // The models' default port values are SystemVerilog; Icarus reads them without.
        args.push("-DNO_ICE40_DEFAULT_ASSIGNMENTS".into());
        args.push(models.display().to_string());
    }
    run(Tool::Iverilog, &args, dir);
    run(Tool::Vvp, &["-n".into(), name], dir)
}

#[test]
fn the_ice40_dual_8x8_multiplier_equals_its_portable_model_and_the_products() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bench.v"), MUL8X8X2_BENCH).unwrap();
    let portable = simulate(Cells::Portable, dir.path());
    let ice40 = simulate(Cells::Ice40, dir.path());

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
    assert_eq!(rows.len(), 65536 + 8);
    let product = |a: u32, b: u32| ((a as u8 as i8 as i16) * (b as u8 as i8 as i16)) as u16;
    let mut checked = 0;
    for (c, &[rst_n, _, _, p]) in rows.iter().enumerate() {
        if rst_n == 0 || c < 2 || rows[c - 1][0] == 0 || rows[c - 2][0] == 0 {
            // In reset, or within two cycles of it: the registers hold zeros.
            if rst_n == 0 {
                assert_eq!(p, 0, "cycle {c}: in reset");
            }
            continue;
        }
        let [_, a, b, _] = rows[c - 2];
        let want = (product(a >> 8, b >> 8) as u32) << 16 | product(a & 0xff, b & 0xff) as u32;
        assert_eq!(p, want, "cycle {c}: a {a:04x} b {b:04x} two cycles before");
        checked += 1;
    }
    assert!(checked > 65530, "{checked}");
    assert!(
        portable == ice40,
        "the SB_MAC16 version differs from the portable model at cycle {}",
        portable
            .lines()
            .zip(ice40.lines())
            .position(|(x, y)| x != y)
            .unwrap_or(0)
    );
}
