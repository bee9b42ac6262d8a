//! The chip on a board: `mtn_board_top` makes the chip's clock with the part's PLL and a
//! reset from the button and the PLL's lock; `mtn_board` (on that clock) puts the host port
//! behind a UARTBone bridge on the board's serial line and shows the chip's state on the
//! LEDs ([`crate::board::LEDS`]).

use isa::encoding::bits_for;

use super::fpga::{global, open_traces};
use super::host::pins_bundle;
use crate::ast::*;
use crate::board::{BoardTop, Pll, Port, LEDS};
use crate::cells::Cell;
use crate::ctx::Ctx;

/// `mtn_reset_sync`: a reset asserted at once and released on the clock, two cycles on.
pub fn reset_sync() -> Module {
    let mut m = Module::clocked(
        "mtn_reset_sync",
        &[
            "A reset for the clock's domain: rst_no goes low as soon as rst_ni does and comes",
            "back high two clock edges after rst_ni has, in step with the clock.",
        ],
    );
    m.output("rst_no", 1);
    let (first_d, first_q) = m.flop("first", 1, true);
    m.assign(first_d, lit(1, 1));
    let (second_d, second_q) = m.flop("second", 1, true);
    m.assign(second_d, first_q);
    m.assign(id("rst_no"), second_q);
    m
}

/// `mtn_board`: the bridge, the serial line's two ends, the chip and the LEDs' states.
pub fn board(ctx: &Ctx, top: &BoardTop, chip: &Module) -> Module {
    let mut m = Module::clocked(
        "mtn_board",
        &[
            "The chip behind a UARTBone bridge on a serial line, and the states the LEDs show:",
            "alive (a blink of about a second), halted, running.",
        ],
    );
    m.input(Port::UartRx.name(), 1);
    m.output(Port::UartTx.name(), 1);
    for (name, _) in LEDS {
        m.output(&format!("{name}_o"), 1);
    }

    let byte = |m: &mut Module, side: &str| {
        (
            m.wire(&format!("{side}_data"), 8),
            m.wire(&format!("{side}_valid"), 1),
        )
    };
    let (rx_data, rx_valid) = byte(&mut m, "rx");
    let (tx_data, tx_valid) = byte(&mut m, "tx");
    let tx_ready = m.wire("tx_ready", 1);
    m.instance(
        Instance::new("mtn_uart_rx", "u_rx")
            .clocked()
            .conn("rx_i", id(Port::UartRx.name()))
            .conn("data_o", rx_data.clone())
            .conn("valid_o", rx_valid.clone()),
    );
    m.instance(
        Instance::new("mtn_uart_tx", "u_tx")
            .clocked()
            .conn("data_i", tx_data.clone())
            .conn("valid_i", tx_valid.clone())
            .conn("ready_o", tx_ready.clone())
            .conn("tx_o", id(Port::UartTx.name())),
    );
    let pins = pins_bundle(ctx);
    pins.wires(&mut m);
    m.instance(
        pins.connect(
            Instance::new("mtn_uartbone", "u_bridge")
                .clocked()
                .conn("rx_data_i", rx_data)
                .conn("rx_valid_i", rx_valid)
                .conn("tx_data_o", tx_data)
                .conn("tx_valid_o", tx_valid)
                .conn("tx_ready_i", tx_ready),
            true,
        ),
    );
    let running = m.wire("running", 1);
    let halted = m.wire("halted", 1);
    let chip_inst = pins
        .connect(Instance::new("mtn_chip", "u_chip").clocked(), false)
        .conn("running_o", running.clone())
        .conn("halted_o", halted.clone());
    let chip_inst = open_traces(&mut m, chip, chip_inst);
    m.instance(chip_inst);
    // A register between each state and its pin, so that the pin at the die's edge hangs on
    // a net of its own rather than on the sequencer's state net (on the ULX3S it did not
    // change where nextpnr's analytic placer put the chip: BENCHMARKS.md).
    for (name, state) in [("running", running), ("halted", halted)] {
        let (d, q) = m.flop(&format!("{name}_led"), 1, true);
        m.assign(d, state);
        m.assign(id(format!("{name}_o")), q);
    }

    // The counter's top bit turns over every 2^w cycles, w the bits of a second's cycles:
    // a period of one to two seconds.
    let second = (top.clock_mhz() * 1e6).round() as u32;
    let w = bits_for(second);
    let (beat_d, beat_q) = m.flop("beat", w, true);
    m.assign(beat_d, beat_q.clone() + lit(w, 1));
    m.assign(id("alive_o"), beat_q.bit(w - 1));
    m
}

