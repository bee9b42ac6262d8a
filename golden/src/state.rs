//! Architectural state: everything a program can read or write, for one chip and a system.

use isa::image::{zero_params, Chunk, Region, Rows, LUT_ENTRIES};
use isa::{Addr, HwConfig, ImageError, MemImage, ParamEntry, Space};
use ndarray::{Array2, Array3};

use crate::numerics::saturate_i8;

/// One chip's memories.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChipState {
    /// `[bank, row, lane]`.
    pub sram: Array3<i8>,
    /// `[bank, row, lane]`.
    pub acc: Array3<i32>,
    /// `[table, entry]`.
    pub lut: Array2<i32>,
    pub params: Vec<ParamEntry>,
    /// Weights being loaded by `LDW`, `[k, j]`.
    pub shadow: Array2<i8>,
    /// Weights the array computes with, `[k, j]`.
    pub active: Array2<i8>,
}

impl ChipState {
    /// All zeros (parameter entries with multiplier 0 and the full int32 clamp range).
    pub fn new(cfg: &HwConfig) -> Self {
        let c = &cfg.chip;
        let n = c.n as usize;
        ChipState {
            sram: Array3::zeros((c.sram_banks as usize, c.sram_depth as usize, n)),
            acc: Array3::zeros((c.acc_banks as usize, c.acc_depth as usize, n)),
            lut: Array2::zeros((c.lut_tables as usize, LUT_ENTRIES as usize)),
            params: zero_params(n, c.param_depth as usize),
            shadow: Array2::zeros((n, n)),
            active: Array2::zeros((n, n)),
        }
    }

    /// Lanes of a row, widened to int32 (SRAM) or as stored (accumulators).
    /// `addr` must be in range and not the immediate.
    pub fn read_row(&self, addr: Addr, row: u64) -> Vec<i32> {
        let (b, r) = (addr.bank as usize, row as usize);
        match addr.space {
            Space::Sram => self
                .sram
                .slice(ndarray::s![b, r, ..])
                .iter()
                .map(|x| *x as i32)
                .collect(),
            Space::Acc => self.acc.slice(ndarray::s![b, r, ..]).to_vec(),
            Space::Imm => unreachable!("the immediate is not a row"),
        }
    }

    /// Writes a row of int32 lanes; SRAM saturates each lane to int8.
    pub fn write_row(&mut self, addr: Addr, row: u64, lanes: &[i32]) {
        let (b, r) = (addr.bank as usize, row as usize);
        match addr.space {
            Space::Sram => {
                for (dst, v) in self
                    .sram
                    .slice_mut(ndarray::s![b, r, ..])
                    .iter_mut()
                    .zip(lanes)
                {
                    *dst = saturate_i8(*v);
                }
            }
            Space::Acc => {
                for (dst, v) in self
                    .acc
                    .slice_mut(ndarray::s![b, r, ..])
                    .iter_mut()
                    .zip(lanes)
                {
                    *dst = *v;
                }
            }
            Space::Imm => unreachable!("the immediate is not a row"),
        }
    }
}

/// The state of every chip of a system.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SystemState {
    pub chips: Vec<ChipState>,
}

impl SystemState {
    pub fn new(cfg: &HwConfig) -> Self {
        SystemState {
            chips: (0..cfg.system.chips).map(|_| ChipState::new(cfg)).collect(),
        }
    }

    /// Zero state with `image` applied (validated against `cfg` first).
    pub fn from_image(cfg: &HwConfig, image: &MemImage) -> Result<Self, ImageError> {
        let mut state = SystemState::new(cfg);
        state.load(cfg, image)?;
        Ok(state)
    }

    /// Writes `image` over this state (validated against `cfg` first), as the host does
    /// between runs.
    pub fn load(&mut self, cfg: &HwConfig, image: &MemImage) -> Result<(), ImageError> {
        image.validate(cfg)?;
        let n = cfg.lanes();
        for chunk in &image.chunks {
            let chip = &mut self.chips[chunk.chip as usize];
            let start = chunk.start as usize;
            match (&chunk.rows, chunk.region) {
                (Rows::I8(v), Region::Sram { bank }) => {
                    for (i, row) in v.chunks(n).enumerate() {
                        let mut dst =
                            chip.sram
                                .slice_mut(ndarray::s![bank as usize, start + i, ..]);
                        dst.assign(&ndarray::ArrayView1::from(row));
                    }
                }
                (Rows::I32(v), Region::Acc { bank }) => {
                    for (i, row) in v.chunks(n).enumerate() {
                        let mut dst = chip
                            .acc
                            .slice_mut(ndarray::s![bank as usize, start + i, ..]);
                        dst.assign(&ndarray::ArrayView1::from(row));
                    }
                }
                (Rows::I32(v), Region::Lut { table }) => {
                    for (i, e) in v.iter().enumerate() {
                        chip.lut[[table as usize, start + i]] = *e;
                    }
                }
                (Rows::Params(p), Region::Params) => {
                    chip.params[start..start + p.len()].clone_from_slice(p);
                }
                _ => unreachable!("validate() checked chunk shapes"),
            }
        }
        Ok(())
    }

    /// The whole state as an image: one chunk per bank, table and parameter memory.
    pub fn to_image(&self) -> MemImage {
        let mut chunks = Vec::new();
        for (c, chip) in self.chips.iter().enumerate() {
            let chip_id = c as u32;
            for (b, bank) in chip.sram.outer_iter().enumerate() {
                chunks.push(Chunk {
                    chip: chip_id,
                    region: Region::Sram { bank: b as u32 },
                    start: 0,
                    rows: Rows::I8(bank.iter().copied().collect()),
                });
            }
            for (b, bank) in chip.acc.outer_iter().enumerate() {
                chunks.push(Chunk {
                    chip: chip_id,
                    region: Region::Acc { bank: b as u32 },
                    start: 0,
                    rows: Rows::I32(bank.iter().copied().collect()),
                });
            }
            for (t, table) in chip.lut.outer_iter().enumerate() {
                chunks.push(Chunk {
                    chip: chip_id,
                    region: Region::Lut { table: t as u32 },
                    start: 0,
                    rows: Rows::I32(table.to_vec()),
                });
            }
            chunks.push(Chunk {
                chip: chip_id,
                region: Region::Params,
                start: 0,
                rows: Rows::Params(chip.params.clone()),
            });
        }
        MemImage { chunks }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_round_trips_through_state() {
        let cfg = HwConfig::preset("tiny").unwrap();
        let mut state = SystemState::new(&cfg);
        state.chips[0].sram[[1, 2, 3]] = -7;
        state.chips[0].acc[[1, 63, 0]] = i32::MIN;
        state.chips[0].lut[[1, 255]] = 42;
        state.chips[0].params[3] = ParamEntry::unit(4);
        let image = state.to_image();
        let back = SystemState::from_image(&cfg, &image).unwrap();
        assert_eq!(back.chips[0].sram, state.chips[0].sram);
        assert_eq!(back.chips[0].acc, state.chips[0].acc);
        assert_eq!(back.chips[0].lut, state.chips[0].lut);
        assert_eq!(back.chips[0].params, state.chips[0].params);
    }

    #[test]
    fn sram_writes_saturate() {
        let cfg = HwConfig::preset("tiny").unwrap();
        let mut chip = ChipState::new(&cfg);
        chip.write_row(Addr::sram(0, 0), 0, &[300, -300, 127, -128]);
        assert_eq!(
            chip.read_row(Addr::sram(0, 0), 0),
            vec![127, -128, 127, -128]
        );
    }
}
