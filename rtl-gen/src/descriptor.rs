//! `metronome.json`: what a generated design is, for the tools that load it.
//!
//! It holds the config and its hash, the top module, the instruction word layout, the host
//! port map, the unit latencies and the trace ports. The co-simulation compares the hash and
//! layout with its own before it runs anything, so a model built from another config (or by
//! another generator version) is refused rather than silently mis-driven. Keys are sorted, so
//! the file is as deterministic as the Verilog.

use isa::encoding::{DELAY_BITS, OPCODE_BITS};
use isa::ops::Opcode;
use isa::timing::Datapath;
use serde_json::{json, Value};

use crate::ast::Module;
use crate::blocks::chip::trace_bundles;
use crate::ctx::Ctx;
use crate::host_map::{
    row_command_layout, row_read_latency, start_latency, Reg, Region, RowCommand, READ_LATENCY,
};

pub const FILE_NAME: &str = "metronome.json";
/// Bumped whenever the descriptor's shape changes.
pub const FORMAT_VERSION: u32 = 3;

pub fn descriptor(ctx: &Ctx, top: &str, modules: &[Module], fault: Option<crate::Fault>) -> String {
    let ops: Vec<Value> = Opcode::ALL
        .iter()
        .map(|op| {
            let fields: Vec<Value> = ctx
                .layout
                .field_positions(*op)
                .iter()
                .map(|(f, lo, bits)| json!({ "name": f.name, "lo": lo, "bits": bits }))
                .collect();
            json!({
                "mnemonic": op.spec().mnemonic,
                "opcode": op.spec().opcode,
                "unit": op.spec().unit.name(),
                "fields": fields,
            })
        })
        .collect();
    let registers: serde_json::Map<String, Value> = Reg::ALL
        .iter()
        .map(|r| (format!("{r:?}"), json!(*r as u32)))
        .collect();
    let cmd = row_command_layout();
    let regions: serde_json::Map<String, Value> = Region::ALL
        .iter()
        .map(|r| (format!("{r:?}"), json!(*r as u32)))
        .collect();
    let trace: Vec<Value> = trace_bundles(ctx)
        .iter()
        .flat_map(|b| b.0.iter())
        .map(|s| json!({ "port": format!("trace_{}_o", s.name), "bits": s.width }))
        .collect();
    let mut latencies: serde_json::Map<String, Value> = Datapath::ALL
        .iter()
        .map(|d| (d.name().to_string(), json!(d.latency(&ctx.cfg))))
        .collect();
    latencies.insert("link".into(), json!(ctx.cfg.system.link_latency));
    let value = json!({
        "format": "metronome-rtl-descriptor",
        "format_version": FORMAT_VERSION,
        "generator": { "name": "metronome rtl-gen", "version": crate::VERSION },
        "config": serde_json::to_value(&ctx.cfg).expect("a config serializes"),
        "config_hash": ctx.cfg.hash().to_string(),
        "top": top,
        "fault": fault.map(|f| f.name()),
        "modules": modules.iter().map(|m| m.name.clone()).collect::<Vec<_>>(),
        "isa": {
            "word_bits": ctx.word_bits,
            "imem_fetch_cycles": ctx.cfg.chip.imem_fetch_cycles,
            "line_bits": ctx.line_bits,
            "opcode": { "lo": 0, "bits": OPCODE_BITS },
            "delay": { "lo": OPCODE_BITS, "bits": DELAY_BITS },
            "ops": ops,
        },
        "host": {
            "addr_bits": ctx.host_addr_bits,
            "data_bits": 32,
            "stage_base": 1u64 << (ctx.host_addr_bits - 1),
            "stage_words": ctx.stage_words,
            "registers": registers,
            "regions": regions,
            "row_command": {
                "row_lo": cmd.lo(RowCommand::Row), "bank_lo": cmd.lo(RowCommand::Bank),
                "region_lo": cmd.lo(RowCommand::Region), "write_bit": cmd.lo(RowCommand::Write),
            },
            "read_latency": READ_LATENCY,
            "row_read_latency": row_read_latency(&ctx.cfg),
            "start_latency": start_latency(&ctx.cfg),
        },
        "latencies": latencies,
        "trace": trace,
    });
    let mut text = serde_json::to_string_pretty(&value).expect("json serializes");
    text.push('\n');
    text
}
