//! `metronome board run`: the main job on a board, through its serial line: the program and
//! each batch loaded over LiteX's UARTBone frames, the run polled until it halts, the
//! memories read back and compared with the golden model. `--simulate` runs the same host
//! code against the board top under Verilator, its serial line driven bit by bit.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use cosim::board_sim::SimulatedBoard;
use cosim::uart::{OverUart, SerialLink};
use cosim::SimError;
use fpga::Board;

use crate::run_cmd::{job, Clock, JobArgs, Rtl};

#[derive(Subcommand, Debug)]
pub enum BoardCmd {
    /// Run a model's test split on a board (or its simulated top) over the serial line and
    /// check every batch against the golden model: every memory word and the cycle count.
    Run(BoardRunArgs),
}

#[derive(Args, Debug)]
pub struct BoardRunArgs {
    #[command(flatten)]
    pub job: JobArgs,
    /// The board: icebreaker, ulx3s-85f, ulx3s-45f or ulx3s-25f. Its bitstream comes from
    /// `metronome synth --board` with the same config and baud rate.
    #[arg(long, value_name = "BOARD")]
    pub board: String,
    /// The board's serial port (for example /dev/ttyUSB0; the iCEBreaker's FTDI part shows
    /// two, the UART is the second).
    #[arg(long, value_name = "PATH", required_unless_present = "simulate")]
    pub port: Option<PathBuf>,
    /// Run on the board top simulated under Verilator (no PLL: the chip on the board's
    /// oscillator), its serial line driven bit by bit, instead of on a board.
    #[arg(long, conflicts_with = "port")]
    pub simulate: bool,
    /// The serial line's rate (default: 115200 on a board; simulated, the fastest rate up to
    /// 3 Mbaud the oscillator divides evenly enough).
    #[arg(long)]
    pub baud: Option<u32>,
    /// The chip clock the bitstream was built for (`metronome synth --board --clock-mhz`),
    /// for the inferences-per-second figure (default: the part's).
    #[arg(long, value_name = "MHZ")]
    pub clock_mhz: Option<f64>,
}

pub fn board(cmd: &BoardCmd) -> Result<()> {
    match cmd {
        BoardCmd::Run(args) => run(args),
    }
}

/// Serial rates tried for a simulated board, fastest first.
const SIMULATED_BAUDS: [u32; 5] = [3_000_000, 2_500_000, 2_000_000, 1_000_000, 115_200];

fn run(args: &BoardRunArgs) -> Result<()> {
    let cfg = args.job.config.load()?;
    let board = Board::named(&args.board).map_err(anyhow::Error::msg)?;
    let clock_mhz = args.clock_mhz.unwrap_or(board.device().default_clock_mhz);
    if args.simulate {
        let top = match args.baud {
            Some(baud) => board.simulated_top(baud)?,
            None => SIMULATED_BAUDS
                .iter()
                .find_map(|b| board.simulated_top(*b).ok())
                .context("no serial rate suits the simulated board's oscillator")?,
        };
        // Throughput at the clock the bitstream runs at, as a board would.
        let clock = Clock::Board {
            mhz: board.top(clock_mhz, fpga::DEFAULT_BAUD)?.clock_mhz(),
            board: board.title.into(),
        };
        return job(
            &args.job,
            cfg.clone(),
            clock,
            |cfg| {
                let link = SimulatedBoard::new(cfg, &top)?;
                Ok(Rtl {
                    backend: OverUart::new(link, cfg),
                    describe: format!(
                        "the {} board top simulated under Verilator at {} MHz, its serial line \
                         bit by bit at {} baud ({} cycles a bit)",
                        board.title,
                        top.clock_mhz(),
                        top.baud,
                        top.cycles_per_bit()?
                    ),
                    traced: false,
                })
            },
            traffic,
        );
    }
    let baud = args.baud.unwrap_or(fpga::DEFAULT_BAUD);
    let top = board.top(clock_mhz, baud)?;
    let port = args
        .port
        .as_ref()
        .expect("clap requires --port without --simulate");
    let link = PortLink::open(port, baud)?;
    let clock = Clock::Board {
        mhz: top.clock_mhz(),
        board: board.title.into(),
    };
    job(
        &args.job,
        cfg,
        clock,
        |cfg| {
            Ok(Rtl {
                backend: OverUart::new(link, cfg),
                describe: format!(
                    "the {} board on {} at {baud} baud",
                    board.title,
                    port.display()
                ),
                traced: false,
            })
        },
        traffic,
    )
}

/// The report's line on the serial traffic, and what it takes at the slowest and fastest
/// rates.
fn traffic<L: SerialLink>(board: &OverUart<L>) -> Vec<String> {
    let t = board.traffic();
    vec![format!(
        "serial line: {} bytes to the board, {} back: {:.1} s of line time at 115200 baud, \
         {:.2} s at 3 Mbaud",
        t.sent,
        t.received,
        t.line_seconds(115_200),
        t.line_seconds(3_000_000)
    )]
}

/// A serial port to a board.
struct PortLink {
    port: Box<dyn serialport::SerialPort>,
    name: String,
}

/// How long a read waits for the board's first byte.
const PORT_TIMEOUT: Duration = Duration::from_secs(2);

impl PortLink {
    fn open(path: &std::path::Path, baud: u32) -> Result<PortLink> {
        let name = path.display().to_string();
        let port = serialport::new(&name, baud)
            .timeout(PORT_TIMEOUT)
            .open()
            .with_context(|| {
                format!(
                    "cannot open the serial port {name}: is the board plugged in, and may you \
                     use the port (on Linux, the dialout group)?"
                )
            })?;
        let mut link = PortLink { port, name };
        // Whatever an earlier session left in the buffer or half-sent to the bridge goes:
        // the bridge drops a frame after its timeout.
        link.port
            .clear(serialport::ClearBuffer::All)
            .with_context(|| format!("clearing {}", link.name))?;
        link.pause(rtl_gen::board::FRAME_TIMEOUT_MS + 1)?;
        Ok(link)
    }
}

impl SerialLink for PortLink {
    fn send(&mut self, bytes: &[u8]) -> Result<(), SimError> {
        use std::io::Write;
        self.port
            .write_all(bytes)
            .map_err(|e| SimError::Serial(format!("{}: {e}", self.name)))
    }

    fn receive(&mut self, n: usize) -> Result<Vec<u8>, SimError> {
        use std::io::Read;
        let mut bytes = vec![0; n];
        let mut got = 0;
        while got < n {
            match self.port.read(&mut bytes[got..]) {
                Ok(0) => {
                    return Err(SimError::Serial(format!(
                        "{}: the port closed after {got} of the {n} bytes expected",
                        self.name
                    )));
                }
                Ok(k) => got += k,
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                    return Err(SimError::Serial(format!(
                        "{}: the board sent {got} of the {n} bytes expected, then nothing for \
                         {} s: is its bitstream loaded, built for this config, at this baud rate?",
                        self.name,
                        PORT_TIMEOUT.as_secs()
                    )));
                }
                Err(e) => return Err(SimError::Serial(format!("{}: {e}", self.name))),
            }
        }
        Ok(bytes)
    }

    fn pause(&mut self, ms: u32) -> Result<(), SimError> {
        std::thread::sleep(Duration::from_millis(u64::from(ms)));
        Ok(())
    }
}
