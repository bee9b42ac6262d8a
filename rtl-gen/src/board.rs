//! What the board top ([`crate::generate_board`]) needs of a board: its oscillator, the PLL
//! that makes the chip's clock of it, the serial line's baud rate, and how many LEDs, which
//! polarity, and which pins must be driven high. The pins themselves are the flow's
//! (`fpga::board`); the top's port names are here ([`Port`]), so that the pin files and the
//! top agree.
//!
//! The PLL dividers are found as the vendor-neutral tools find them (icestorm's `icepll`,
//! Project Trellis's `ecppll`), search order, tie-breaks and floating-point widths included,
//! so that a board built here has the clock those tools would have given it (the flow's tests
//! compare the two).

/// The board top's ports (besides the chip's), as the pin files name them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Port {
    /// The board's oscillator.
    Clock,
    /// The serial line into the FPGA.
    UartRx,
    /// The serial line out of the FPGA.
    UartTx,
    /// The reset button.
    Button,
    /// LED `k` (bit `k` of a vector).
    Led,
    /// Pin `k` that must be driven high.
    TieHigh,
}

impl Port {
    pub fn name(self) -> &'static str {
        match self {
            Port::Clock => "clk_i",
            Port::UartRx => "uart_rx_i",
            Port::UartTx => "uart_tx_o",
            Port::Button => "button_i",
            Port::Led => "led_o",
            Port::TieHigh => "tie_high_o",
        }
    }
}

/// What the LEDs show, in the order of the board's LEDs (a board with fewer shows the
/// first): the board's signal, and its meaning.
pub const LEDS: [(&str, &str); 3] = [
    ("alive", "alive: blinks about once a second"),
    ("halted", "halted: the program has run to its ctl.halt"),
    ("running", "running: a program is running"),
];

/// A board, as its top is built.
#[derive(Clone, Debug, PartialEq)]
pub struct BoardTop {
    /// The board's name, for the top's header.
    pub name: String,
    /// The oscillator's frequency.
    pub oscillator_mhz: f64,
    /// The PLL that makes the chip's clock of the oscillator; none: the chip runs on the
    /// oscillator (simulation).
    pub pll: Option<Pll>,
    /// The serial line's rate, bits per second.
    pub baud: u32,
    pub leds: u32,
    pub leds_active_low: bool,
    pub button_active_low: bool,
    /// Pins that must be driven high.
    pub tie_high: u32,
}

/// The baud rates a board top offers: 115200 up to 3 Mbaud, what the FTDI parts of the
/// boards here carry.
pub const BAUD_RANGE: std::ops::RangeInclusive<u32> = 115_200..=3_000_000;

/// The most a UART's bit period may be off the line's: 2 %. The receiver finds a start bit
/// up to a cycle late and then samples every bit period; with at least
/// [`MIN_CYCLES_PER_BIT`] cycles a bit, the stop bit's sample is then at most
/// 1/4 + 9.5 x 2 % = 0.44 of a bit from its middle: still inside the bit, with little room
/// at 4 cycles, more at the usual 10 or more.
pub const MAX_BAUD_ERROR: f64 = 0.02;

/// The fewest clock cycles of a bit the receiver takes.
pub const MIN_CYCLES_PER_BIT: u32 = 4;

/// Silence in a frame after which the bridge drops it. (LiteX's UARTBone limits the whole
/// frame to 100 ms instead, which a long frame at 115200 baud exceeds.)
pub const FRAME_TIMEOUT_MS: u32 = 100;

/// Why a board top cannot be built as asked.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BoardError {
    #[error(
        "no PLL setting of the {family} makes {wanted_mhz} MHz from {input_mhz} MHz: it takes \
         {input_min}-{input_max} MHz in and gives {output_min}-{output_max} MHz out"
    )]
    Pll {
        family: &'static str,
        input_mhz: f64,
        wanted_mhz: f64,
        input_min: f64,
        input_max: f64,
        output_min: f64,
        output_max: f64,
    },
    #[error(
        "{baud} baud is outside the {}..={} a board top offers",
        BAUD_RANGE.start(),
        BAUD_RANGE.end()
    )]
    Baud { baud: u32 },
    #[error(
        "{baud} baud from a {clock_mhz} MHz clock: {cycles} cycles a bit is {error_pct:.1} % off \
         (at most {} % works); choose a baud rate that divides the clock more evenly, or another \
         clock",
        MAX_BAUD_ERROR * 100.0
    )]
    BaudError {
        baud: u32,
        clock_mhz: f64,
        cycles: u32,
        error_pct: f64,
    },
}

/// A PLL setting of one family.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Pll {
    Ice40(Ice40Pll),
    Ecp5(Ecp5Pll),
}

