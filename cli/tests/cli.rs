//! The `metronome` binary end to end: files in, files and messages out.

use std::path::Path;

use assert_cmd::Command;

fn metronome() -> Command {
    Command::cargo_bin("metronome").unwrap()
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

fn stdout(cmd: &mut Command) -> String {
    let out = cmd.assert().success().get_output().stdout.clone();
    String::from_utf8(out).unwrap()
}

fn stderr_of_failure(cmd: &mut Command) -> String {
    let out = cmd.assert().failure().get_output().stderr.clone();
    String::from_utf8(out).unwrap()
}

const PROGRAM: &str = "\
# one tile: LDW, MMA, RQ (tiny: N = 4)
+0  ldw src=sram0[0]
+1  mma src=sram1[0] dst=acc0[0] count=8 swap
+9  rq src=acc0[0] dst=sram2[0] count=8 param=0
+12 ctl.halt
";

#[test]
fn asm_disasm_round_trip_through_files() {
    let dir = tempfile::tempdir().unwrap();
    let src = write(dir.path(), "p.s", PROGRAM);
    let bin = dir.path().join("p.mtp").display().to_string();
    metronome()
        .args(["asm", &src, "-o", &bin, "--preset", "tiny"])
        .assert()
        .success();
    let text = stdout(metronome().args(["disasm", &bin, "--preset", "tiny"]));
    assert!(
        text.starts_with("+0 ldw src=sram0[0]\n+1 mma src=sram1[0] dst=acc0[0] count=8 swap\n"),
        "{text}"
    );
    // A program file for another config is refused with both hashes named.
    let err = stderr_of_failure(metronome().args(["disasm", &bin, "--preset", "small"]));
    assert!(err.contains("was built for config"), "{err}");
}

#[test]
fn verify_reports_violations_with_source_lines() {
    let dir = tempfile::tempdir().unwrap();
    let bad = PROGRAM.replace("+9  rq", "+8  rq");
    let src = write(dir.path(), "bad.s", &bad);
    let err = stderr_of_failure(metronome().args(["verify", &src, "--preset", "tiny"]));
    assert!(
        err.contains("chip 0 instruction 2 (line 4) cycle 9: read-after-write [chip 0 acc0[0]]"),
        "{err}"
    );
    let out = metronome()
        .args(["verify", &src, "--preset", "tiny", "--json"])
        .assert()
        .failure()
        .get_output()
        .stdout
        .clone();
    let json: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(json["ok"], false);
    assert_eq!(json["violations"][0]["line"], 4);
    assert_eq!(json["violations"][0]["rule"], "read-after-write");
    let good = write(dir.path(), "good.s", PROGRAM);
    let out = stdout(metronome().args(["verify", &good, "--preset", "tiny", "--timeline"]));
    assert!(
        out.contains("OK: 4 instructions on 1 chip(s), 23 cycles"),
        "{out}"
    );
}

#[test]
fn exec_reads_and_writes_memory_images() {
    let dir = tempfile::tempdir().unwrap();
    let src = write(
        dir.path(),
        "p.s",
        "+0 vop.add a=sram0[0] b=imm imm=1 dst=sram1[3]\n+5 ctl.halt\n",
    );
    let img = dir.path().join("in.mtm").display().to_string();
    let out_img = dir.path().join("out.mtm").display().to_string();
    metronome()
        .args([
            "mem", "random", "-o", &img, "--seed", "5", "--preset", "tiny",
        ])
        .assert()
        .success();
    let shown = stdout(metronome().args(["mem", "show", &img, "--preset", "tiny"]));
    let first: Vec<i64> = shown
        .lines()
        .find_map(|l| l.strip_prefix("chip 0 sram0[0]: "))
        .unwrap()
        .split(' ')
        .map(|x| x.parse().unwrap())
        .collect();
    let json = stdout(metronome().args([
        "exec", &src, "--mem", &img, "-o", &out_img, "--preset", "tiny", "--json",
    ]));
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(json["cycles"], 6);
    assert_eq!(json["chips"][0]["units"]["vector"], 1);
    let after = stdout(metronome().args(["mem", "show", &out_img, "--preset", "tiny"]));
    let row: Vec<i64> = after
        .lines()
        .find_map(|l| l.strip_prefix("chip 0 sram1[3]: "))
        .unwrap()
        .split(' ')
        .map(|x| x.parse().unwrap())
        .collect();
    let expected: Vec<i64> = first.iter().map(|v| (v + 1).min(127)).collect();
    assert_eq!(row, expected);
    // An image for another config is refused.
    let err = stderr_of_failure(metronome().args(["exec", &src, "--mem", &img]));
    assert!(err.contains("memory image was made for config"), "{err}");
}

#[test]
fn cycle_budget_and_bad_inputs_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let src = write(dir.path(), "p.s", PROGRAM);
    let err = stderr_of_failure(metronome().args([
        "exec",
        &src,
        "--preset",
        "tiny",
        "--max-cycles",
        "20",
    ]));
    assert!(
        err.contains("needs 23 cycles, over the budget of 20"),
        "{err}"
    );
    let typo = write(
        dir.path(),
        "typo.s",
        "ctl.nop\nmma src=sram0[0] dst=acc0[0] cont=2\n",
    );
    let err = stderr_of_failure(metronome().args(["exec", &typo]));
    assert!(
        err.contains("line 2, column 30: `mma` has no field `cont`"),
        "{err}"
    );
    let junk = dir.path().join("junk.mtm");
    std::fs::write(&junk, b"MTNM\x01").unwrap();
    let err = stderr_of_failure(metronome().args([
        "exec",
        &src,
        "--preset",
        "tiny",
        "--mem",
        junk.to_str().unwrap(),
    ]));
    assert!(err.contains("truncated"), "{err}");
    let err = stderr_of_failure(metronome().args(["exec", "/nonexistent.s"]));
    assert!(err.contains("cannot read program /nonexistent.s"), "{err}");
    let err = stderr_of_failure(metronome().args(["run", "--preset", "huge"]));
    assert!(err.contains("unknown preset `huge`"), "{err}");
}

