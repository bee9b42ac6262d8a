//! `metronome`: generate, program, verify and run deterministic inference accelerators.

mod bench_cmd;
mod bench_scale;
mod board_cmd;
mod compile_cmd;
mod gen_cmd;
mod generate_cmd;
mod import_cmd;
mod inputs;
mod mem_cmds;
mod program_cmds;
mod run_cmd;
mod sim_cmd;
mod spinner;
mod synth_cmd;

use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "metronome",
    version,
    about = "Compiler-scheduled int8 inference accelerators: RTL generator, compiler, golden model and co-simulation",
    long_about = "Metronome generates compiler-scheduled int8 accelerators and proves them against \
                  a bit-exact, cycle-exact golden model.\n\n\
                  Programs are assembler text (.s) or program files (.mtp); memory images are \
                  .mtm files (see `isa::image` for the format). Every command takes --preset \
                  (up5k, tiny, small, medium, large; default small) or --config FILE."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// The main job: compile a model (default: the built-in digits MLP), run its whole test
    /// split on the generated RTL under Verilator, check every batch against the golden model
    /// bit for bit and cycle for cycle, and report accuracy, cycles and utilization.
    Run(run_cmd::RunArgs),
    /// Compile a model (default: the built-in digits MLP) into a scheduled program, a memory
    /// image and a predicted cycle count.
    Compile(compile_cmd::CompileArgs),
    /// Generate text with a language model (default: the built-in charlm on the `lm` preset)
    /// on the RTL under Verilator, a position a step over its KV cache, every step checked
    /// against the golden model op by op; `--eval` measures its quality instead.
    Generate(generate_cmd::GenerateArgs),
    /// Import an int8 TensorFlow Lite model (.tflite) as a model directory; every command
    /// that takes --model also takes the .tflite file itself.
    Import(import_cmd::ImportArgs),
    /// Generate the chip's (or system's) Verilog and its descriptor.
    Gen(gen_cmd::GenArgs),
    /// Run a program on the generated RTL (Verilator or Icarus) and check it against the golden
    /// model: every instruction's issue and completion cycle, every row written, the final
    /// memories and the cycle count.
    Sim(sim_cmd::SimArgs),
    /// Place and route the chip on an FPGA (Yosys, nextpnr, the packer): utilisation against
    /// the part, Fmax after routing and the critical path. Results are cached by content.
    Synth(synth_cmd::SynthArgs),
    /// Run models on an FPGA board over its serial line (or on its board top, simulated).
    #[command(subcommand)]
    Board(board_cmd::BoardCmd),
    /// Performance measurements.
    #[command(subcommand)]
    Bench(bench_cmd::BenchCmd),
    /// Check or print hardware configurations.
    #[command(subcommand)]
    Config(mem_cmds::ConfigCmd),
    /// Assemble text into a program file.
    Asm(program_cmds::AsmArgs),
    /// Print a program file as assembler text.
    Disasm(program_cmds::DisasmArgs),
    /// Check a program against the static-schedule contract and report every violation.
    Verify(program_cmds::ProgramArgs),
    /// Run a program on the golden model and report cycles and unit use.
    Exec(program_cmds::ExecArgs),
    /// Inspect or create memory images.
    Mem(mem_cmds::MemArgs),
}

fn main() {
    // A closed pipe (`metronome mem show image.mtm | head`) ends the process quietly, as it
    // does any Unix tool, instead of making every `println!` panic.
    // SAFETY: restoring a signal's default disposition at start-up, before any thread exists.
    #[cfg(unix)]
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Run(args) => run_cmd::run(args),
        Command::Compile(args) => compile_cmd::compile_cmd(args),
        Command::Import(args) => import_cmd::import(args),
        Command::Generate(args) => generate_cmd::generate(args),
        Command::Gen(args) => gen_cmd::gen(args),
        Command::Sim(args) => sim_cmd::sim(args),
        Command::Synth(args) => synth_cmd::synth(args),
        Command::Bench(cmd) => bench_cmd::bench(cmd),
        Command::Board(cmd) => board_cmd::board(cmd),
        Command::Config(cmd) => mem_cmds::config(cmd),
        Command::Asm(args) => program_cmds::asm(args),
        Command::Disasm(args) => program_cmds::disasm(args),
        Command::Verify(args) => program_cmds::verify_cmd(args),
        Command::Exec(args) => program_cmds::exec(args),
        Command::Mem(args) => mem_cmds::mem(&args.cmd),
    };
    if let Err(e) = result {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}