impl Pll {
    /// The clock it makes.
    pub fn output_mhz(&self) -> f64 {
        match self {
            Pll::Ice40(p) => p.output_mhz,
            Pll::Ecp5(p) => f64::from(p.output_mhz),
        }
    }
}

/// Whether `f` is in `lo..=hi`.
fn within(f: f64, (lo, hi): (f64, f64)) -> bool {
    (lo..=hi).contains(&f)
}

/// The clocks a family's PLL takes in and gives out, MHz.
struct PllRanges {
    family: &'static str,
    input: (f64, f64),
    output: (f64, f64),
}

impl PllRanges {
    fn error(&self, input_mhz: f64, wanted_mhz: f64) -> BoardError {
        BoardError::Pll {
            family: self.family,
            input_mhz,
            wanted_mhz,
            input_min: self.input.0,
            input_max: self.input.1,
            output_min: self.output.0,
            output_max: self.output.1,
        }
    }

    fn check(&self, input_mhz: f64, wanted_mhz: f64) -> Result<(), BoardError> {
        if within(input_mhz, self.input) && within(wanted_mhz, self.output) {
            Ok(())
        } else {
            Err(self.error(input_mhz, wanted_mhz))
        }
    }
}

/// An iCE40 `SB_PLL40` setting in simple feedback (`icepll`'s default).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ice40Pll {
    pub divr: u32,
    pub divf: u32,
    pub divq: u32,
    pub filter_range: u32,
    pub output_mhz: f64,
}

impl Ice40Pll {
    /// The setting nearest `output_mhz` from `input_mhz`, found as `icepll` finds it.
    pub fn new(input_mhz: f64, output_mhz: f64) -> Result<Self, BoardError> {
        const RANGES: PllRanges = PllRanges {
            family: "iCE40",
            input: (10.0, 133.0),
            output: (16.0, 275.0),
        };
        RANGES.check(input_mhz, output_mhz)?;
        let mut best: Option<(u32, u32, u32, f64)> = None;
        for divr in 0..=15u32 {
            let pfd = input_mhz / f64::from(divr + 1);
            if !within(pfd, (10.0, 133.0)) {
                continue;
            }
            for divf in 0..=127u32 {
                let vco = pfd * f64::from(divf + 1);
                if !within(vco, (533.0, 1066.0)) {
                    continue;
                }
                for divq in 1..=6u32 {
                    let out = vco * (-f64::from(divq)).exp2();
                    // Strictly nearer only: the first of equals wins.
                    if best.is_none_or(|b| (out - output_mhz).abs() < (b.3 - output_mhz).abs()) {
                        best = Some((divr, divf, divq, out));
                    }
                }
            }
        }
        let (divr, divf, divq, out) = best.ok_or(RANGES.error(input_mhz, output_mhz))?;
        let pfd = input_mhz / f64::from(divr + 1);
        let filter_range = [17.0, 26.0, 44.0, 66.0, 101.0]
            .iter()
            .position(|&limit| pfd < limit)
            .map_or(6, |i| i as u32 + 1);
        Ok(Ice40Pll {
            divr,
            divf,
            divq,
            filter_range,
            output_mhz: out,
        })
    }
}

/// An ECP5 `EHXPLLL` setting, its primary output fed back (`ecppll`'s default).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ecp5Pll {
    pub clki_div: u32,
    pub clkfb_div: u32,
    pub clkop_div: u32,
    /// The primary output's coarse phase: 180 degrees, as Lattice's tools set it.
    pub clkop_cphase: u32,
    /// `ecppll` computes in single precision; so does this, to choose as it does.
    pub output_mhz: f32,
}

impl Ecp5Pll {
    /// The setting nearest `output_mhz` from `input_mhz`, found as `ecppll` finds it.
    pub fn new(input_mhz: f64, output_mhz: f64) -> Result<Self, BoardError> {
        const RANGES: PllRanges = PllRanges {
            family: "ECP5",
            input: (8.0, 400.0),
            output: (10.0, 400.0),
        };
        RANGES.check(input_mhz, output_mhz)?;
        let (input, wanted) = (input_mhz as f32, output_mhz as f32);
        let mut best: Option<(Ecp5Pll, f32)> = None;
        let mut error = f32::MAX;
        for clki_div in 1..=128u32 {
            let pfd = input / clki_div as f32;
            if !(3.125..=400.0).contains(&pfd) {
                continue;
            }
            for clkfb_div in 1..=80u32 {
                for clkop_div in 1..=128u32 {
                    let vco = pfd * clkfb_div as f32 * clkop_div as f32;
                    if !(400.0..=800.0).contains(&vco) {
                        continue;
                    }
                    let out = vco / clkop_div as f32;
                    let off = (out - wanted).abs();
                    let nearer_600 =
                        best.is_none_or(|(_, v)| (vco - 600.0).abs() < (v - 600.0).abs());
                    if off < error || (off == error && nearer_600) {
                        error = off;
                        // Half a period of the output, in VCO cycles, truncated; the
                        // widths are ecppll's (a float phase times a double frequency).
                        let half_period_ns = (1.0 / (f64::from(out) * 1e6) * 0.5) as f32;
                        let cphase = (f64::from(half_period_ns) * (f64::from(vco) * 1e6)) as u32;
                        best = Some((
                            Ecp5Pll {
                                clki_div,
                                clkfb_div,
                                clkop_div,
                                clkop_cphase: cphase,
                                output_mhz: out,
                            },
                            vco,
                        ));
                    }
                }
            }
        }
        best.map(|(p, _)| p)
            .ok_or(RANGES.error(input_mhz, output_mhz))
    }
}