/// A config may leave units out: `config check` lists them, and a program that needs one
/// is refused with the unit and the setting named.
#[test]
fn a_program_needing_a_unit_the_config_leaves_out_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let tiny = stdout(metronome().args(["config", "show", "--preset", "tiny"]));
    let lean = tiny.replace(
        "lut_tables = 2",
        "lut_tables = 0\nomit = [\"perm\", \"vop\"]",
    );
    let config = write(dir.path(), "lean.toml", &lean);
    let out = stdout(metronome().args(["config", "check", &config]));
    assert!(out.contains("left out: vector unit's lane ALU (chip.omit lists \"vop\"), lookup tables (chip.lut_tables = 0), permute unit"), "{out}");
    let program = PROGRAM.replace(
        "+12 ctl.halt",
        "+1  perm.rotate src=sram0[0] dst=sram3[0] amount=1\n+12 ctl.halt",
    );
    let src = write(dir.path(), "perm.s", &program);
    let err = stderr_of_failure(metronome().args(["verify", &src, "--config", &config]));
    assert!(
        err.contains(
            "chip 0 instruction 3 (line 5) cycle 11: missing-unit [permute unit]: perm.rotate \
             needs the permute unit, which this config leaves out (chip.omit lists \"perm\")"
        ),
        "{err}"
    );
    // The program without it runs on that config.
    let good = write(dir.path(), "good.s", PROGRAM);
    stdout(metronome().args(["verify", &good, "--config", &config]));
}

#[test]
fn config_check_names_the_bad_field() {
    let dir = tempfile::tempdir().unwrap();
    let good = stdout(metronome().args(["config", "show", "--preset", "tiny"]));
    let path = write(dir.path(), "good.toml", &good);
    let out = stdout(metronome().args(["config", "check", &path]));
    assert!(out.contains("valid"), "{out}");
    let bad = write(
        dir.path(),
        "bad.toml",
        &good.replace("sram_banks = 4", "sram_banks = 0"),
    );
    let err = stderr_of_failure(metronome().args(["config", "check", &bad]));
    assert!(
        err.contains("`chip.sram_banks` = 0: must be in 1..=64"),
        "{err}"
    );
}

