//! Each verifier rule broken by a small program; the report must name the instruction, the
//! cycle and the resource. Cycles are worked out by hand (tiny preset, N = 4).

mod common;

use common::tiny;
use golden::{verify, Rule, Violation};
use isa::{assemble, HwConfig, Opcode, SystemConfig, Topology};

fn violations(cfg: &HwConfig, text: &str) -> Vec<Violation> {
    verify(&assemble(text).unwrap(), cfg).expect_err("the program should be rejected")
}

/// The one violation of `rule`, checked for chip, instruction, cycle and resource.
fn expect(v: &[Violation], rule: Rule, chip: u32, index: usize, cycle: u64, resource: &str) {
    let found: Vec<&Violation> = v.iter().filter(|x| x.rule == rule).collect();
    assert_eq!(found.len(), 1, "expected one {rule:?} in {v:#?}");
    let x = found[0];
    assert_eq!(
        (x.chip, x.index, x.cycle, x.resource.as_str()),
        (chip, index, cycle, resource),
        "{x}"
    );
}

#[test]
fn a_well_scheduled_program_passes_with_a_hand_counted_timeline() {
    let text = "
        +0  ldw src=sram0[0]                              # issue 0; shadow row k written at k+1
        +1  mma src=sram1[0] dst=acc0[0] count=8 swap     # issue 1; acc row i written at 1+i+8
        +9  rq src=acc0[0] dst=sram2[0] count=8 param=0   # issue 10; reads row i at 10+i > 9+i
        +12 ctl.halt                                      # issue 22; rq's last write is 10+7+4 = 21
    ";
    let t = verify(&assemble(text).unwrap(), &tiny()).unwrap();
    let issue_completion: Vec<(u64, u64)> = t.chips[0]
        .iter()
        .map(|x| (x.issue(), x.completion()))
        .collect();
    // ldw: last shadow write 0+3+1; mma: last acc write 1+7+8; rq: 10+7+4.
    assert_eq!(issue_completion, vec![(0, 4), (1, 16), (10, 21), (22, 22)]);
    assert_eq!(t.cycles(), 23);
    let busy: Vec<u64> = t.unit_busy(0).iter().map(|(_, b)| *b).collect();
    // sequencer (halt), mxu.load, mxu.array, vector, permute, memory, router
    assert_eq!(busy, vec![4, 4, 8, 8, 0, 0, 0]);
}

/// The first test's program on `cfg`, tiny with `g` read registers: every read's data
/// arrives `g` cycles later, so every write is `g` cycles later, and rq, issued at `10 + g - 1`,
/// reads acc row i in the cycle mma writes it. Returns the ops' (issue, completion) once rq
/// issues a cycle later.
fn read_registers_delay_every_write(cfg: &HwConfig, g: u64) -> Vec<(u64, u64)> {
    let program = |rq: u64| {
        format!(
            "+0 ldw src=sram0[0]
             +1 mma src=sram1[0] dst=acc0[0] count=8 swap
             +{rq} rq src=acc0[0] dst=sram2[0] count=8 param=0
             +{} ctl.halt",
            12 + g
        )
    };
    // mma (issue 1) writes acc row i at 1 + i + 8 + g.
    let v = violations(cfg, &program(8 + g));
    assert!(
        v.iter()
            .all(|x| x.rule == Rule::ReadAfterWrite && x.index == 2),
        "{v:#?}"
    );
    assert_eq!(
        (v[0].cycle, v[0].resource.as_str()),
        (9 + g, "chip 0 acc0[0]")
    );
    let t = verify(&assemble(&program(9 + g)).unwrap(), cfg).unwrap();
    t.chips[0]
        .iter()
        .map(|x| (x.issue(), x.completion()))
        .collect()
}

#[test]
fn registered_reads_make_every_write_a_cycle_later() {
    let mut cfg = tiny();
    cfg.chip.registered_reads = true;
    // ldw: last shadow write 0+3+2; mma: last acc write 1+7+9; rq: 11+7+5; halt 11+13.
    assert_eq!(
        read_registers_delay_every_write(&cfg, 1),
        vec![(0, 5), (1, 17), (11, 23), (24, 24)]
    );
}

#[test]
fn registered_requests_and_reads_make_every_write_two_cycles_later() {
    let mut cfg = tiny();
    cfg.chip.registered_reads = true;
    cfg.chip.registered_requests = true;
    // ldw: last shadow write 0+3+3; mma: last acc write 1+7+10; rq: 12+7+6; halt 12+14.
    assert_eq!(
        read_registers_delay_every_write(&cfg, 2),
        vec![(0, 6), (1, 18), (12, 25), (26, 26)]
    );
}

