//! The board tops in simulation (Verilator, without their PLLs): the digits model loaded,
//! run and read back over the simulated serial line by the host code `metronome board run`
//! uses, bit-exact and cycle-exact against the golden model; and a bridge that answers
//! correctly after random and truncated frames.

use cosim::board_sim::SimulatedBoard;
use cosim::uart::{execute, OverUart, SerialLink};
use fpga::Board;
use isa::HwConfig;
use rtl_gen::board::FRAME_TIMEOUT_MS;
use rtl_gen::host_map::Reg;
use rtl_gen::uartbone::{read_frame, write_frame, Command};

mod digits;

fn simulated(board: &str, cfg: &HwConfig, baud: u32) -> SimulatedBoard {
    let top = Board::named(board).unwrap().simulated_top(baud).unwrap();
    SimulatedBoard::new(cfg, &top).unwrap_or_else(|e| panic!("{e}"))
}

/// Two batches of the digits model's test samples, one after the other on the same board
/// (the second finds the first's memories and must clear them).
fn digits_over_uart(board: &str, preset: &str, baud: u32) {
    let cfg = HwConfig::preset(preset).unwrap();
    let (model, compiled) = digits::compiled(&cfg);
    let mut backend = OverUart::new(simulated(board, &cfg, baud), &cfg);
    for index in 0..2 {
        digits::check_batch(&mut backend, &model, &compiled, index);
    }
}

#[test]
fn the_digits_model_runs_bit_exact_over_the_icebreaker_tops_uart() {
    // 12 MHz at 3 Mbaud: four cycles a bit, the fewest the receiver takes.
    digits_over_uart("icebreaker", "up5k", 3_000_000);
}

#[test]
fn the_digits_model_runs_bit_exact_over_the_ulx3s_tops_uart() {
    // 25 MHz at 2.5 Mbaud: ten cycles a bit. The board top is what differs from the
    // iCEBreaker's (eight LEDs, active high; a button active high; a pin tied high); the
    // chip behind it is `tiny`, whose model builds in a third of `small`'s time
    // (`metronome board run --simulate --board ulx3s-85f --preset small` runs the 8-lane one).
    digits_over_uart("ulx3s-85f", "tiny", 2_500_000);
}

/// The config hash, read over the line as any UARTBone tool would.
fn read_hash(link: &mut dyn SerialLink) -> String {
    let words = execute(
        link,
        &[Reg::HashLow, Reg::HashHigh].map(|r| cosim::host::HostOp::Read {
            chip: 0,
            addr: r as u32,
        }),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    format!("{:08x}{:08x}", words[1], words[0])
}

#[test]
fn the_bridge_answers_a_correct_read_after_random_and_truncated_frames() {
    let cfg = HwConfig::preset("up5k").unwrap();
    let mut board = simulated("icebreaker", &cfg, 3_000_000);
    let hash = cfg.hash().to_string();
    assert_eq!(read_hash(&mut board), hash);
    let mut rng = seeded::Rng::new(11);
    let whole = |rng: &mut seeded::Rng| {
        let words: Vec<u32> = (0..rng.below(4) + 1)
            .map(|_| rng.next_u64() as u32)
            .collect();
        // Outside the host port's space: nothing is written.
        write_frame(Command::Write, 1 << 20, &words)
    };
    for trial in 0..12 {
        let garbage: Vec<u8> = match trial % 4 {
            // Random bytes, commands among them.
            0 => (0..rng.below(40) + 1)
                .map(|_| rng.next_u64() as u8)
                .collect(),
            // A frame cut short anywhere.
            1 => {
                let frame = whole(&mut rng);
                frame[..rng.below(frame.len() as u32 - 1) as usize + 1].to_vec()
            }
            // A read's header cut short.
            2 => read_frame(Command::Read, Reg::HashLow as u32, 2)[..3].to_vec(),
            // A whole write out of the host port's space, then a cut one.
            _ => {
                let mut bytes = write_frame(Command::WriteFixed, u32::MAX, &[7]);
                bytes.extend(&whole(&mut rng)[..5]);
                bytes
            }
        };
        board.send(&garbage).unwrap();
        // Whatever the garbage left half-read is dropped after the frame timeout.
        board.pause(FRAME_TIMEOUT_MS + 1).unwrap();
        // Answers to garbage reads may have come back: drained by the pause's decoding.
        let _ = board.drain();
        assert_eq!(
            read_hash(&mut board),
            hash,
            "after trial {trial}: {garbage:02x?}"
        );
    }
}
