//! Directed programs for every op on the generated RTL of `tiny` (as scheduled by hand) and
//! `small` (rescheduled), under Verilator and under Icarus Verilog: the trace (every issue, completion and row written, with its cycle), the memories
//! the RTL ends with and its cycle count must equal the golden model's, bit for bit.

use cosim::icarus::Icarus;
use cosim::random::schedule;
use cosim::verilator::Verilated;
use cosim::{Backend, SimError};
use isa::ops::Op;
use isa::{assemble, HwConfig, MemImage, Program, SystemConfig, Topology};

mod common;
use common::deep_vector;

fn tiny() -> HwConfig {
    HwConfig::preset("tiny").unwrap()
}

fn system(chips: u32, topology: Topology, link_latency: u32) -> HwConfig {
    tiny()
        .with_system(SystemConfig {
            chips,
            topology,
            link_latency,
        })
        .unwrap()
}

/// Runs `text` as scheduled on `cfg` and, for one chip, its ops rescheduled for `small`
/// (whose wider array changes every latency) and for tiny with a deeper vector pipeline, on
/// the golden model and both simulators.
fn check(cfg: &HwConfig, text: &str) {
    let program = assemble(text).unwrap_or_else(|e| panic!("{e}"));
    check_program(cfg, &program, cosim::random::random_image(cfg, 7));
    if cfg.system.chips == 1 && *cfg == tiny() {
        let ops: Vec<Vec<Op>> = program
            .chips
            .iter()
            .map(|c| c.iter().filter(|i| !i.op.is_halt()).map(|i| i.op).collect())
            .collect();
        for other in [HwConfig::preset("small").unwrap(), deep_vector()] {
            let rescheduled = schedule(&other, &ops).unwrap_or_else(|e| panic!("{e}"));
            check_program(&other, &rescheduled, cosim::random::random_image(&other, 7));
        }
    }
}

fn check_on(cfg: &HwConfig, text: &str, image: MemImage) {
    let program = assemble(text).unwrap_or_else(|e| panic!("{e}"));
    check_program(cfg, &program, image);
}

/// The directed suite's check, on every backend.
fn check_program(cfg: &HwConfig, program: &Program, image: MemImage) {
    let design = rtl_gen::generate(cfg).unwrap();
    let backends: [Box<dyn Backend>; 2] = [
        Box::new(Verilated::new(cfg).unwrap_or_else(|e| panic!("{e}"))),
        Box::new(Icarus::compile(&design).unwrap_or_else(|e| panic!("{e}"))),
    ];
    for mut backend in backends {
        let sim = backend.name();
        let checked = cosim::lockstep(backend.as_mut(), program, &image, 10_000, None)
            .unwrap_or_else(|e| panic!("{sim}: {e}"));
        let issued = checked
            .rtl
            .trace
            .iter()
            .filter(|e| matches!(e, cosim::trace::TraceEvent::Issue { .. }))
            .count();
        assert_eq!(
            issued,
            checked.golden.retired.len(),
            "{sim}: every instruction is traced"
        );
        let problems: Vec<String> = checked.mismatches.iter().map(|m| m.to_string()).collect();
        assert!(
            problems.is_empty(),
            "{sim} on {}: {} mismatches, first ones:\n{}",
            cfg.name.as_deref().unwrap_or("a config"),
            problems.len(),
            problems[..problems.len().min(12)].join("\n")
        );
    }
}

#[test]
fn ldw_and_mma_double_buffer_and_accumulate() {
    check(
        &tiny(),
        "+0 ldw src=sram0[0]
         +1 mma src=sram1[0] dst=acc0[0] count=3 swap
         +4 ldw src=sram0[4]
         +1 mma src=sram1[0] dst=acc0[0] count=3 accumulate
         +3 mma src=sram1[3] dst=acc0[4] count=2 swap
         +10 ctl.halt",
    );
}

#[test]
fn mma_streams_with_steps_into_both_banks() {
    check(
        &tiny(),
        "+0 ldw src=sram2[1] src_step=2
         +4 mma src=sram3[0] src_step=3 dst=acc1[2] dst_step=2 count=5 swap
         +5 mma src=sram0[0] dst=acc0[0] count=4
         +4 mma src=sram1[0] dst=acc0[0] count=4 accumulate
         +12 ctl.halt",
    );
}