#[test]
fn the_banks_registers_make_every_write_two_cycles_later_again() {
    let mut cfg = tiny();
    cfg.chip.registered_reads = true;
    cfg.chip.registered_requests = true;
    cfg.chip.registered_bank_requests = true;
    cfg.chip.registered_bank_reads = true;
    // ldw: last shadow write 0+3+5; mma: last acc write 1+7+12; rq: 14+7+8; halt 14+16.
    assert_eq!(
        read_registers_delay_every_write(&cfg, 4),
        vec![(0, 8), (1, 20), (14, 29), (30, 30)]
    );
}

#[test]
fn a_vector_unit_of_fewer_lanes_takes_a_row_every_few_cycles() {
    // Tiny's vector unit computing one lane a cycle: a row every 4 cycles, each written
    // 4 + 3 cycles after its read.
    let mut cfg = tiny();
    cfg.chip.vector_lanes = Some(1);
    cfg.chip.omit = vec![Opcode::Red];
    cfg.validate().unwrap();
    let text = "
        +0 rq src=acc0[0] dst=sram0[0] count=3 param=0   # issue 0; row i read at 4i, written at 4i+7
        +12 rq src=acc0[3] dst=sram1[0] count=1 param=0  # issue 12: the unit is busy 3*4 cycles
        +8 ctl.halt                                      # issue 20: after the last write
    ";
    let t = verify(&assemble(text).unwrap(), &cfg).unwrap();
    let issue_completion: Vec<(u64, u64)> = t.chips[0]
        .iter()
        .map(|x| (x.issue(), x.completion()))
        .collect();
    assert_eq!(issue_completion, vec![(0, 15), (12, 19), (20, 20)]);
    // One cycle earlier, the second rq finds the unit busy.
    let v = violations(&cfg, &text.replace("+12 rq", "+11 rq"));
    expect(&v, Rule::UnitBusy, 0, 1, 11, "vector");
}

#[test]
fn a_registered_accumulate_reads_its_old_row_a_cycle_earlier() {
    // Tiny (N = 4): an MMA issued at 4 writes acc0[0] at 12. An accumulating MMA issued at 6
    // reads it at 6 + 8 - 1 = 13; with a registered accumulate at 6 + 8 - 2 = 12, too early.
    let text = "
        +0 ldw src=sram0[0]
        +4 mma src=sram1[0] dst=acc0[0] swap
        +2 mma src=sram1[1] dst=acc0[0] accumulate
        +12 ctl.halt
    ";
    verify(&assemble(text).unwrap(), &tiny()).unwrap();
    let mut cfg = tiny();
    cfg.chip.registered_accumulate = true;
    let v = violations(&cfg, text);
    assert_eq!(v.len(), 1, "{v:#?}");
    expect(&v, Rule::ReadAfterWrite, 0, 2, 12, "chip 0 acc0[0]");
    // A cycle later it reads at 13, after the write.
    verify(&assemble(&text.replace("+2 mma", "+3 mma")).unwrap(), &cfg).unwrap();
}

#[test]
fn read_before_write_completes() {
    // As above, with rq one cycle early: row i read at 9+i, written at 9+i.
    let v = violations(
        &tiny(),
        "+0 ldw src=sram0[0]\n+1 mma src=sram1[0] dst=acc0[0] count=8 swap\n\
                                 +8 rq src=acc0[0] dst=sram2[0] count=8 param=0\n+13 ctl.halt\n",
    );
    assert_eq!(v.len(), 8, "one per row: {v:#?}");
    assert!(v
        .iter()
        .all(|x| x.rule == Rule::ReadAfterWrite && x.index == 2));
    assert_eq!((v[0].cycle, v[0].resource.as_str()), (9, "chip 0 acc0[0]"));
}

#[test]
fn unit_busy() {
    // vop count=4 keeps the vector unit busy in cycles 0..3; the second issues at 1.
    let v = violations(
        &tiny(),
        "+0 vop.add a=acc0[0] b=imm dst=acc1[0] count=4\n\
                                 +1 vop.add a=acc0[8] b=imm dst=acc1[8]\n+8 ctl.halt\n",
    );
    expect(&v, Rule::UnitBusy, 0, 1, 1, "vector");
}

#[test]
fn two_instructions_in_one_cycle() {
    let v = violations(&tiny(), "+0 ctl.nop\n+0 ctl.nop\n+1 ctl.halt\n");
    expect(&v, Rule::UnitBusy, 0, 1, 0, "sequencer");
}