#[test]
fn the_main_job_is_bit_exact_and_accurate_on_tiny_small_and_the_up5k_chip() {
    // up5k: two lanes, only the units the MLP needs (LDW, MMA, RQ, CTL), a vector unit
    // computing one lane a cycle, registered products and instructions read over two cycles.
    for preset in ["tiny", "small", "up5k"] {
        let choice = ["--preset", preset];
        let out = stdout(metronome().args(["run", "--json"]).args(choice));
        let json: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(json["result"], "pass", "{preset}: {json}");
        assert_eq!(json["samples"], 360);
        assert_eq!(json["bit_exact_samples"], 360, "{preset}");
        let batches = json["batches"].as_array().unwrap();
        assert_eq!(json["batches_matching_golden"], batches.len(), "{preset}");
        for b in batches {
            assert_eq!(b["predicted_cycles"], b["measured_cycles"], "{preset}: {b}");
            assert_eq!(b["mismatches"], 0, "{preset}: {b}");
        }
        let cycles = &json["cycles"];
        assert_eq!(cycles["predicted"], cycles["measured"], "{preset}");
        assert_eq!(cycles["batches_equal"], batches.len(), "{preset}");
        let acc = |key: &str| json["accuracy"][key].as_f64().unwrap();
        assert!(acc("float") > 95.0, "{preset}: {json}");
        assert!(
            (acc("int8_golden") - acc("float")).abs() <= 1.0,
            "{preset}: {json}"
        );
        assert_eq!(acc("rtl"), acc("int8_golden"), "{preset}");
        assert_eq!(
            json["clock"]["source"], "assumed",
            "{preset}: nobody measured 100 MHz"
        );
        let utilization = json["matrix_unit_utilization"].as_f64().unwrap();
        // up5k issues an instruction every other cycle at most (its instructions take two
        // cycles to read), and the MLP at N = 2 is one instruction after another: 46 %.
        let floor = if preset == "up5k" { 0.4 } else { 0.5 };
        assert!(
            utilization > floor && utilization <= 1.0,
            "{preset}: {utilization}"
        );
    }
}

/// The main job through the iCEBreaker's serial line, its board top simulated bit by bit:
/// the host code `board run` uses on a real board.
#[test]
fn board_run_is_bit_exact_over_the_simulated_icebreaker_serial_line() {
    let out = stdout(metronome().args([
        "board",
        "run",
        "--simulate",
        "--board",
        "icebreaker",
        "--preset",
        "up5k",
        "--samples",
        "8",
        "--json",
    ]));
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["result"], "pass", "{json}");
    assert_eq!(json["bit_exact_samples"], 8);
    assert_eq!(json["compared_op_by_op"], false);
    assert_eq!(json["cycles"]["predicted"], json["cycles"]["measured"]);
    assert_eq!(json["clock"]["source"], "board");
    assert_eq!(json["clock"]["mhz"], 30.0);
    assert!(
        json["rtl"].as_str().unwrap().contains("3000000 baud"),
        "{json}"
    );
    let err = stderr_of_failure(metronome().args([
        "board",
        "run",
        "--board",
        "icebreaker",
        "--preset",
        "up5k",
        "--port",
        "/nonexistent/ttyUSB9",
    ]));
    assert!(
        err.contains("cannot open the serial port /nonexistent/ttyUSB9"),
        "{err}"
    );
    let err =
        stderr_of_failure(metronome().args(["board", "run", "--board", "arty", "--simulate"]));
    assert!(
        err.contains("unknown board \"arty\": the boards are icebreaker"),
        "{err}"
    );
}

#[test]
fn the_main_job_refuses_bad_requests() {
    let err = stderr_of_failure(metronome().args(["run", "--batch", "0"]));
    assert!(err.contains("0 is not in 1.."), "{err}");
    let err = stderr_of_failure(metronome().args(["run", "--preset", "tiny", "--samples", "0"]));
    assert!(err.contains("--samples must be in 1..=360"), "{err}");
    let err = stderr_of_failure(metronome().args(["run", "--model", "/nonexistent/model"]));
    assert!(
        err.contains("in the model /nonexistent/model") && err.contains("not a directory"),
        "{err}"
    );
}

