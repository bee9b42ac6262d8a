//! Test helpers and deliberately naive reference arithmetic (i64/i128 loops), written
//! independently of the code under test.
#![allow(dead_code)]

use golden::{run, Run, SystemState};
use isa::{assemble, Chunk, HwConfig, MemImage, Region, Rows};

/// `round(x / 2^e)`, ties away from zero, by plain integer division.
pub fn naive_round_div_pow2(x: i128, e: u32) -> i128 {
    let d = 1i128 << e;
    let (q, r) = (x.abs() / d, x.abs() % d);
    let q = if 2 * r >= d { q + 1 } else { q };
    if x < 0 {
        -q
    } else {
        q
    }
}

/// The `docs/numerics.md` requantization formula, step by step in wide integers.
pub fn naive_requant(acc: i32, bias: i32, m: i32, shift: i32) -> i64 {
    // int32 wrap-around of the bias add and of the left shift.
    let x = (acc as i64 + bias as i64) as i32;
    let left = shift.max(0) as u32;
    let right = (-shift).max(0) as u32;
    let x = ((x as i64) << left) as i32;
    // (x * M + 2^30) >> 31 with an arithmetic (flooring) shift, saturated.
    let high = (x as i128 * m as i128 + (1i128 << 30)) >> 31;
    let high = high.clamp(i32::MIN as i128, i32::MAX as i128);
    naive_round_div_pow2(high, right) as i64
}

/// Full RQ lane: requant, zero point, clamp.
pub fn naive_rq_lane(acc: i32, bias: i32, m: i32, shift: i32, zp: i32, lo: i32, hi: i32) -> i64 {
    (naive_requant(acc, bias, m, shift) + zp as i64).clamp(lo as i64, hi as i64)
}

/// Saturation of a wide value to int8.
pub fn sat8(x: i64) -> i64 {
    x.clamp(-128, 127)
}

/// Wrap a wide value to int32.
pub fn wrap32(x: i64) -> i64 {
    x as i32 as i64
}

pub fn tiny() -> HwConfig {
    HwConfig::preset("tiny").unwrap()
}

pub fn sram_chunk(chip: u32, bank: u32, start: u32, rows: &[Vec<i8>]) -> Chunk {
    Chunk {
        chip,
        region: Region::Sram { bank },
        start,
        rows: Rows::I8(rows.concat()),
    }
}

pub fn acc_chunk(chip: u32, bank: u32, start: u32, rows: &[Vec<i32>]) -> Chunk {
    Chunk {
        chip,
        region: Region::Acc { bank },
        start,
        rows: Rows::I32(rows.concat()),
    }
}

/// Assembles and runs `text`, panicking with every violation if the verifier refuses it.
pub fn run_text(cfg: &HwConfig, text: &str, chunks: Vec<Chunk>) -> Run {
    let program = assemble(text).unwrap_or_else(|e| panic!("{e}"));
    let state = SystemState::from_image(cfg, &MemImage { chunks }).unwrap();
    match run(&program, cfg, state, None) {
        Ok(r) => r,
        Err(golden::GoldenError::Rejected(v)) => {
            let lines: Vec<String> = v.iter().map(|x| x.to_string()).collect();
            panic!("rejected:\n{}", lines.join("\n"))
        }
        Err(e) => panic!("{e}"),
    }
}

/// Lanes of an SRAM row as i64.
pub fn sram_row(r: &Run, chip: usize, bank: usize, row: usize) -> Vec<i64> {
    r.state.chips[chip]
        .sram
        .slice(ndarray::s![bank, row, ..])
        .iter()
        .map(|x| *x as i64)
        .collect()
}

/// Lanes of an accumulator row as i64.
pub fn acc_row(r: &Run, chip: usize, bank: usize, row: usize) -> Vec<i64> {
    r.state.chips[chip]
        .acc
        .slice(ndarray::s![bank, row, ..])
        .iter()
        .map(|x| *x as i64)
        .collect()
}

/// Rows of seeded random int8 lanes (the project's one seeded stream).
pub fn random_rows(seed: u64, rows: usize, lanes: usize) -> Vec<Vec<i8>> {
    let mut rng = seeded::Rng::new(seed);
    (0..rows)
        .map(|_| (0..lanes).map(|_| rng.next_u64() as i8).collect())
        .collect()
}