#[test]
fn instructions_read_over_two_cycles_issue_two_cycles_apart() {
    let mut cfg = tiny();
    cfg.chip.imem_fetch_cycles = 2;
    let v = violations(&cfg, "+0 ctl.nop\n+1 ctl.nop\n+2 ctl.halt\n");
    expect(&v, Rule::UnitBusy, 0, 1, 1, "sequencer");
    verify(
        &assemble("+0 ctl.nop\n+2 ctl.nop\n+2 ctl.halt\n").unwrap(),
        &cfg,
    )
    .unwrap();
}

#[test]
fn bank_port_conflict() {
    // mov reads sram0 in cycles 0 and 1; the vop (issued at 1) reads sram0 in cycle 1.
    let v = violations(
        &tiny(),
        "+0 mov src=sram0[0] dst=sram1[0] count=2\n\
                                 +1 vop.add a=sram0[5] b=imm dst=acc0[0]\n+8 ctl.halt\n",
    );
    expect(&v, Rule::PortConflict, 0, 1, 1, "chip 0 sram bank 0 port");
}

#[test]
fn write_after_read() {
    // vop reads acc0[3] in cycle 3; the later mov (issued 1) writes it in cycle 1+2 = 3.
    let v = violations(
        &tiny(),
        "+0 vop.add a=acc0[0] b=imm dst=acc1[0] count=4\n\
                                 +1 mov src=sram0[0] dst=acc0[3]\n+8 ctl.halt\n",
    );
    expect(&v, Rule::WriteAfterRead, 0, 1, 3, "chip 0 acc0[3]");
}

#[test]
fn write_after_write() {
    // vop writes acc0[0] in cycle 4; the later mov (issued 1) writes it first, in cycle 3.
    let v = violations(
        &tiny(),
        "+0 vop.add a=acc1[0] b=imm dst=acc0[0]\n\
                                 +1 mov src=sram0[0] dst=acc0[0]\n+8 ctl.halt\n",
    );
    expect(&v, Rule::WriteAfterWrite, 0, 1, 3, "chip 0 acc0[0]");
}

#[test]
fn same_instruction_overlapping_rows() {
    // Row i+1 is read in cycle i+1, before row i's result lands on it in cycle i+4.
    let v = violations(
        &tiny(),
        "+0 vop.add a=acc0[0] b=imm imm=1 dst=acc0[1] count=2\n+8 ctl.halt\n",
    );
    expect(&v, Rule::ReadAfterWrite, 0, 0, 1, "chip 0 acc0[1]");
}

#[test]
fn shadow_weights_overwritten_before_the_swap_reaches_them() {
    // mma's swap reads shadow row 0 until cycle 1+0+4 = 5; the second ldw (issued 4) writes
    // it in cycle 5.
    let v = violations(
        &tiny(),
        "+0 ldw src=sram0[0]\n+1 mma src=sram1[0] dst=acc0[0] swap\n\
                                 +3 ldw src=sram0[4]\n+12 ctl.halt\n",
    );
    let war: Vec<&Violation> = v
        .iter()
        .filter(|x| x.rule == Rule::WriteAfterRead)
        .collect();
    assert_eq!(
        (war[0].index, war[0].cycle, war[0].resource.as_str()),
        (2, 5, "chip 0 shadow weight row 0")
    );
}

#[test]
fn out_of_range_address_table_param_and_lanes() {
    // tiny: 4 SRAM banks of 256 rows, 2 tables, 16 parameter entries, 4 lanes.
    let v = violations(
        &tiny(),
        "+0 mov src=sram0[255] dst=acc0[0] count=2\n\
                                 +2 lut src=sram0[0] dst=acc0[4] table=2\n\
                                 +1 rq src=acc1[0] dst=acc1[1] param=16\n\
                                 +1 perm.rotate src=sram1[0] dst=sram2[0] amount=4\n\
                                 +1 mov src=sram5[0] dst=acc0[8]\n\
                                 +1 mov src=acc3[0] dst=acc0[9]\n+8 ctl.halt\n",
    );
    let oor: Vec<(usize, u64, &str)> = v
        .iter()
        .filter(|x| x.rule == Rule::OutOfRange)
        .map(|x| (x.index, x.cycle, x.resource.as_str()))
        .collect();
    assert_eq!(
        oor,
        vec![
            (0, 1, "chip 0 sram0[256]"),
            (1, 2, "table"),
            (2, 3, "param"),
            (3, 4, "amount"),
            (4, 5, "src"),
            (5, 6, "chip 0 acc3[0]")
        ]
    );
    // tiny's table, param and lane fields are exactly as wide as their ranges, so those were
    // caught as unencodable; a chip id that encodes but does not exist is a range error.
    let three = tiny()
        .with_system(SystemConfig {
            chips: 3,
            topology: Topology::Ring,
            link_latency: 1,
        })
        .unwrap();
    let v = violations(
        &three,
        ".chip 0\n+0 xfer chip=3 src=sram0[0] dst=sram1[0]\n+4 ctl.halt\n\
         .chip 1\n+0 ctl.halt\n.chip 2\n+0 ctl.halt\n",
    );
    expect(&v, Rule::OutOfRange, 0, 0, 0, "chip");
    assert!(
        v[0].message.contains("there are 3 chips"),
        "{}",
        v[0].message
    );
}