#[test]
fn synth_and_run_refuse_unknown_devices_and_systems() {
    let err = stderr_of_failure(metronome().args(["synth", "--device", "xc7a35t"]));
    assert!(
        err.contains("unknown device \"xc7a35t\": the devices are up5k, ecp5-25f"),
        "{err}"
    );
    let err = stderr_of_failure(metronome().args(["run", "--device", "ice40hx8k"]));
    assert!(err.contains("unknown device \"ice40hx8k\""), "{err}");
    let err = stderr_of_failure(metronome().args(["run", "--device", "up5k", "--clock-mhz", "12"]));
    assert!(err.contains("cannot be used with"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let tiny = stdout(metronome().args(["config", "show", "--preset", "tiny"]));
    let ring = tiny
        .replace("chips = 1", "chips = 2")
        .replace("kind = \"single\"", "kind = \"ring\"");
    let config = write(dir.path(), "ring.toml", &ring);
    let err =
        stderr_of_failure(metronome().args(["synth", "--device", "up5k", "--config", &config]));
    assert!(
        err.contains("a system of 2 chips cannot be placed"),
        "{err}"
    );
    let err =
        stderr_of_failure(metronome().args(["synth", "--device", "up5k", "--clock-mhz", "0"]));
    assert!(err.contains("give a clock between 0 and 1000 MHz"), "{err}");
}

#[test]
fn compile_writes_a_program_the_rtl_runs_as_predicted() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("digits");
    let out_arg = out.display().to_string();
    let text = stdout(metronome().args([
        "compile",
        "-o",
        &out_arg,
        "--preset",
        "tiny",
        "--batch",
        "6",
        "--schedule",
    ]));
    assert!(text.contains("mxu.array"), "{text}");
    assert!(text.contains("one character ="), "{text}");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("compiled.json")).unwrap()).unwrap();
    assert_eq!(summary["batch"], 6);
    assert_eq!(summary["samples_in_image"], 6);
    // The annotated listing assembles to the same program.
    let listing = out.join("program.s").display().to_string();
    let bin = dir.path().join("again.mtp").display().to_string();
    metronome()
        .args(["asm", &listing, "-o", &bin, "--preset", "tiny"])
        .assert()
        .success();
    assert_eq!(
        std::fs::read(&bin).unwrap(),
        std::fs::read(out.join("program.mtp")).unwrap()
    );
    let program = out.join("program.mtp").display().to_string();
    let image = out.join("image.mtm").display().to_string();
    let sim = stdout(metronome().args([
        "sim", &program, "--mem", &image, "--preset", "tiny", "--json",
    ]));
    let sim: serde_json::Value = serde_json::from_str(&sim).unwrap();
    assert_eq!(sim["result"], "pass");
    assert_eq!(sim["cycles"]["measured"], summary["cycles"]);
}

#[test]
fn bench_gemm_reaches_90_percent_at_8n() {
    let out =
        stdout(metronome().args(["bench", "gemm", "--preset", "tiny", "--max", "32", "--json"]));
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["products"].as_array().unwrap().len(), 4 * 4 * 4);
    let worst = json["min_utilization_at_8n"]["tiny"].as_f64().unwrap();
    assert!(worst >= 0.9, "{worst}");
}

#[test]
fn gen_writes_one_file_per_module_and_the_descriptor() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("rtl");
    let text = stdout(metronome().args(["gen", "--preset", "tiny", "-o", out.to_str().unwrap()]));
    assert!(text.contains("top module mtn_chip"), "{text}");
    for f in ["mtn_chip.v", "mtn_pe.v", "mtn_seq.v", "metronome.json"] {
        assert!(out.join(f).is_file(), "{f}");
    }
    let json = stdout(metronome().args([
        "gen",
        "--preset",
        "tiny",
        "-o",
        out.to_str().unwrap(),
        "--json",
    ]));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["top"], "mtn_chip");
    assert!(v["files"].as_array().unwrap().len() > 10);
}

#[test]
fn gen_refuses_an_invalid_config_before_writing_anything() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(
        dir.path(),
        "bad.toml",
        "[chip]\nn = 6\nsram_banks = 4\nsram_depth = 256\nacc_banks = 2\nacc_depth = 64\n\
         lut_tables = 2\nparam_depth = 16\nimem_depth = 256\n",
    );
    let out = dir.path().join("rtl");
    let err =
        stderr_of_failure(metronome().args(["gen", "--config", &cfg, "-o", out.to_str().unwrap()]));
    assert!(
        err.contains("chip.n") && err.contains("power of two"),
        "{err}"
    );
    assert!(
        !out.exists(),
        "nothing may be written for an invalid config"
    );
}

const VOP_PROGRAM: &str = "\
+0 vop.add a=acc0[0] b=imm imm=5 dst=acc0[8] count=2
+5 mov src=acc0[8] dst=sram1[0] count=2
+4 ctl.halt
";

