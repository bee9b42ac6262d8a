//! The host over a serial line: the host-port operations of [`crate::host`] carried in
//! LiteX's UARTBone frames ([`rtl_gen::uartbone`]) to a board top's bridge. The same code
//! drives a real board (`metronome board run`, over a serial port) and a simulated one
//! ([`crate::board_sim`]), through a [`SerialLink`].

use isa::{HwConfig, MemImage, Program};
use rtl_gen::host_map::{self, Reg, Status};
use rtl_gen::uartbone::{read_frame, write_frame, Command, HEADER_BYTES, MAX_WORDS};

use crate::host::{HostOp, HostPort};
use crate::{Backend, RtlRun, SimError, Wave};

/// A serial line to a board.
pub trait SerialLink {
    /// Sends `bytes`, in order.
    fn send(&mut self, bytes: &[u8]) -> Result<(), SimError>;
    /// The next `n` bytes from the board; an error if the line stays silent too long.
    fn receive(&mut self, n: usize) -> Result<Vec<u8>, SimError>;
    /// Keeps the line silent for `ms` milliseconds (of the board's time).
    fn pause(&mut self, ms: u32) -> Result<(), SimError>;
    /// Clock cycles the board has run, where the link can know (a simulation); else 0.
    fn cycles(&self) -> u64 {
        0
    }
}

/// The longest wait a host operation may ask for that a frame's own length covers: the
/// shortest frame (a header) takes 10 bit times a byte, each at least
/// [`rtl_gen::board::MIN_CYCLES_PER_BIT`] cycles.
const IDLE_COVERED: u32 = (HEADER_BYTES as u32) * 10 * rtl_gen::board::MIN_CYCLES_PER_BIT;

/// Bytes carried each way.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Traffic {
    /// To the board.
    pub sent: u64,
    /// From the board.
    pub received: u64,
}

impl Traffic {
    /// Seconds the line is busy carrying it at `baud`, 10 bits a byte, one way after the
    /// other (the bridge answers only after a read's frame).
    pub fn line_seconds(&self, baud: u32) -> f64 {
        (self.sent + self.received) as f64 * 10.0 / f64::from(baud)
    }
}

/// Carries out `ops` over `link`; returns the words read, in order.
pub fn execute(link: &mut dyn SerialLink, ops: &[HostOp]) -> Result<Vec<u32>, SimError> {
    execute_counted(link, ops, &mut Traffic::default())
}

/// [`execute`], adding the bytes each way to `traffic`.
pub fn execute_counted(
    link: &mut dyn SerialLink,
    ops: &[HostOp],
    traffic: &mut Traffic,
) -> Result<Vec<u32>, SimError> {
    let mut words = Vec::new();
    let mut i = 0;
    while i < ops.len() {
        match ops[i] {
            HostOp::Write { chip, addr, .. } | HostOp::Read { chip, addr } if chip != 0 => {
                return Err(SimError::Unsupported(format!(
                    "a board holds one chip; this operation is for chip {chip} (address {addr})"
                )));
            }
            HostOp::Write { addr, .. } => {
                // Writes to consecutive addresses go in one frame.
                let mut data = Vec::new();
                while let Some(HostOp::Write {
                    addr: a, data: d, ..
                }) = ops.get(i)
                {
                    if *a != addr + data.len() as u32 || data.len() == MAX_WORDS {
                        break;
                    }
                    data.push(*d);
                    i += 1;
                }
                let frame = write_frame(Command::Write, addr, &data);
                traffic.sent += frame.len() as u64;
                link.send(&frame)?;
                continue;
            }
            HostOp::Read { addr, .. } => {
                let mut len = 0;
                while let Some(HostOp::Read { chip: 0, addr: a }) = ops.get(i) {
                    if *a != addr + len as u32 || len == MAX_WORDS {
                        break;
                    }
                    len += 1;
                    i += 1;
                }
                words.extend(read(link, addr, len, traffic)?);
                continue;
            }
            HostOp::Run { budget } => wait_for_halt(link, budget, traffic)?,
            HostOp::Idle(cycles) if cycles > IDLE_COVERED => {
                return Err(SimError::Unsupported(format!(
                    "a wait of {cycles} cycles is longer than a serial frame takes"
                )));
            }
            HostOp::Idle(_) => {}
        }
        i += 1;
    }
    Ok(words)
}