#[test]
fn unencodable_fields_are_refused() {
    // Assembles, but a count of 0 and a step wider than tiny's 8-bit row field cannot encode.
    let v = violations(
        &tiny(),
        "+0 vop.add a=acc0[0] b=imm dst=acc0[0] count=0\n\
         +1 mov src=sram0[0] src_step=999999 dst=sram1[0]\n+8 ctl.halt\n",
    );
    let found: Vec<(usize, &str)> = v.iter().map(|x| (x.index, x.resource.as_str())).collect();
    assert_eq!(found, vec![(0, "count"), (1, "src_step")]);
    assert!(v
        .iter()
        .all(|x| x.rule == Rule::OutOfRange && x.message.contains("cannot be encoded")));
}

#[test]
fn missing_halt_after_halt_and_too_long() {
    let v = violations(&tiny(), "+0 ctl.nop\n+1 ctl.nop\n");
    expect(&v, Rule::MissingHalt, 0, 1, 0, "sequencer");
    let v = violations(&tiny(), "+0 ctl.halt\n+1 ctl.nop\n");
    expect(&v, Rule::AfterHalt, 0, 1, 0, "sequencer");
    let long = "+1 ctl.nop\n".repeat(256) + "+1 ctl.halt\n";
    let v = violations(&tiny(), &long);
    expect(&v, Rule::ProgramTooLong, 0, 256, 0, "instruction memory");
}

#[test]
fn unfinished_at_halt() {
    // mma writes acc0[0] in cycle 0+8; halting in cycle 8 is too early.
    let v = violations(&tiny(), "+0 mma src=sram0[0] dst=acc0[0]\n+8 ctl.halt\n");
    expect(&v, Rule::UnfinishedAtHalt, 0, 0, 8, "mxu.array");
}

fn ring(chips: u32) -> HwConfig {
    tiny()
        .with_system(SystemConfig {
            chips,
            topology: Topology::Ring,
            link_latency: 1,
        })
        .unwrap()
}

#[test]
fn link_conflict() {
    // 4-chip ring: chip 0 -> 2 goes 0->1->2, using link 1->2 in cycle 0+1+1 = 2.
    // Chip 1 -> 2 issued at 1 uses link 1->2 in cycle 1+1 = 2 as well.
    let v = violations(
        &ring(4),
        ".chip 0\n+0 xfer chip=2 src=sram0[0] dst=sram1[0]\n+9 ctl.halt\n\
                                  .chip 1\n+1 xfer chip=2 src=sram0[0] dst=sram2[0]\n+9 ctl.halt\n\
                                  .chip 2\n+10 ctl.halt\n.chip 3\n+0 ctl.halt\n",
    );
    expect(&v, Rule::LinkConflict, 1, 0, 2, "link 1->2");
}

#[test]
fn two_rows_arriving_at_one_chip_in_one_cycle() {
    // 4-chip ring: chips 1 and 3 each send a row to chip 2 in cycle 0, over links 1->2 and
    // 3->2; both arrive in cycle 2, for different banks, and the chip writes one a cycle.
    let text = ".chip 0\n+0 ctl.halt\n\
                .chip 1\n+0 xfer chip=2 src=sram0[0] dst=sram1[0]\n+4 ctl.halt\n\
                .chip 2\n+5 ctl.halt\n\
                .chip 3\n+0 xfer chip=2 src=sram0[0] dst=sram2[0]\n+4 ctl.halt\n";
    let v = violations(&ring(4), text);
    assert_eq!(v.len(), 1, "{v:#?}");
    expect(&v, Rule::PortConflict, 3, 0, 2, "chip 2 arrival port");
    // A cycle apart they pass.
    let apart = text.replace(".chip 3\n+0 xfer", ".chip 3\n+1 xfer");
    verify(&assemble(&apart).unwrap(), &ring(4)).unwrap();
}