#[test]
fn sim_passes_the_example_on_verilator() {
    let dir = tempfile::tempdir().unwrap();
    let mem = dir.path().join("in.mtm").display().to_string();
    metronome()
        .args([
            "mem", "random", "-o", &mem, "--preset", "tiny", "--seed", "5",
        ])
        .assert()
        .success();
    let text = stdout(
        metronome()
            .args([
                "sim",
                "examples/tile.s",
                "--preset",
                "tiny",
                "--mem",
                &mem,
                "--json",
            ])
            .current_dir(env!("CARGO_MANIFEST_DIR").to_string() + "/.."),
    );
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["result"], "pass", "{text}");
    assert_eq!(v["cycles"]["predicted"], v["cycles"]["measured"]);
    assert!(v["rows_written"].as_u64().unwrap() > 0);
}

/// The checker catches a planted bug and names the op, its source line and the cycle.
#[test]
fn sim_names_the_op_and_cycle_of_a_planted_bug() {
    let dir = tempfile::tempdir().unwrap();
    let src = write(dir.path(), "v.s", VOP_PROGRAM);
    let mem = dir.path().join("in.mtm").display().to_string();
    metronome()
        .args([
            "mem", "random", "-o", &mem, "--preset", "tiny", "--seed", "3",
        ])
        .assert()
        .success();
    let out = metronome()
        .args([
            "sim",
            &src,
            "--preset",
            "tiny",
            "--mem",
            &mem,
            "--simulator",
            "icarus",
        ])
        .args(["--inject-fault", "vop-add-bit-flip"])
        .assert()
        .failure()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(text.starts_with("FAIL on icarus"), "{text}");
    // Row 0 of the vop.add (line 1) is written at cycle 4, with lane 1 off by the bit.
    assert!(text.contains("chip 0 instruction 0 (line 1)"), "{text}");
    assert!(text.contains("+0 vop.add"), "{text}");
    assert!(text.contains("cycle 4 (vector): chip 0 acc0[8]"), "{text}");
    // A pipeline built short of isa::timing never reaches the simulator: generation names it.
    let err = stderr_of_failure(metronome().args([
        "sim",
        &src,
        "--preset",
        "tiny",
        "--simulator",
        "icarus",
        "--inject-fault",
        "short-vector-pipeline",
    ]));
    assert!(err.contains("vector unit (vector datapath)"), "{err}");
    // Without the fault the same run passes.
    metronome()
        .args([
            "sim",
            &src,
            "--preset",
            "tiny",
            "--mem",
            &mem,
            "--simulator",
            "icarus",
        ])
        .assert()
        .success();
}

#[test]
fn sim_refuses_what_it_cannot_run() {
    let dir = tempfile::tempdir().unwrap();
    let src = write(dir.path(), "v.s", VOP_PROGRAM);
    // A memory image made for another config.
    let mem = dir.path().join("small.mtm").display().to_string();
    metronome()
        .args(["mem", "random", "-o", &mem, "--preset", "small"])
        .assert()
        .success();
    let err = stderr_of_failure(metronome().args(["sim", &src, "--preset", "tiny", "--mem", &mem]));
    assert!(err.contains("was made for config"), "{err}");
    // A program file assembled for another config.
    let mtp = dir.path().join("v.mtp").display().to_string();
    metronome()
        .args(["asm", &src, "-o", &mtp, "--preset", "small"])
        .assert()
        .success();
    let err = stderr_of_failure(metronome().args(["sim", &mtp, "--preset", "tiny"]));
    assert!(err.contains("was built for config"), "{err}");
    // Over its cycle budget.
    let err =
        stderr_of_failure(metronome().args(["sim", &src, "--preset", "tiny", "--max-cycles", "5"]));
    assert!(err.contains("over the budget of 5"), "{err}");
}

#[test]
fn a_closed_pipe_ends_printing_quietly() {
    use std::io::Read;
    use std::process::Stdio;
    let dir = tempfile::tempdir().unwrap();
    let mem = dir.path().join("big.mtm").display().to_string();
    metronome()
        .args(["mem", "random", "-o", &mem, "--preset", "small"])
        .assert()
        .success();
    // Far more than a pipe holds, read one chunk of, then the reader goes away (`| head`).
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("metronome"))
        .args(["mem", "show", &mem, "--preset", "small"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 256];
    child
        .stdout
        .as_mut()
        .unwrap()
        .read_exact(&mut first)
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.is_empty(), "{stderr}");
    // Ended by SIGPIPE, as `cat` would be; not a panic's exit code.
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(out.status.signal(), Some(libc::SIGPIPE), "{:?}", out.status);
}

