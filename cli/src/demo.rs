//! `metronome run`: the main job. Until the compiler lands it runs a built-in example on the
//! golden model: one int8 layer `y = relu(requant(x W))` of `4N` input vectors through one
//! `N x N` weight tile, scheduled by hand for the chosen config.

use anyhow::Result;
use clap::Args;
use golden::numerics::quantize_multiplier;
use golden::SystemState;
use isa::{assemble_with_lines, Addr, Chunk, HwConfig, MemImage, ParamEntry, Region, Rows};
use serde_json::json;

use crate::inputs::{ConfigArgs, LoadedProgram};
use crate::program_cmds::print_summary;
use crate::rng::xorshift;

#[derive(Args, Debug)]
pub struct RunArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Seed for the example's inputs and weights.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Print the example program.
    #[arg(long)]
    pub show_program: bool,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

/// The example program for `cfg`, with each delay derived from the timing rules.
pub fn example_program(cfg: &HwConfig) -> String {
    let n = cfg.chip.n as u64;
    let m = 4 * n;
    // mma issues at 1 and writes acc row i at 1 + i + 2N; rq must read row i strictly later,
    // so it issues at 2N + 2. Its last write is at (2N + 2) + (M - 1) + 4; halt right after.
    let rq_delay = 2 * n + 1;
    let halt_delay = m + 4;
    format!(
        "# y = relu(requant(x W)) for {m} input rows on an {n}x{n} array\n\
         +0 ldw src=sram0[0]                                  # weights -> shadow buffer\n\
         +1 mma src=sram1[0] dst=acc0[0] count={m} swap       # swap in, stream x\n\
         +{rq_delay} rq src=acc0[0] dst=sram2[0] count={m} param=0  # int32 -> int8, ReLU clamp\n\
         +{halt_delay} ctl.halt\n"
    )
}

fn example_image(cfg: &HwConfig, seed: u64) -> MemImage {
    let n = cfg.lanes();
    let mut stream = xorshift(seed);
    let mut next = move || (stream() >> 32) as i32;
    let weights = (0..n * n).map(|_| (next() % 128) as i8).collect();
    let inputs = (0..4 * n * n).map(|_| (next() % 128) as i8).collect();
    // Output scale: a dot product of N random int8 pairs has a spread of about
    // 64 * 64 * sqrt(N) / 2; map that to about a quarter of the int8 range.
    let (multiplier, shift) = quantize_multiplier(1.0 / (64.0 * (n as f64).sqrt()));
    let param = ParamEntry {
        bias: vec![0; n],
        multiplier: vec![multiplier; n],
        shift: vec![shift as i8; n],
        zero_point: -128,
        act_min: -128,
        act_max: 127,
    };
    MemImage {
        chunks: vec![
            Chunk {
                chip: 0,
                region: Region::Sram { bank: 0 },
                start: 0,
                rows: Rows::I8(weights),
            },
            Chunk {
                chip: 0,
                region: Region::Sram { bank: 1 },
                start: 0,
                rows: Rows::I8(inputs),
            },
            Chunk {
                chip: 0,
                region: Region::Params,
                start: 0,
                rows: Rows::Params(vec![param]),
            },
        ],
    }
}

pub fn run(args: &RunArgs) -> Result<()> {
    let cfg = args.config.load()?;
    anyhow::ensure!(
        cfg.system.chips == 1,
        "the built-in example is a single-chip program; use a single-chip config"
    );
    let text = example_program(&cfg);
    let (program, lines) = assemble_with_lines(&text)?;
    let loaded = LoadedProgram {
        program,
        lines: Some(lines),
    };
    let state = SystemState::from_image(&cfg, &example_image(&cfg, args.seed))?;
    let n = cfg.lanes();
    let rows = |state: &SystemState, bank: u32, count: usize| -> Vec<Vec<i32>> {
        (0..count as u64)
            .map(|r| state.chips[0].read_row(Addr::sram(bank, 0), r))
            .collect()
    };
    let (weights, inputs) = (rows(&state, 0, n), rows(&state, 1, 4 * n));
    let param = state.chips[0].params[0].clone();
    let run = golden::run(&loaded.program, &cfg, state, None)?;
    let outputs = rows(&run.state, 2, 4 * n);
    if args.json {
        println!(
            "{}",
            json!({"config": cfg.hash().to_string(), "n": n, "cycles": run.cycles(),
                   "instructions": loaded.program.len(), "outputs": outputs,
                   "inputs": inputs, "weights": weights, "multiplier": param.multiplier[0],
                   "shift": param.shift[0], "zero_point": param.zero_point})
        );
        return Ok(());
    }
    if args.show_program {
        print!("{text}");
    }
    println!(
        "example: relu(requant(x W)), x {}x{n} int8, W {n}x{n} int8",
        4 * n
    );
    print_summary(&cfg, &loaded, &run.timeline);
    let macs = (4 * n * n * n) as f64;
    println!(
        "matrix unit: {macs} MACs in {} cycles = {:.1}% of the {n}x{n} array's peak",
        run.cycles(),
        100.0 * macs / (n * n) as f64 / run.cycles() as f64
    );
    println!("first output rows (int8):");
    for row in outputs.iter().take(4) {
        println!("  {row:?}");
    }
    Ok(())
}
