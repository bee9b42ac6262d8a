//! The boards `metronome synth --board` builds for: one entry each, its pins from the board
//! maker's published constraint file (`../shared/notes/fpga.md`). The board top's port names
//! are `rtl_gen::board::Port`'s; the pin files made here (`.pcf`, `.lpf`) map them, and the
//! copies in `constraints/` are these files as generated (a test keeps them so).

use rtl_gen::board::{BoardTop, Ecp5Pll, Ice40Pll, Pll, Port, LEDS};
use serde::Serialize;

use crate::device::{Device, Family};

/// A pull resistor the FPGA's pad should add.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pull {
    None,
    Up,
    Down,
}

/// One pin: the package's name for it, and the board's name for the signal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pin {
    pub site: &'static str,
    pub signal: &'static str,
    pub pull: Pull,
}

const fn pin(site: &'static str, signal: &'static str) -> Pin {
    Pin {
        site,
        signal,
        pull: Pull::None,
    }
}

const fn pulled(site: &'static str, signal: &'static str, pull: Pull) -> Pin {
    Pin { site, signal, pull }
}

/// A board.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Board {
    /// The name `--board` takes.
    pub name: &'static str,
    /// What its maker calls it.
    pub title: &'static str,
    /// Its FPGA, by [`Device::name`].
    pub device: &'static str,
    pub oscillator: Pin,
    pub oscillator_mhz: f64,
    /// The serial line from the board's USB-UART into the FPGA, and back.
    pub uart_rx: Pin,
    pub uart_tx: Pin,
    /// The reset button.
    pub button: Pin,
    pub button_active_low: bool,
    /// The LEDs, in the order the top uses them ([`LEDS`]).
    pub leds: &'static [Pin],
    pub leds_active_low: bool,
    /// Pins that must be driven high.
    pub tie_high: &'static [Pin],
    /// The I/O standard of every pin, where the family's pin file names one.
    pub io_standard: Option<&'static str>,
}

const ULX3S_LEDS: [Pin; 8] = [
    pin("B2", "led[0]"),
    pin("C2", "led[1]"),
    pin("C1", "led[2]"),
    pin("D2", "led[3]"),
    pin("D1", "led[4]"),
    pin("E2", "led[5]"),
    pin("E1", "led[6]"),
    pin("H3", "led[7]"),
];

// Driven low (or left floating) it lets the ESP32 reset the FPGA.
const ULX3S_TIE_HIGH: [Pin; 1] = [pin("L2", "wifi_gpio0")];

/// A ULX3S with the ECP5 `device`: the boards differ only in their part.
const fn ulx3s(name: &'static str, title: &'static str, device: &'static str) -> Board {
    Board {
        name,
        title,
        device,
        oscillator: pin("G2", "clk_25mhz"),
        oscillator_mhz: 25.0,
        // The FTDI chip's names are from its side: it transmits on ftdi_txd.
        uart_rx: pulled("M1", "ftdi_txd", Pull::Up),
        uart_tx: pin("L4", "ftdi_rxd"),
        // FIRE1, active high with a pull-down; not BTN_PWRn, which also powers the board off.
        button: pulled("R1", "btn[1] (FIRE1)", Pull::Down),
        button_active_low: false,
        leds: &ULX3S_LEDS,
        leds_active_low: false,
        tie_high: &ULX3S_TIE_HIGH,
        io_standard: Some("LVCMOS33"),
    }
}

/// Every board `--board` accepts.
pub const BOARDS: [Board; 4] = [
    Board {
        name: "icebreaker",
        title: "iCEBreaker",
        device: "up5k",
        // A PLL input pin: SB_PLL40_PAD takes the oscillator straight from it.
        oscillator: pin("35", "CLK"),
        oscillator_mhz: 12.0,
        uart_rx: pulled("6", "RX", Pull::Up),
        uart_tx: pin("9", "TX"),
        button: pin("10", "BTN_N"),
        button_active_low: true,
        leds: &[pin("37", "LEDG_N"), pin("11", "LEDR_N")],
        leds_active_low: true,
        tie_high: &[],
        io_standard: None,
    },
    ulx3s("ulx3s-85f", "ULX3S (LFE5U-85F)", "ecp5-85f"),
    ulx3s("ulx3s-45f", "ULX3S (LFE5U-45F)", "ecp5-45f"),
    ulx3s("ulx3s-25f", "ULX3S (LFE5U-25F)", "ecp5-25f"),
];

/// The serial line's rate when none is asked for: what every tool and terminal speaks.
pub const DEFAULT_BAUD: u32 = 115_200;

/// A board as a report names it.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct BoardReport {
    pub name: String,
    pub oscillator_mhz: f64,
    /// The chip's clock, as the PLL makes it.
    pub clock_mhz: f64,
    pub baud: u32,
}

impl Board {
    /// The board called `name`, or an error listing the boards there are.
    pub fn named(name: &str) -> Result<Board, String> {
        crate::device::by_name(&BOARDS, name, |b| b.name, "board")
    }

    pub fn device(&self) -> Device {
        Device::named(self.device).expect("every board's device is in DEVICES")
    }