#[test]
fn generate_writes_text_a_position_a_step_and_measures_its_quality() {
    // On the golden model (the RTL runs are cosim's tests/decode.rs): the prompt's positions
    // and one per new token but the last, each step's cycles as predicted.
    let out = stdout(metronome().args([
        "generate", "--golden", "--prompt", "The ", "--tokens", "6", "--json",
    ]));
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["text"].as_str().unwrap().chars().count(), 6);
    assert_eq!(report["steps"], 9);
    assert_eq!(report["cycles_equal_steps"], 9);
    assert_eq!(report["config_name"], "lm");
    let ratio = report["roofline"]["ratio"].as_f64().unwrap();
    assert!((1.0..1.5).contains(&ratio), "{ratio}");
    // A seeded temperature repeats itself.
    let sampled = |seed: &str| {
        let out = stdout(metronome().args([
            "generate",
            "--golden",
            "--tokens",
            "12",
            "--temperature",
            "1.0",
            "--seed",
            seed,
            "--json",
        ]));
        serde_json::from_str::<serde_json::Value>(&out).unwrap()["text"].clone()
    };
    assert_eq!(sampled("3"), sampled("3"));

    let out = stdout(metronome().args(["generate", "--eval", "--eval-windows", "2", "--json"]));
    let eval: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(eval["positions"], 256);
    assert!(eval["loss_increase"].as_f64().unwrap() < 0.05, "{eval}");
    assert!(eval["argmax_agreement"].as_f64().unwrap() >= 0.9, "{eval}");

    let err =
        stderr_of_failure(metronome().args(["generate", "--golden", "--prompt", "caf\u{e9}"]));
    assert!(
        err.contains("character 3 ('\u{e9}') is not one of the model's 96 symbols"),
        "{err}"
    );
    let err = stderr_of_failure(metronome().args(["generate", "--golden", "--tokens", "120"]));
    assert!(
        err.contains("need 139 positions; the model's context holds 128"),
        "{err}"
    );
    let charlm = concat!(env!("CARGO_MANIFEST_DIR"), "/../models/charlm");
    let err = stderr_of_failure(metronome().args(["run", "--model", charlm]));
    assert!(
        err.contains(
            "charlm is a token model (metronome-model/2): `metronome generate` decodes it"
        ),
        "{err}"
    );
    let err = stderr_of_failure(metronome().args(["generate", "--golden", "--tokens", "0"]));
    assert!(
        err.contains("at least one token must be generated"),
        "{err}"
    );
    let err = stderr_of_failure(metronome().args(["generate", "--golden", "--preset", "small"]));
    assert!(err.contains("does not fit the chip: SRAM"), "{err}");

    // A batch: two sequences sampled with seeds 0 and 1, a step a token of each, the weight
    // tiles loaded once a step, so the matrix unit does more in each cycle.
    let batch = |b: &str| {
        let out = stdout(metronome().args([
            "generate",
            "--golden",
            "--preset",
            "lm16",
            "--prompt",
            "The ",
            "--tokens",
            "6",
            "--temperature",
            "1.0",
            "--batch",
            b,
            "--json",
        ]));
        serde_json::from_str::<serde_json::Value>(&out).unwrap()
    };
    let (one, two) = (batch("1"), batch("2"));
    assert_eq!(two["batch"], 2);
    assert_eq!(two["texts"][0], one["text"], "sequence 0 as alone");
    assert_eq!(two["texts"][1].as_str().unwrap().chars().count(), 6);
    assert_eq!(two["cycles_equal_steps"], 9);
    let utilization = |r: &serde_json::Value| r["matrix_utilization"].as_f64().unwrap();
    assert!(utilization(&two) > 1.5 * utilization(&one), "{two}");
    let err = stderr_of_failure(metronome().args(["generate", "--golden", "--batch", "0"]));
    assert!(
        err.contains("a batch of 0 sequences: the decoder takes 1 to 64"),
        "{err}"
    );
}