#[test]
fn rq_to_int8_and_int32() {
    check(
        &tiny(),
        "+0 rq src=acc0[0] dst=sram0[0] count=3 param=2
         +3 rq src=acc0[0] dst=acc1[0] count=3 param=1
         +3 rq src=acc1[5] src_step=2 dst=sram1[3] count=4 param=5
         +9 ctl.halt",
    );
}

#[test]
fn vop_every_function() {
    let mut text = String::new();
    for (f, name) in [
        "add", "sub", "mul", "max", "min", "sel", "shl", "sra", "clz",
    ]
    .iter()
    .enumerate()
    {
        let delay = if f == 0 { 0 } else { 2 };
        text += &format!(
            "+{delay} vop.{name} a=acc0[0] b=acc1[0] dst=acc1[{}] count=2 imm=-77\n",
            10 + 2 * f
        );
    }
    text += "+2 vop.add a=sram0[0] b=imm imm=100 dst=sram1[0] count=2\n";
    text += "+2 vop.mul a=sram0[0] b=sram0[0] dst=acc1[40] count=2\n";
    text += "+2 vop.sel a=sram2[0] b=acc0[3] dst=sram3[4] count=2 imm=9\n";
    text += "+6 ctl.halt\n";
    check(&tiny(), &text);
}

#[test]
fn lut_and_red() {
    check(
        &tiny(),
        "+0 lut src=sram0[0] dst=sram1[0] count=2 table=1
         +2 lut src=sram0[0] dst=acc0[20] count=2 table=0
         +2 red.sum src=acc0[0] dst=acc1[0] count=2
         +2 red.max src=acc0[0] dst=acc1[2] count=2
         +2 red.sum src=sram0[0] dst=sram2[0]
         +1 red.max src=sram3[0] dst=acc1[4]
         +5 ctl.halt",
    );
}

#[test]
fn perm_transpose_rotate_and_shifts() {
    check(
        &tiny(),
        "+0 perm.transpose src=sram0[0] dst=sram1[0] count=2
         +13 perm.rotate src=sram0[0] dst=sram2[0] amount=1 count=2
         +2 perm.shift_down src=sram0[0] dst=sram2[2] amount=2 count=2
         +2 perm.shift_up src=sram0[0] dst=sram2[4] amount=3 count=2
         +2 perm.transpose src=sram3[0] src_step=2 dst=sram0[8] count=1
         +9 ctl.halt",
    );
}

#[test]
fn mov_widens_saturates_and_strides() {
    check(
        &tiny(),
        "+0 mov src=sram0[0] src_step=2 dst=acc0[1] dst_step=3 count=2
         +2 mov src=acc1[0] dst=sram1[0]
         +1 mov src=sram0[3] src_step=0 dst=sram2[0] count=3
         +3 mov src=acc0[5] dst=acc1[20] count=4
         +6 ctl.halt",
    );
}

#[test]
fn xfer_on_a_two_chip_ring() {
    check(
        &system(2, Topology::Ring, 2),
        ".chip 0
         +0 xfer chip=1 src=sram0[0] dst=sram2[5] count=3
         +6 ctl.halt
         .chip 1
         +6 mov src=sram2[5] dst=acc0[0] count=3
         +5 ctl.halt",
    );
}

#[test]
fn xfer_across_a_mesh_in_both_directions() {
    check(
        &system(4, Topology::Mesh { rows: 2, cols: 2 }, 1),
        ".chip 0
         +0 xfer chip=3 src=sram0[0] dst=sram1[0] count=2
         +6 ctl.halt
         .chip 1
         +0 ctl.halt
         .chip 2
         +0 ctl.halt
         .chip 3
         +0 xfer chip=0 src=sram2[0] dst=sram3[7] count=3
         +6 ctl.halt",
    );
}