/// `mtn_board_top`.
pub fn board_top(top: &BoardTop) -> Module {
    let mut m = Module::new(
        "mtn_board_top",
        &[
            &format!(
                "The chip on the {} board, at {:.3} MHz.",
                top.name,
                top.clock_mhz()
            ),
            "The PLL makes the chip's clock of the board's oscillator; the chip is held in",
            "reset (on a global network) while the button is pressed or the PLL is not locked.",
            "The LEDs show, in order: alive, halted, running. See rtl_gen::board.",
        ],
    );
    let clock_in = m.input(Port::Clock.name(), 1);
    let button = m.input(Port::Button.name(), 1);
    m.input(Port::UartRx.name(), 1);
    m.output(Port::UartTx.name(), 1);
    if top.leds > 0 {
        m.output(Port::Led.name(), top.leds);
    }
    if top.tie_high > 0 {
        m.output(Port::TieHigh.name(), top.tie_high);
    }

    let clk = m.wire("clk", 1);
    let locked = m.wire("locked", 1);
    match top.pll {
        None => {
            m.assign(clk.clone(), clock_in);
            m.assign(locked.clone(), lit(1, 1));
        }
        Some(pll) => {
            let inst = match pll {
                Pll::Ice40(p) => Instance::new(Cell::Ice40Pll.name(), "u_pll")
                    .param("DIVR", int(p.divr.into()))
                    .param("DIVF", int(p.divf.into()))
                    .param("DIVQ", int(p.divq.into()))
                    .param("FILTER_RANGE", int(p.filter_range.into())),
                Pll::Ecp5(p) => Instance::new(Cell::Ecp5Pll.name(), "u_pll")
                    .param("CLKI_DIV", int(p.clki_div.into()))
                    .param("CLKFB_DIV", int(p.clkfb_div.into()))
                    .param("CLKOP_DIV", int(p.clkop_div.into()))
                    .param("CLKOP_CPHASE", int(p.clkop_cphase.into())),
            };
            m.instance(
                inst.conn("clk_i", clock_in)
                    .conn("clk_o", clk.clone())
                    .conn("locked_o", locked.clone()),
            );
        }
    }
    let released = if top.button_active_low {
        button
    } else {
        button.lnot()
    };
    let synced = m.wire("rst_n_synced", 1);
    m.instance(
        Instance::new("mtn_reset_sync", "u_reset")
            .conn("clk_i", clk.clone())
            .conn("rst_ni", locked.land(released))
            .conn("rst_no", synced.clone()),
    );
    let rst_n = m.wire("rst_n", 1);
    m.instance(global(synced, rst_n.clone()));

    // States past the board's LEDs go unseen (Verilator's -Wall does not report signals
    // whose names contain "unused").
    let shown: Vec<Expr> = LEDS
        .iter()
        .map(|(name, _)| *name)
        .enumerate()
        .map(|(k, s)| {
            let seen = k < top.leds as usize;
            m.wire(
                &if seen {
                    s.to_string()
                } else {
                    format!("unused_{s}")
                },
                1,
            )
        })
        .collect();
    let mut inst = Instance::new("mtn_board", "u_board")
        .conn("clk_i", clk)
        .conn("rst_ni", rst_n)
        .conn(Port::UartRx.name(), id(Port::UartRx.name()))
        .conn(Port::UartTx.name(), id(Port::UartTx.name()));
    for ((name, _), wire) in LEDS.iter().zip(&shown) {
        inst = inst.conn(&format!("{name}_o"), wire.clone());
    }
    m.instance(inst);
    if top.leds > 0 {
        // LEDs past the states shown stay dark.
        let lit_leds: Vec<Expr> = (0..top.leds)
            .rev()
            .map(|k| shown.get(k as usize).cloned().unwrap_or_else(|| zero(1)))
            .collect();
        let on = cat(lit_leds);
        let driven = if top.leds_active_low { !on } else { on };
        m.assign(id(Port::Led.name()), driven);
    }
    if top.tie_high > 0 {
        m.assign(id(Port::TieHigh.name()), repeat(top.tie_high, lit(1, 1)));
    }
    m
}