#[test]
fn a_system_config_splits_the_model_and_bench_scale_compares_systems() {
    let dir = tempfile::tempdir().unwrap();
    let tiny = stdout(metronome().args(["config", "show", "--preset", "tiny"]));
    let ring = tiny
        .replace("chips = 1", "chips = 2")
        .replace("kind = \"single\"", "kind = \"ring\"");
    let config = write(dir.path(), "ring.toml", &ring);
    let out = dir.path().join("split");
    let out_arg = out.display().to_string();
    let text = stdout(metronome().args([
        "compile",
        "-o",
        &out_arg,
        "--config",
        &config,
        "--batch",
        "3",
        "--schedule",
    ]));
    assert!(text.contains("chip 1"), "{text}");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("compiled.json")).unwrap()).unwrap();
    assert_eq!(summary["chips"], 2);
    // The listing, a `.chip` section a chip, assembles to the same program.
    let listing = out.join("program.s").display().to_string();
    let bin = dir.path().join("again.mtp").display().to_string();
    metronome()
        .args(["asm", &listing, "-o", &bin, "--config", &config])
        .assert()
        .success();
    assert_eq!(
        std::fs::read(&bin).unwrap(),
        std::fs::read(out.join("program.mtp")).unwrap()
    );

    let out = stdout(metronome().args(["bench", "scale", "--chips", "1,2,4", "--json"]));
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["model"], "digits-wide");
    let systems = json["systems"].as_array().unwrap();
    assert_eq!(
        systems[0]["fits"], false,
        "one small chip holds digits-wide"
    );
    let why = systems[0]["why"].as_str().unwrap();
    assert!(
        why.starts_with("instruction memory: the program has"),
        "{why}"
    );
    assert_eq!(json["speedup_over_chips"], 2);
    let speedup = systems[2]["speedup"].as_f64().unwrap();
    assert!(speedup > 1.5, "4 chips over 2: {speedup}");

    let err = stderr_of_failure(metronome().args(["bench", "scale", "--topology", "torus"]));
    assert!(err.contains("one of ring, mesh, dragonfly"), "{err}");
    let err = stderr_of_failure(metronome().args([
        "bench",
        "scale",
        "--topology",
        "dragonfly",
        "--chips",
        "3",
    ]));
    assert!(err.contains("an even number of chips"), "{err}");
    let err = stderr_of_failure(metronome().args(["bench", "scale", "--config", &config]));
    assert!(err.contains("give one chip's config"), "{err}");

    // The language model, a token at each of three positions, split over two chips.
    let out = stdout(metronome().args([
        "bench",
        "scale",
        "--model",
        concat!(env!("CARGO_MANIFEST_DIR"), "/../models/charlm"),
        "--preset",
        "lm",
        "--chips",
        "1,2",
        "--positions",
        "3",
        "--json",
    ]));
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["positions"], serde_json::json!([0, 63, 127]));
    let two = &json["systems"][1];
    assert_eq!(two["chips"], 2);
    let speedup = two["speedup"].as_f64().unwrap();
    assert!(speedup > 1.5, "2 chips over 1: {speedup}");
    assert!(two["cycles_per_token"].as_f64().unwrap() > 0.0);
    // `generate` on a system of two `lm` chips, on the golden model: the same greedy text as
    // on one.
    let lm = stdout(metronome().args(["config", "show", "--preset", "lm"]));
    let lm_ring = lm
        .replace("chips = 1", "chips = 2")
        .replace("kind = \"single\"", "kind = \"ring\"");
    let lm_ring = write(dir.path(), "lm-ring.toml", &lm_ring);
    let text = |args: &[&str]| -> String {
        let mut all = vec!["generate", "--golden", "--tokens", "6", "--json"];
        all.extend_from_slice(args);
        let out: serde_json::Value = serde_json::from_str(&stdout(metronome().args(all))).unwrap();
        out["text"].as_str().unwrap().to_string()
    };
    assert_eq!(text(&["--config", &lm_ring]), text(&["--preset", "lm"]));
}

/// A committed TFLite test model (`tflite/tests/data`).
fn tflite_data(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tflite/tests/data")
        .join(name)
        .display()
        .to_string()
}