#[test]
fn cross_chip_read_before_arrival_and_xfer_to_a_halted_chip() {
    // 2-chip ring: a row read at 0 arrives at chip 1 in cycle 2; chip 1 reads it in cycle 1.
    let v = violations(
        &ring(2),
        ".chip 0\n+0 xfer chip=1 src=sram0[0] dst=sram1[0]\n+3 ctl.halt\n\
                                  .chip 1\n+1 mov src=sram1[0] dst=acc0[0]\n+4 ctl.halt\n",
    );
    expect(&v, Rule::ReadAfterWrite, 1, 0, 1, "chip 1 sram1[0]");
    let v = violations(
        &ring(2),
        ".chip 0\n+0 xfer chip=1 src=sram0[0] dst=sram1[0]\n+3 ctl.halt\n\
                                  .chip 1\n+2 ctl.halt\n",
    );
    expect(&v, Rule::UnfinishedAtHalt, 0, 0, 2, "chip 1 sram1[0]");
    let v = violations(
        &ring(2),
        ".chip 0\n+0 xfer chip=0 src=sram0[0] dst=sram1[0]\n+3 ctl.halt\n.chip 1\n+0 ctl.halt\n",
    );
    expect(&v, Rule::OutOfRange, 0, 0, 0, "chip");
}

#[test]
fn chip_count_must_match_the_system() {
    let v = violations(&ring(2), "+0 ctl.halt\n");
    expect(&v, Rule::ChipCount, 0, 0, 0, "system");
}

#[test]
fn every_violation_is_reported() {
    let v = violations(
        &tiny(),
        "+0 vop.add a=acc0[0] b=imm dst=acc1[0] count=4\n\
                                 +1 vop.add a=acc0[8] b=imm dst=acc1[8]\n\
                                 +0 mov src=sram9[0] dst=acc0[0]\n",
    );
    let rules: Vec<Rule> = v.iter().map(|x| x.rule).collect();
    for rule in [Rule::UnitBusy, Rule::OutOfRange, Rule::MissingHalt] {
        assert!(rules.contains(&rule), "{rule:?} missing from {rules:?}");
    }
}

#[test]
fn programs_too_big_to_verify_are_refused_up_front() {
    // 128 copies of a 65535-row mov: over 8M busy cycles.
    let text = "+1 mov src=sram0[0] src_step=0 dst=sram1[0] dst_step=0 count=65535\n".repeat(128)
        + "ctl.halt\n";
    let program = assemble(&text).unwrap();
    let v = verify(&program, &HwConfig::preset("small").unwrap()).unwrap_err();
    assert_eq!(v.len(), 1);
    assert_eq!(
        (v[0].rule, v[0].resource.as_str()),
        (Rule::ProgramTooLong, "verifier")
    );
}

#[test]
fn ops_whose_unit_the_config_leaves_out() {
    let mut lean = tiny();
    lean.chip.lut_tables = 0;
    lean.chip.omit = vec![Opcode::Vop, Opcode::Red, Opcode::Perm, Opcode::Mov];
    lean.validate().unwrap();
    let text = "+0 vop.add a=acc0[0] b=imm dst=acc0[1] imm=1\n\
                +1 red.sum src=acc0[0] dst=acc0[2]\n\
                +1 lut src=sram0[0] dst=sram1[0] table=0\n\
                +1 perm.rotate src=sram0[0] dst=sram2[0] amount=1\n\
                +1 mov src=sram0[0] dst=sram3[0]\n\
                +1 rq src=acc1[0] dst=sram0[4] param=0\n+8 ctl.halt\n";
    let v = violations(&lean, text);
    let missing: Vec<(usize, u64, &str)> = v
        .iter()
        .map(|x| {
            assert_eq!(x.rule, Rule::MissingUnit, "{x}");
            (x.index, x.cycle, x.resource.as_str())
        })
        .collect();
    assert_eq!(
        missing,
        vec![
            (0, 0, "vector unit's lane ALU"),
            (1, 1, "vector unit's reduction tree"),
            (2, 2, "lookup tables"),
            (3, 3, "permute unit"),
            (4, 4, "move unit"),
        ]
    );
    assert_eq!(
        v[3].to_string(),
        "chip 0 instruction 3 cycle 3: missing-unit [permute unit]: perm.rotate needs the \
         permute unit, which this config leaves out (chip.omit lists \"perm\")"
    );
    // The same program verifies on the chip that has every unit.
    verify(&assemble(text).unwrap(), &tiny()).unwrap();
}
