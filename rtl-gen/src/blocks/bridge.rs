//! `mtn_uartbone`: the bridge from LiteX's UARTBone frames ([`crate::uartbone`]) on a serial
//! line to the chip's host port ([`crate::host_map`]).

use isa::encoding::bits_for;

use super::host::pins_bundle;
use crate::ast::*;
use crate::board::FRAME_TIMEOUT_MS;
use crate::ctx::Ctx;
use crate::host_map::READ_LATENCY;
use crate::packed::Enum;
use crate::uartbone::Command;

#[derive(Clone, Copy, Debug, PartialEq)]
enum State {
    /// Waiting for a command byte.
    Command,
    Length,
    Address,
    /// Receiving a word to write.
    WriteData,
    /// Issuing a read.
    Read,
    /// Waiting for the read's data.
    ReadWait,
    /// Sending the word read.
    Send,
}

const STATES: [(State, &str); 7] = [
    (State::Command, "command"),
    (State::Length, "length"),
    (State::Address, "address"),
    (State::WriteData, "write_data"),
    (State::Read, "read"),
    (State::ReadWait, "read_wait"),
    (State::Send, "send"),
];

/// `mtn_uartbone`; a frame silent for `timeout_cycles` before its end is dropped.
pub fn uartbone(ctx: &Ctx, timeout_cycles: u64) -> Module {
    let ab = ctx.host_addr_bits;
    let timeout = format!(
        "space do nothing and read zero. A frame silent for {FRAME_TIMEOUT_MS} ms ({timeout_cycles} cycles)"
    );
    let mut m = Module::clocked(
        "mtn_uartbone",
        &[
            "LiteX's UARTBone frames to the host port: command, length, word address (most",
            "significant byte first), then the words to write, or the words read sent back",
            "(most significant byte first). Writes and reads outside the host port's address",
            &timeout,
            "before its end is dropped. See rtl_gen::uartbone.",
        ],
    );
    m.input("rx_data_i", 8);
    m.input("rx_valid_i", 1);
    m.output("tx_data_o", 8);
    m.output("tx_valid_o", 1);
    m.input("tx_ready_i", 1);
    pins_bundle(ctx).ports(&mut m, true);

    let states = Enum::new(
        "ST",
        bits_for(STATES.len() as u32),
        STATES
            .iter()
            .enumerate()
            .map(|(i, (s, n))| (*s, *n, i as u64)),
    );
    let sw = states.width();
    let tw =
        bits_for(u32::try_from(timeout_cycles + 1).expect("a frame timeout of under 2^32 cycles"));
    let (state_d, state_q) = m.flop("state", sw, false);
    let (write_d, write_q) = m.flop("is_write", 1, false);
    let (incr_d, incr_q) = m.flop("increments", 1, false);
    let (len_d, len_q) = m.flop("words_left", 8, false);
    let (byte_d, byte_q) = m.flop("byte", 2, false);
    let (shift_d, shift_q) = m.flop("shift", 32, false);
    // The word address, and whether it is outside the host port's space.
    let (addr_d, addr_q) = m.flop("addr", ab, false);
    let (outside_d, outside_q) = m.flop("outside", 1, false);
    let (silent_d, silent_q) = m.flop("silent", tw, false);
    let ww = bits_for(READ_LATENCY + 1);
    let (wait_d, wait_q) = m.flop("wait", ww, false);
    // The host port's request, registered.
    let (req_d, req_q) = m.flop("req", 1, false);
    let (we_d, we_q) = m.flop("we", 1, false);
    let (haddr_d, haddr_q) = m.flop("host_addr", ab, false);
    let (wdata_d, wdata_q) = m.flop("wdata", 32, false);

    let byte = id("rx_data_i");
    let got = id("rx_valid_i");
    let is = |s: State| state_q.clone().eq(states.of(s));
    let goto = |s: State| set(state_d.clone(), states.of(s));
    // The word with this byte shifted in, lowest.
    let word_in = m.wire_of(
        "word_in",
        32,
        cat(vec![shift_q.clone().bits(23, 0), byte.clone()]),
    );
    let last_byte = byte_q.clone().eq(lit(2, 3));
    let last_word = len_q.clone().eq(lit(8, 1));
    // Past the top of the space, the address stays outside it.
    let next_addr = vec![if_(
        incr_q.clone(),
        vec![
            set(addr_d.clone(), addr_q.clone() + lit(ab, 1)),
            set(
                outside_d.clone(),
                outside_q.clone().lor(addr_q.clone().reduce_and()),
            ),
        ],
    )];
    let after_word = vec![
        set(len_d.clone(), len_q.clone() - lit(8, 1)),
        if_(last_word.clone(), vec![goto(State::Command)]),
    ];
    let command_arms: Vec<(Vec<Expr>, Vec<Stmt>)> = Command::ALL
        .iter()
        .map(|c| {
            (
                vec![lit(8, u64::from(c.code()))],
                vec![
                    set(write_d.clone(), lit(1, u64::from(c.is_write()))),
                    set(incr_d.clone(), lit(1, u64::from(c.increments()))),
                    goto(State::Length),
                ],
            )
        })
        .collect();
    let receiving = is(State::Length) | is(State::Address) | is(State::WriteData);

    let mut body = vec![
        set(state_d.clone(), state_q.clone()),
        set(write_d, write_q.clone()),
        set(incr_d, incr_q.clone()),
        set(len_d.clone(), len_q.clone()),
        set(byte_d.clone(), byte_q.clone()),
        set(shift_d.clone(), shift_q.clone()),
        set(addr_d.clone(), addr_q.clone()),
        set(outside_d.clone(), outside_q.clone()),
        set(wait_d.clone(), wait_q.clone()),
        set(req_d.clone(), zero(1)),
        set(we_d.clone(), we_q.clone()),
        set(haddr_d.clone(), haddr_q.clone()),
        set(wdata_d.clone(), wdata_q.clone()),
        Stmt::Comment(
            "Silence inside a frame is counted; at the limit the frame is dropped.".into(),
        ),
        set(
            silent_d.clone(),
            mux(
                receiving.clone().land(got.clone().lnot()),
                silent_q.clone() + lit(tw, 1),
                zero(tw),
            ),
        ),
    ];
    let byte_step = set(byte_d.clone(), byte_q.clone() + lit(2, 1));
    // A byte of a word (the address, or one to write) shifted in; `on_last` after its fourth.
    let word_byte = |on_last: Vec<Stmt>| {
        vec![if_(
            got.clone(),
            vec![
                set(shift_d.clone(), word_in.clone()),
                byte_step.clone(),
                if_(last_byte.clone(), on_last),
            ],
        )]
    };
    body.push(Stmt::Case(
        state_q.clone(),
        vec![
            (
                vec![states.of(State::Command)],
                vec![if_(
                    got.clone(),
                    vec![Stmt::Case(byte.clone(), command_arms, vec![])],
                )],
            ),
            (
                vec![states.of(State::Length)],
                vec![if_(
                    got.clone(),
                    vec![
                        set(len_d.clone(), byte.clone()),
                        set(byte_d.clone(), zero(2)),
                        goto(State::Address),
                    ],
                )],
            ),
            (
                vec![states.of(State::Address)],
                word_byte(vec![
                    set(addr_d.clone(), word_in.clone().bits(ab - 1, 0)),
                    set(outside_d.clone(), word_in.clone().bits(31, ab).reduce_or()),
                    if_else(
                        len_q.clone().eq(zero(8)),
                        vec![goto(State::Command)],
                        vec![if_else(
                            write_q.clone(),
                            vec![goto(State::WriteData)],
                            vec![goto(State::Read)],
                        )],
                    ),
                ]),
            ),
            (
                vec![states.of(State::WriteData)],
                word_byte(
                    [
                        vec![
                            set(req_d.clone(), outside_q.clone().lnot()),
                            set(we_d.clone(), lit(1, 1)),
                            set(haddr_d.clone(), addr_q.clone()),
                            set(wdata_d, word_in.clone()),
                        ],
                        next_addr.clone(),
                        after_word.clone(),
                    ]
                    .concat(),
                ),
            ),
            (
                vec![states.of(State::Read)],
                [
                    vec![
                        set(req_d, outside_q.clone().lnot()),
                        set(we_d, zero(1)),
                        set(haddr_d, addr_q.clone()),
                        set(wait_d.clone(), lit(ww, u64::from(READ_LATENCY))),
                        goto(State::ReadWait),
                    ],
                    next_addr,
                ]
                .concat(),
            ),
            (
                vec![states.of(State::ReadWait)],
                vec![if_else(
                    wait_q.clone().eq(zero(ww)),
                    vec![
                        set(
                            shift_d.clone(),
                            mux(outside_q.clone(), zero(32), id("host_rdata_i")),
                        ),
                        set(byte_d.clone(), zero(2)),
                        goto(State::Send),
                    ],
                    vec![set(wait_d, wait_q.clone() - lit(ww, 1))],
                )],
            ),
            (
                vec![states.of(State::Send)],
                vec![if_(
                    id("tx_ready_i"),
                    vec![
                        set(shift_d, cat(vec![shift_q.clone().bits(23, 0), zero(8)])),
                        byte_step,
                        if_(
                            last_byte,
                            [
                                after_word,
                                vec![if_(last_word.lnot(), vec![goto(State::Read)])],
                            ]
                            .concat(),
                        ),
                    ],
                )],
            ),
        ],
        vec![goto(State::Command)],
    ));
    // A byte arriving as the limit is reached still counts (it may start the next frame).
    body.push(if_(
        silent_q
            .eq(lit(tw, timeout_cycles))
            .land(got.clone().lnot()),
        vec![goto(State::Command)],
    ));
    m.comb(body);
    states.declare(&mut m, "States.");

    m.assign(id("tx_data_o"), shift_q.bits(31, 24));
    m.assign(id("tx_valid_o"), is(State::Send));
    m.assign(id("host_req_o"), req_q);
    m.assign(id("host_we_o"), we_q);
    m.assign(id("host_addr_o"), haddr_q);
    m.assign(id("host_wdata_o"), wdata_q);
    m
}