#[test]
fn import_writes_a_model_directory_that_runs() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("add").display().to_string();
    let summary = stdout(metronome().args(["import", &tflite_data("add.tflite"), "-o", &out]));
    assert!(summary.contains("add1     quantized_add"), "{summary}");
    assert!(Path::new(&out).join("model.toml").is_file());
    // Not over an existing directory, unless --force.
    let err =
        stderr_of_failure(metronome().args(["import", &tflite_data("add.tflite"), "-o", &out]));
    assert!(
        err.contains("exists; choose another --out or pass --force"),
        "{err}"
    );
    let json = stdout(metronome().args([
        "import",
        &tflite_data("add.tflite"),
        "-o",
        &out,
        "--force",
        "--json",
    ]));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["layers"].as_array().unwrap().len(), 5);
    assert_eq!(v["float_input"], false);
    // The directory and the file run alike on the RTL, and equal TFLite's recorded outputs.
    let inputs = tflite_data("add.inputs.npy");
    let y_dir = dir.path().join("y_dir.npy").display().to_string();
    let y_file = dir.path().join("y_file.npy").display().to_string();
    for (model, y) in [
        (out.as_str(), &y_dir),
        (&tflite_data("add.tflite"), &y_file),
    ] {
        let report = stdout(metronome().args([
            "run", "--preset", "small", "--model", model, "--inputs", &inputs, "--out", y,
        ]));
        assert!(report.contains("64 samples of"), "{report}");
        assert!(
            !report.contains("accuracy"),
            "no labels, no accuracy: {report}"
        );
    }
    let expected = std::fs::read(tflite_data("add.outputs.npy")).unwrap();
    assert_eq!(
        std::fs::read(&y_dir).unwrap(),
        std::fs::read(&y_file).unwrap()
    );
    let read = |bytes: &[u8]| compiler::npy::read(bytes).unwrap();
    assert_eq!(read(&std::fs::read(&y_dir).unwrap()), read(&expected));
}

#[test]
fn run_dequantizes_a_float_models_outputs_as_tflite_does() {
    let dir = tempfile::tempdir().unwrap();
    let y = dir.path().join("y.npy").display().to_string();
    metronome()
        .args(["run", "--preset", "small", "--model"])
        .arg(tflite_data("digits_float_io.tflite"))
        .args(["--inputs", &tflite_data("digits_float_io.inputs.npy")])
        .args(["--out", &y, "--dequantize"])
        .assert()
        .success();
    let got = compiler::npy::read(&std::fs::read(&y).unwrap()).unwrap();
    let want = std::fs::read(tflite_data("digits_float_io.outputs.npy")).unwrap();
    assert_eq!(got, compiler::npy::read(&want).unwrap());
}

#[test]
fn bad_inputs_and_models_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let add = tflite_data("add.tflite");
    // Outputs of the model are not its inputs: 8 values a sample, not 16.
    let err = stderr_of_failure(metronome().args([
        "run",
        "--model",
        &add,
        "--inputs",
        &tflite_data("add.outputs.npy"),
    ]));
    assert!(
        err.contains("has shape [64, 8]; the model takes [samples, 16]"),
        "{err}"
    );
    // An int32 array.
    let npy = dir.path().join("x.npy");
    let array = compiler::npy::Array {
        shape: vec![2, 16],
        data: compiler::npy::Data::I32(vec![0; 32]),
    };
    std::fs::write(&npy, compiler::npy::write(&array)).unwrap();
    let err = stderr_of_failure(
        metronome()
            .args(["run", "--model", &add])
            .arg("--inputs")
            .arg(&npy),
    );
    assert!(
        err.contains("holds int32; int8 (quantized inputs) or float32"),
        "{err}"
    );
    // No test split and no --inputs.
    let err = stderr_of_failure(metronome().args(["run", "--model", &add]));
    assert!(
        err.contains("no test samples to run: pass --inputs X.npy"),
        "{err}"
    );
    // An unsupported operator, a float model, a file that is not a model.
    let err =
        stderr_of_failure(metronome().args(["import", &tflite_data("unsupported_softmax.tflite")]));
    assert!(err.contains("operator 1 (SOFTMAX): not supported"), "{err}");
    let err = stderr_of_failure(metronome().args([
        "compile",
        &tflite_data("float_model.tflite"),
        "-o",
        "x",
    ]));
    assert!(err.contains("this is a float model"), "{err}");
    let err = stderr_of_failure(metronome().args(["import", &tflite_data("add.inputs.npy")]));
    assert!(err.contains("not a TFLite model"), "{err}");
}