    /// The board top for a chip clocked at (nearly) `clock_mhz` with its serial line at
    /// `baud`: the PLL setting nearest the clock.
    pub fn top(&self, clock_mhz: f64, baud: u32) -> Result<BoardTop, rtl_gen::board::BoardError> {
        let pll = match self.device().family {
            Family::Ice40 => Pll::Ice40(Ice40Pll::new(self.oscillator_mhz, clock_mhz)?),
            Family::Ecp5 => Pll::Ecp5(Ecp5Pll::new(self.oscillator_mhz, clock_mhz)?),
        };
        self.top_with(Some(pll), baud)
    }

    /// The board top as a simulation builds it: no PLL, the chip on the oscillator's clock.
    pub fn simulated_top(&self, baud: u32) -> Result<BoardTop, rtl_gen::board::BoardError> {
        self.top_with(None, baud)
    }

    fn top_with(
        &self,
        pll: Option<Pll>,
        baud: u32,
    ) -> Result<BoardTop, rtl_gen::board::BoardError> {
        let top = BoardTop {
            name: self.title.into(),
            oscillator_mhz: self.oscillator_mhz,
            pll,
            baud,
            leds: self.leds.len() as u32,
            leds_active_low: self.leds_active_low,
            button_active_low: self.button_active_low,
            tie_high: self.tie_high.len() as u32,
        };
        top.cycles_per_bit()?;
        Ok(top)
    }

    /// Every pin, with the top's port name for it.
    fn pins(&self) -> Vec<(String, Pin)> {
        let one = |port: Port, p: Pin| (port.name().to_string(), p);
        let many = |port: Port, pins: &[Pin]| -> Vec<(String, Pin)> {
            pins.iter()
                .enumerate()
                .map(|(k, p)| (format!("{}[{k}]", port.name()), *p))
                .collect()
        };
        let mut all = vec![
            one(Port::Clock, self.oscillator),
            one(Port::UartRx, self.uart_rx),
            one(Port::UartTx, self.uart_tx),
            one(Port::Button, self.button),
        ];
        all.extend(many(Port::Led, self.leds));
        all.extend(many(Port::TieHigh, self.tie_high));
        all
    }

    /// The pin file's name for the family.
    pub fn pin_file_name(&self) -> String {
        let ext = match self.device().family {
            Family::Ice40 => "pcf",
            Family::Ecp5 => "lpf",
        };
        format!("{}.{ext}", self.name)
    }

    /// The pin file: the family's format, every port of the board top on its pin.
    pub fn pin_file(&self) -> String {
        let mut text = format!(
            "# {}: the pins of Metronome's board top (mtn_board_top), generated by `fpga::Board`\n\
             # from the board maker's constraint file; regenerate, do not edit.\n\
             # LEDs: {}.\n",
            self.title,
            LEDS.iter()
                .take(self.leds.len())
                .map(|(_, meaning)| *meaning)
                .collect::<Vec<_>>()
                .join("; ")
        );
        for (port, p) in self.pins() {
            match self.device().family {
                Family::Ice40 => {
                    let pull = match p.pull {
                        Pull::Up => "-pullup yes ",
                        Pull::None => "",
                        Pull::Down => unreachable!("iCE40 pads have no pull-down"),
                    };
                    text += &format!("set_io {pull}{port} {}  # {}\n", p.site, p.signal);
                }
                Family::Ecp5 => {
                    text += &format!(
                        "LOCATE COMP \"{port}\" SITE \"{}\";  # {}\n",
                        p.site, p.signal
                    );
                    let mut attrs = Vec::new();
                    match p.pull {
                        Pull::Up => attrs.push("PULLMODE=UP".to_string()),
                        Pull::Down => attrs.push("PULLMODE=DOWN".to_string()),
                        Pull::None => {}
                    }
                    if let Some(standard) = self.io_standard {
                        attrs.push(format!("IO_TYPE={standard}"));
                    }
                    if !attrs.is_empty() {
                        text += &format!("IOBUF PORT \"{port}\" {};\n", attrs.join(" "));
                    }
                }
            }
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boards_are_found_by_name_and_unknown_ones_listed() {
        assert_eq!(
            Board::named("ULX3S-85F").unwrap().device().part,
            "LFE5U-85F-6BG381C"
        );
        let e = Board::named("arty").unwrap_err();
        assert!(e.contains("icebreaker, ulx3s-85f"), "{e}");
    }

    /// The committed pin files are the generated ones.
    #[test]
    fn the_pin_files_in_constraints_are_current() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../constraints");
        for board in BOARDS {
            let path = dir.join(board.pin_file_name());
            let kept = std::fs::read_to_string(&path).unwrap_or_default();
            if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
                std::fs::write(&path, board.pin_file()).unwrap();
                continue;
            }
            assert_eq!(
                kept,
                board.pin_file(),
                "{} is not what fpga::Board generates: rerun with UPDATE_SNAPSHOTS=1",
                path.display()
            );
        }
    }

    #[test]
    fn a_board_top_gets_the_pll_clock_nearest_the_one_asked() {
        let b = Board::named("icebreaker").unwrap();
        let top = b.top(30.0, DEFAULT_BAUD).unwrap();
        assert_eq!(top.clock_mhz(), 30.0);
        assert_eq!(top.leds, 2);
        let e = b.top(300.0, DEFAULT_BAUD).unwrap_err().to_string();
        assert!(e.contains("16-275 MHz"), "{e}");
    }
}
