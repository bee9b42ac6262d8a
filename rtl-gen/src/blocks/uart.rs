//! A serial line's two ends, 8N1 (a start bit, eight data bits least significant first, a
//! stop bit): `mtn_uart_rx` and `mtn_uart_tx`, their bit period a whole number of clock
//! cycles fixed at generation ([`crate::board::BoardTop::cycles_per_bit`]).
//!
//! The line idles high. Both keep it inverted in their registers, so that the reset value
//! (zero) is the idle line.

use isa::encoding::bits_for;

use crate::ast::*;

/// The bits of a frame: start, eight data, stop.
const FRAME_BITS: u32 = 10;

/// The byte stream between a UART end and its user: `data` with a one-cycle `valid` (the
/// receiver's outputs), or `valid` held until `ready` (the transmitter's inputs).
fn byte_ports(m: &mut Module, dir: Dir) {
    match dir {
        Dir::Input => {
            m.input("data_i", 8);
            m.input("valid_i", 1);
            m.output("ready_o", 1);
        }
        Dir::Output => {
            m.output("data_o", 8);
            m.output("valid_o", 1);
        }
    }
}

/// `mtn_uart_rx`.
pub fn uart_rx(cycles_per_bit: u32) -> Module {
    let mut m = Module::clocked(
        "mtn_uart_rx",
        &[
            "A serial line's receiving end, 8N1: each byte whose stop bit is high is handed",
            "on with a one-cycle valid_o; a byte with a low stop bit (a framing error, or a",
            "break) is dropped. The line passes two synchronising registers, then each bit is",
            "sampled in its middle.",
        ],
    );
    m.input("rx_i", 1);
    byte_ports(&mut m, Dir::Output);
    let cw = bits_for(cycles_per_bit);

    let (meta_d, meta_q) = m.flop("low_meta", 1, true);
    m.assign(meta_d, !id("rx_i"));
    let (low_d, low) = m.flop("low", 1, true);
    m.assign(low_d, meta_q);
    let (busy_d, busy_q) = m.flop("busy", 1, false);
    let (bit_d, bit_q) = m.flop("bit", 4, false);
    let (count_d, count_q) = m.flop("count", cw, false);
    let (shift_d, shift_q) = m.flop("shift", 8, false);
    let (valid_d, valid_q) = m.flop("valid", 1, false);
    m.comb(vec![
        set(busy_d.clone(), busy_q.clone()),
        set(bit_d.clone(), bit_q.clone()),
        set(count_d.clone(), count_q.clone()),
        set(shift_d.clone(), shift_q.clone()),
        set(valid_d.clone(), zero(1)),
        if_else(
            busy_q.clone().lnot(),
            // A low line may be a start bit: look again half a bit on.
            vec![if_(
                low.clone(),
                vec![
                    set(busy_d.clone(), lit(1, 1)),
                    set(bit_d.clone(), zero(4)),
                    set(count_d.clone(), lit(cw, u64::from(cycles_per_bit / 2 - 1))),
                ],
            )],
            vec![if_else(
                count_q.clone().ne(zero(cw)),
                vec![set(count_d.clone(), count_q.clone() - lit(cw, 1))],
                vec![
                    set(count_d, lit(cw, u64::from(cycles_per_bit - 1))),
                    set(bit_d, bit_q.clone() + lit(4, 1)),
                    if_else(
                        bit_q.clone().eq(zero(4)),
                        // A start bit gone high again was a glitch.
                        vec![if_(low.clone().lnot(), vec![set(busy_d.clone(), zero(1))])],
                        vec![if_else(
                            bit_q.eq(lit(4, u64::from(FRAME_BITS - 1))),
                            vec![set(busy_d, zero(1)), set(valid_d, low.clone().lnot())],
                            vec![set(
                                shift_d,
                                cat(vec![low.lnot(), shift_q.clone().bits(7, 1)]),
                            )],
                        )],
                    ),
                ],
            )],
        ),
    ]);
    m.assign(id("data_o"), shift_q);
    m.assign(id("valid_o"), valid_q);
    m
}

/// `mtn_uart_tx`.
pub fn uart_tx(cycles_per_bit: u32) -> Module {
    let mut m = Module::clocked(
        "mtn_uart_tx",
        &[
            "A serial line's sending end, 8N1: a byte offered with valid_i while ready_o is",
            "high is sent; ready_o is low until its stop bit has been on the line a full bit.",
        ],
    );
    byte_ports(&mut m, Dir::Input);
    m.output("tx_o", 1);
    let cw = bits_for(cycles_per_bit);
    let bw = bits_for(FRAME_BITS);

    // The frame's bits inverted, the one on the line lowest: shifting in zeros idles it.
    let (frame_d, frame_q) = m.flop("frame_low", FRAME_BITS, false);
    let (busy_d, busy_q) = m.flop("busy", 1, false);
    let (left_d, left_q) = m.flop("bits_left", bw, false);
    let (count_d, count_q) = m.flop("count", cw, false);
    let period = lit(cw, u64::from(cycles_per_bit - 1));
    m.comb(vec![
        set(frame_d.clone(), frame_q.clone()),
        set(busy_d.clone(), busy_q.clone()),
        set(left_d.clone(), left_q.clone()),
        set(count_d.clone(), count_q.clone()),
        if_else(
            busy_q.clone().lnot(),
            vec![if_(
                id("valid_i"),
                vec![
                    // Stop (high), the data, start (low); inverted.
                    set(
                        frame_d.clone(),
                        cat(vec![zero(1), !id("data_i"), lit(1, 1)]),
                    ),
                    set(busy_d.clone(), lit(1, 1)),
                    set(left_d.clone(), lit(bw, u64::from(FRAME_BITS - 1))),
                    set(count_d.clone(), period.clone()),
                ],
            )],
            vec![if_else(
                count_q.clone().ne(zero(cw)),
                vec![set(count_d.clone(), count_q - lit(cw, 1))],
                vec![if_else(
                    left_q.clone().eq(zero(bw)),
                    vec![set(busy_d, zero(1))],
                    vec![
                        set(
                            frame_d,
                            cat(vec![zero(1), frame_q.clone().bits(FRAME_BITS - 1, 1)]),
                        ),
                        set(left_d, left_q - lit(bw, 1)),
                        set(count_d, period),
                    ],
                )],
            )],
        ),
    ]);
    m.assign(id("ready_o"), busy_q.lnot());
    m.assign(id("tx_o"), !frame_q.bit(0));
    m
}