impl BoardTop {
    /// The chip's clock.
    pub fn clock_mhz(&self) -> f64 {
        self.pll.map_or(self.oscillator_mhz, |p| p.output_mhz())
    }

    /// Clock cycles a bit of the serial line, or why the clock cannot make the baud rate.
    pub fn cycles_per_bit(&self) -> Result<u32, BoardError> {
        let baud = self.baud;
        if !BAUD_RANGE.contains(&baud) {
            return Err(BoardError::Baud { baud });
        }
        let clock_mhz = self.clock_mhz();
        let exact = clock_mhz * 1e6 / f64::from(baud);
        let cycles = exact.round().max(1.0) as u32;
        let error = (f64::from(cycles) - exact).abs() / exact;
        if cycles < MIN_CYCLES_PER_BIT || error > MAX_BAUD_ERROR {
            return Err(BoardError::BaudError {
                baud,
                clock_mhz,
                cycles,
                error_pct: error * 100.0,
            });
        }
        Ok(cycles)
    }

    /// Clock cycles of [`FRAME_TIMEOUT_MS`].
    pub fn timeout_cycles(&self) -> u64 {
        (self.clock_mhz() * 1e3 * f64::from(FRAME_TIMEOUT_MS)).round() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The flow's tests compare these against icepll and ecppll themselves, over many clocks.
    #[test]
    fn the_icebreaker_and_ulx3s_clocks_are_the_tools_settings() {
        let p = Ice40Pll::new(12.0, 30.0).unwrap();
        assert_eq!((p.divr, p.divf, p.divq, p.filter_range), (0, 79, 5, 1));
        assert_eq!(p.output_mhz, 30.0);
        let p = Ecp5Pll::new(25.0, 60.0).unwrap();
        let got = (p.clki_div, p.clkfb_div, p.clkop_div, p.clkop_cphase);
        assert_eq!(got, (5, 12, 10, 4));
        let p = Ecp5Pll::new(12.0, 16.0).unwrap();
        let got = (p.clki_div, p.clkfb_div, p.clkop_div, p.clkop_cphase);
        assert_eq!(got, (3, 4, 37, 18));
    }

    #[test]
    fn clocks_a_pll_cannot_make_are_errors_naming_its_range() {
        let e = Ice40Pll::new(12.0, 500.0).unwrap_err().to_string();
        assert!(e.contains("16-275 MHz out"), "{e}");
        assert!(Ecp5Pll::new(2.0, 60.0).is_err());
    }

    #[test]
    fn baud_rates_are_checked_against_the_clock() {
        let top = |mhz: f64, baud| BoardTop {
            name: "test".into(),
            oscillator_mhz: mhz,
            pll: None,
            baud,
            leds: 1,
            leds_active_low: false,
            button_active_low: false,
            tie_high: 0,
        };
        assert_eq!(top(30.0, 3_000_000).cycles_per_bit(), Ok(10));
        assert_eq!(top(12.0, 115_200).cycles_per_bit(), Ok(104));
        // 12 MHz / 1 Mbaud is exact; 12 MHz / 921600 is 13.02 cycles: fine; 3 Mbaud is 4.
        assert_eq!(top(12.0, 3_000_000).cycles_per_bit(), Ok(4));
        let e = top(10.0, 3_000_000)
            .cycles_per_bit()
            .unwrap_err()
            .to_string();
        assert!(e.contains("3 cycles a bit"), "{e}");
        let e = top(30.0, 9600).cycles_per_bit().unwrap_err();
        assert_eq!(e, BoardError::Baud { baud: 9600 });
        assert_eq!(top(30.0, 115_200).timeout_cycles(), 3_000_000);
    }
}