#[test]
fn ctl_sync_and_nop_on_a_ring_and_a_mesh() {
    // The barrier holds the sequencer for 1 + diameter * link_latency cycles: 3 on both.
    let chip = "+0 ctl.sync\n+3 ctl.nop\n+1 ctl.halt\n";
    let ring: String = (0..2).map(|c| format!(".chip {c}\n{chip}")).collect();
    check(&system(2, Topology::Ring, 2), &ring);
    let mesh: String = (0..4).map(|c| format!(".chip {c}\n{chip}")).collect();
    check(&system(4, Topology::Mesh { rows: 2, cols: 2 }, 1), &mesh);
}

#[test]
fn a_layer_on_small_uses_every_lane_of_the_wider_array() {
    // The main job's layer: N x N weights, 4N inputs, requantized with ReLU-style clamp.
    // (Small registers its products and its reads' requests and data: the mma writes acc
    // row i at 1 + i + 2N + 2 + 2.)
    let cfg = HwConfig::preset("small").unwrap();
    check(
        &cfg,
        "+0 ldw src=sram0[0]
         +1 mma src=sram1[0] dst=acc0[0] count=16 swap
         +21 rq src=acc0[0] dst=sram2[0] count=16 param=0
         +1 perm.transpose src=sram3[0] dst=sram4[0] count=1
         +16 vop.max a=acc1[0] b=acc0[0] dst=acc1[0] count=8
         +9 red.sum src=sram5[0] dst=acc1[16] count=4
         +20 ctl.halt",
    );
}

#[test]
fn a_start_right_after_loading_the_program_runs_it() {
    // With no data to load, the start comes right behind the last instruction write.
    check_on(
        &tiny(),
        "+0 ctl.nop\n+3 ctl.nop\n+2 ctl.halt\n",
        MemImage::default(),
    );
}

#[test]
fn bad_runs_are_clear_errors() {
    let cfg = tiny();
    let mut model = Verilated::new(&cfg).unwrap();
    let image = MemImage::default();
    // Rejected by the verifier: the rq reads acc0[0] before the mma writes it.
    let racy = assemble("+0 ldw src=sram0[0]\n+1 mma src=sram1[0] dst=acc0[0] swap\n+1 rq src=acc0[0] dst=sram2[0] param=0\n+20 ctl.halt\n").unwrap();
    let err = model.run(&racy, &image, 1000, None).unwrap_err();
    assert!(matches!(err, SimError::Rejected(_)), "{err}");
    // Over its cycle budget.
    let long = assemble("+0 ctl.nop\n+500 ctl.halt\n").unwrap();
    let err = model.run(&long, &image, 100, None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the program did not halt within 100 cycles"
    );
    // An image for another config.
    let small = HwConfig::preset("small").unwrap();
    let other = cosim::random::random_image(&small, 1);
    let err = model.run(&long, &other, 1000, None).unwrap_err();
    assert!(matches!(err, SimError::Image(_)), "{err}");
}

#[test]
fn a_waveform_covers_the_cycle_window_asked_for() {
    let cfg = tiny();
    let program = assemble(
        "+0 vop.add a=acc0[0] b=imm imm=5 dst=acc0[8] count=4\n+5 mov src=acc0[8] dst=sram1[0] count=4\n+6 ctl.halt\n",
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut sim = Icarus::compile(&rtl_gen::generate(&cfg).unwrap()).unwrap();
    let mut wave = |name: &str, from, to| {
        let w = cosim::Wave {
            path: dir.path().join(name),
            from,
            to,
        };
        sim.run(&program, &MemImage::default(), 1000, Some(&w))
            .unwrap();
        std::fs::read(&w.path).unwrap()
    };
    // VCD: value changes only from cycle 3 to the dump-off after cycle 7, 10 ns a cycle.
    let vcd = String::from_utf8(wave("w.vcd", 3, 7)).unwrap();
    let times: Vec<u64> = vcd
        .lines()
        .filter_map(|l| l.strip_prefix('#')?.parse().ok())
        .collect();
    let span = times.last().unwrap() - times.first().unwrap();
    assert_eq!(span, (7 + 1 - 3) * 10 * 1000, "{times:?}");
    assert!(vcd.contains("trace_issue_o"));
    // FST is the default format.
    let fst = wave("w.fst", 0, 15);
    assert!(fst.len() > 100 && !fst.starts_with(b"$date"));
}