/// `len` words from `addr` on.
fn read(
    link: &mut dyn SerialLink,
    addr: u32,
    len: usize,
    traffic: &mut Traffic,
) -> Result<Vec<u32>, SimError> {
    let frame = read_frame(Command::Read, addr, len);
    traffic.sent += frame.len() as u64;
    link.send(&frame)?;
    let bytes = link.receive(4 * len)?;
    traffic.received += bytes.len() as u64;
    Ok(bytes
        .chunks(4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        .collect())
}

/// Polls the status and the cycle count until the program halts; an error once the count
/// passes `budget`, or if the chip is idle (the start was lost).
fn wait_for_halt(
    link: &mut dyn SerialLink,
    budget: u64,
    traffic: &mut Traffic,
) -> Result<(), SimError> {
    const { assert!(Reg::CycleLow as u32 == Reg::Control as u32 + 1) };
    const { assert!(Reg::CycleHigh as u32 == Reg::Control as u32 + 2) };
    loop {
        let w = read(link, Reg::Control as u32, 3, traffic)?;
        if host_map::status_has(w[0], Status::Halted) {
            return Ok(());
        }
        if !host_map::status_has(w[0], Status::Running) {
            return Err(SimError::Serial(
                "the chip is neither running nor halted: the start did not arrive".into(),
            ));
        }
        let cycles = u64::from(w[1]) | u64::from(w[2]) << 32;
        if cycles > budget {
            return Err(SimError::OverBudget { budget });
        }
    }
}

/// A board as a [`Backend`]: each run clears the memories the last one left (all of them
/// on the first), loads the program (unless the board holds it from the last run) and the
/// image over the serial line, starts it, polls until
/// it halts and reads every memory back. There is no trace: compare the final state
/// ([`crate::compare::state_mismatches`]). Parameter entries and lookup tables keep what
/// earlier runs wrote: a program that reads ones its image does not load disagrees with
/// the golden model, which has them zero.
pub struct OverUart<L: SerialLink> {
    link: L,
    cfg: HwConfig,
    port: HostPort,
    /// The memories as the last run read them back.
    known: Option<golden::SystemState>,
    /// The program the board holds.
    held: Option<Program>,
    traffic: Traffic,
}

impl<L: SerialLink> OverUart<L> {
    pub fn new(link: L, cfg: &HwConfig) -> Self {
        OverUart {
            link,
            cfg: cfg.clone(),
            port: HostPort::new(cfg),
            known: None,
            held: None,
            traffic: Traffic::default(),
        }
    }

    pub fn link(&mut self) -> &mut L {
        &mut self.link
    }

    /// The bytes carried by every run so far.
    pub fn traffic(&self) -> Traffic {
        self.traffic
    }
}

impl<L: SerialLink> Backend for OverUart<L> {
    fn name(&self) -> &'static str {
        "board"
    }

    fn config(&self) -> &HwConfig {
        &self.cfg
    }

    fn run(
        &mut self,
        program: &Program,
        image: &MemImage,
        budget: u64,
        wave: Option<&Wave>,
    ) -> Result<RtlRun, SimError> {
        if wave.is_some() {
            return Err(SimError::Unsupported(
                "a board gives no waveforms: simulate the RTL".into(),
            ));
        }
        let started = self.link.cycles();
        let held = self.held.as_ref() == Some(program);
        let session = self.port.session_on(program, image, budget, held)?;
        // The session starts by reading the config hash: read it before clearing anything,
        // so that a board with another bitstream is refused untouched.
        let identify = self.port.identify().len();
        let mut words = execute_counted(&mut self.link, &session[..identify], &mut self.traffic)?;
        self.port.check_identity(&words)?;
        let clear = self.port.clear(self.known.as_ref());
        // Whatever happens next, the memories are no longer known.
        self.known = None;
        self.held = None;
        execute_counted(&mut self.link, &clear, &mut self.traffic)?;
        words.extend(execute_counted(
            &mut self.link,
            &session[identify..],
            &mut self.traffic,
        )?);
        let run = self
            .port
            .finish(&words, Vec::new(), self.link.cycles() - started)?;
        self.known = Some(run.state.clone());
        self.held = Some(program.clone());
        Ok(run)
    }
}
