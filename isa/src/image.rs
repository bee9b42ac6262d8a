//! Memory images: the data a program starts from and ends with.
//!
//! An image is a list of chunks, each filling consecutive rows of one region of one chip, so a
//! compiler writes only what it uses and a dump is one chunk per bank. Rows not covered start
//! as zero.
//!
//! # File format (`.mtm`), all integers little-endian
//! | offset | size | content |
//! |---|---|---|
//! | 0 | 4 | magic `MTNM` |
//! | 4 | 2 | format version (1) |
//! | 6 | 2 | lanes `N` |
//! | 8 | 8 | config hash ([`crate::HwConfig::hash`]) |
//! | 16 | 4 | chunk count |
//! | 20 | ... | chunks |
//!
//! A chunk is a 16-byte header — region (1 byte: 0 SRAM, 1 accumulator, 2 lookup table,
//! 3 parameters), 1 reserved zero byte, chip (2), bank or table (2; 0 for parameters),
//! 2 reserved zero bytes, first row (4), row count (4) — then the rows:
//! - SRAM: `N` int8 per row;
//! - accumulator: `N` int32 per row;
//! - lookup table: one int32 entry per row (rows `0..256`; entry `e` is the output for input
//!   `e - 128`);
//! - parameters: one entry per row: bias `N x int32`, multiplier `N x int32`, shift `N x int8`,
//!   zero point, act_min, act_max (int32 each): `9N + 12` bytes.

use crate::bytes::{ByteReader, Truncated};
use crate::config::HwConfig;

const MAGIC: &[u8; 4] = b"MTNM";
const FORMAT_VERSION: u16 = 1;
/// Entries of every lookup table.
pub const LUT_ENTRIES: u32 = 256;

/// One requantization parameter entry (see `RQ`): per-lane bias, multiplier and shift, and
/// the output zero point and clamp range shared by all lanes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParamEntry {
    pub bias: Vec<i32>,
    /// Q31 multipliers, `>= 0` (TFLite's `QuantizeMultiplier` gives `[2^30, 2^31)` or 0).
    pub multiplier: Vec<i32>,
    /// Power-of-two exponents in `-31..=30` (positive: left shift).
    pub shift: Vec<i8>,
    pub zero_point: i32,
    pub act_min: i32,
    pub act_max: i32,
}

impl ParamEntry {
    /// The identity-like entry: bias 0, multiplier 2^30 with shift 1, no offset, full int32
    /// range. It maps `x` to `x` for `|x| < 2^30`; the int32 left shift wraps beyond that.
    pub fn unit(lanes: usize) -> Self {
        ParamEntry {
            bias: vec![0; lanes],
            multiplier: vec![1 << 30; lanes],
            shift: vec![1; lanes],
            zero_point: 0,
            act_min: i32::MIN,
            act_max: i32::MAX,
        }
    }

    /// The entry a parameter memory holds before anything is loaded.
    pub fn zero(lanes: usize) -> Self {
        ParamEntry {
            bias: vec![0; lanes],
            multiplier: vec![0; lanes],
            shift: vec![0; lanes],
            zero_point: 0,
            act_min: i32::MIN,
            act_max: i32::MAX,
        }
    }

    /// What is wrong with this entry, if anything.
    pub fn check(&self, lanes: usize) -> Result<(), String> {
        if self.bias.len() != lanes || self.multiplier.len() != lanes || self.shift.len() != lanes {
            return Err(format!("per-lane vectors must have {lanes} lanes"));
        }
        if let Some(l) = self.multiplier.iter().position(|m| *m < 0) {
            return Err(format!(
                "lane {l}: multiplier {} is negative",
                self.multiplier[l]
            ));
        }
        if let Some(l) = self.shift.iter().position(|s| !(-31..=30).contains(s)) {
            return Err(format!(
                "lane {l}: shift {} is not in -31..=30",
                self.shift[l]
            ));
        }
        if self.act_min > self.act_max {
            return Err(format!(
                "act_min {} > act_max {}",
                self.act_min, self.act_max
            ));
        }
        Ok(())
    }
}

/// Which region of a chip a chunk fills.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Region {
    Sram { bank: u32 },
    Acc { bank: u32 },
    Lut { table: u32 },
    Params,
}

/// Rows of one region, by kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rows {
    /// `N` lanes per row, row-major (SRAM).
    I8(Vec<i8>),
    /// `N` lanes per row (accumulators) or one entry per row (tables).
    I32(Vec<i32>),
    Params(Vec<ParamEntry>),
}

/// Consecutive rows of one region of one chip.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chunk {
    pub chip: u32,
    pub region: Region,
    pub start: u32,
    pub rows: Rows,
}

impl Chunk {
    /// Number of rows, given the lane count.
    pub fn row_count(&self, lanes: usize) -> usize {
        match (&self.rows, self.region) {
            (Rows::I8(v), _) => v.len() / lanes,
            (Rows::I32(v), Region::Lut { .. }) => v.len(),
            (Rows::I32(v), _) => v.len() / lanes,
            (Rows::Params(p), _) => p.len(),
        }
    }
}

/// A memory image for one config.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct MemImage {
    pub chunks: Vec<Chunk>,
}

/// An image that does not fit the config, or a damaged file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageError {
    #[error("not a Metronome memory image (bad magic; expected `MTNM`)")]
    Magic,
    #[error("memory image format version {0} is not supported (this build reads version {FORMAT_VERSION})")]
    Version(u16),
    #[error(
        "memory image was made for config {found:016x}, but the config in use is \
         {expected:016x}"
    )]
    ConfigMismatch { expected: u64, found: u64 },
    #[error("memory image is truncated at byte {offset}")]
    Truncated { offset: usize },
    #[error("memory image has {extra} trailing bytes after the last chunk")]
    Trailing { extra: usize },
    #[error("memory image chunk {index}: {message}")]
    Chunk { index: usize, message: String },
}

impl From<Truncated> for ImageError {
    fn from(t: Truncated) -> Self {
        ImageError::Truncated { offset: t.offset }
    }
}

impl MemImage {
    /// Checks every chunk against `cfg`: chip, bank or table, row range, data shape and
    /// parameter values.
    pub fn validate(&self, cfg: &HwConfig) -> Result<(), ImageError> {
        let lanes = cfg.lanes();
        let c = &cfg.chip;
        for (index, chunk) in self.chunks.iter().enumerate() {
            let err = |message: String| ImageError::Chunk { index, message };
            if chunk.chip >= cfg.system.chips {
                return Err(err(format!(
                    "chip {} does not exist (the system has {})",
                    chunk.chip, cfg.system.chips
                )));
            }
            let (what, which, limit, depth) = match chunk.region {
                Region::Sram { bank } => ("sram bank", bank, c.sram_banks, c.sram_depth),
                Region::Acc { bank } => ("acc bank", bank, c.acc_banks, c.acc_depth),
                Region::Lut { table } => ("lookup table", table, c.lut_tables, LUT_ENTRIES),
                Region::Params => ("parameter memory", 0, 1, c.param_depth),
            };
            if which >= limit {
                return Err(err(format!(
                    "{what} {which} does not exist (there are {limit})"
                )));
            }
            let shape_ok = match (&chunk.rows, chunk.region) {
                (Rows::I8(v), Region::Sram { .. }) => v.len() % lanes == 0,
                (Rows::I32(v), Region::Acc { .. }) => v.len() % lanes == 0,
                (Rows::I32(_), Region::Lut { .. }) => true,
                (Rows::Params(p), Region::Params) => {
                    for (i, entry) in p.iter().enumerate() {
                        entry.check(lanes).map_err(|m| {
                            err(format!("parameter entry {}: {m}", chunk.start as usize + i))
                        })?;
                    }
                    true
                }
                _ => false,
            };
            if !shape_ok {
                return Err(err(format!(
                    "data does not match a {what} of {lanes} lanes"
                )));
            }
            let end = chunk.start as u64 + chunk.row_count(lanes) as u64;
            if end > depth as u64 {
                return Err(err(format!(
                    "rows {}..{end} exceed {what} {which}'s {depth} rows",
                    chunk.start
                )));
            }
        }
        Ok(())
    }

    /// Serializes the image (validate it first to be sure it loads back).
    pub fn to_bytes(&self, cfg: &HwConfig) -> Vec<u8> {
        let lanes = cfg.lanes();
        let mut out = Vec::new();
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&(lanes as u16).to_le_bytes());
        out.extend_from_slice(&cfg.hash().0.to_le_bytes());
        out.extend_from_slice(&(self.chunks.len() as u32).to_le_bytes());
        for chunk in &self.chunks {
            let (kind, which) = match chunk.region {
                Region::Sram { bank } => (0u8, bank),
                Region::Acc { bank } => (1, bank),
                Region::Lut { table } => (2, table),
                Region::Params => (3, 0),
            };
            out.extend_from_slice(&[kind, 0]);
            out.extend_from_slice(&(chunk.chip as u16).to_le_bytes());
            out.extend_from_slice(&(which as u16).to_le_bytes());
            out.extend_from_slice(&[0, 0]);
            out.extend_from_slice(&chunk.start.to_le_bytes());
            out.extend_from_slice(&(chunk.row_count(lanes) as u32).to_le_bytes());
            match &chunk.rows {
                Rows::I8(v) => out.extend(v.iter().map(|x| *x as u8)),
                Rows::I32(v) => v
                    .iter()
                    .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
                Rows::Params(p) => {
                    for e in p {
                        e.bias
                            .iter()
                            .for_each(|x| out.extend_from_slice(&x.to_le_bytes()));
                        e.multiplier
                            .iter()
                            .for_each(|x| out.extend_from_slice(&x.to_le_bytes()));
                        out.extend(e.shift.iter().map(|x| *x as u8));
                        for x in [e.zero_point, e.act_min, e.act_max] {
                            out.extend_from_slice(&x.to_le_bytes());
                        }
                    }
                }
            }
        }
        out
    }

    /// Reads and validates an image for `cfg`.
    pub fn from_bytes(bytes: &[u8], cfg: &HwConfig) -> Result<MemImage, ImageError> {
        let lanes = cfg.lanes();
        let mut r = ByteReader::new(bytes);
        if r.take(4)? != MAGIC {
            return Err(ImageError::Magic);
        }
        let version = r.u16()?;
        if version != FORMAT_VERSION {
            return Err(ImageError::Version(version));
        }
        let file_lanes = r.u16()? as usize;
        let found = r.u64()?;
        if found != cfg.hash().0 || file_lanes != lanes {
            return Err(ImageError::ConfigMismatch {
                expected: cfg.hash().0,
                found,
            });
        }
        let count = r.u32()?;
        let mut image = MemImage::default();
        for index in 0..count as usize {
            let err = |message: String| ImageError::Chunk { index, message };
            let head = r.take(16)?;
            let kind = head[0];
            let chip = u16::from_le_bytes([head[2], head[3]]) as u32;
            let which = u16::from_le_bytes([head[4], head[5]]) as u32;
            let start = u32::from_le_bytes(head[8..12].try_into().expect("4 bytes"));
            let rows = u32::from_le_bytes(head[12..16].try_into().expect("4 bytes")) as usize;
            if head[1] != 0 || head[6] != 0 || head[7] != 0 || (kind == 3 && which != 0) {
                return Err(err(
                    "reserved header bytes (or a parameter chunk's bank field) are not zero".into(),
                ));
            }
            // Refuse absurd sizes before allocating: no region is deeper than 65536 rows.
            if rows > 1 << 16 {
                return Err(err(format!("{rows} rows is more than any region holds")));
            }
            let (region, data) = match kind {
                0 => (
                    Region::Sram { bank: which },
                    Rows::I8(r.take(rows * lanes)?.iter().map(|b| *b as i8).collect()),
                ),
                1 => (
                    Region::Acc { bank: which },
                    Rows::I32(r.i32s(rows * lanes)?),
                ),
                2 => (Region::Lut { table: which }, Rows::I32(r.i32s(rows)?)),
                3 => {
                    let mut entries = Vec::with_capacity(rows);
                    for _ in 0..rows {
                        let bias = r.i32s(lanes)?;
                        let multiplier = r.i32s(lanes)?;
                        let shift = r.take(lanes)?.iter().map(|b| *b as i8).collect();
                        let tail = r.i32s(3)?;
                        entries.push(ParamEntry {
                            bias,
                            multiplier,
                            shift,
                            zero_point: tail[0],
                            act_min: tail[1],
                            act_max: tail[2],
                        });
                    }
                    (Region::Params, Rows::Params(entries))
                }
                other => return Err(err(format!("unknown region kind {other}"))),
            };
            image.chunks.push(Chunk {
                chip,
                region,
                start,
                rows: data,
            });
        }
        if r.remaining() > 0 {
            return Err(ImageError::Trailing {
                extra: r.remaining(),
            });
        }
        image.validate(cfg)?;
        Ok(image)
    }
}

/// The all-zero contents of a parameter memory of `depth` entries.
pub fn zero_params(lanes: usize, depth: usize) -> Vec<ParamEntry> {
    vec![ParamEntry::zero(lanes); depth]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(cfg: &HwConfig) -> MemImage {
        let lanes = cfg.lanes();
        MemImage {
            chunks: vec![
                Chunk {
                    chip: 0,
                    region: Region::Sram { bank: 1 },
                    start: 3,
                    rows: Rows::I8(vec![-5; 2 * lanes]),
                },
                Chunk {
                    chip: 0,
                    region: Region::Acc { bank: 0 },
                    start: 0,
                    rows: Rows::I32(vec![i32::MIN; lanes]),
                },
                Chunk {
                    chip: 0,
                    region: Region::Lut { table: 1 },
                    start: 250,
                    rows: Rows::I32(vec![7; 6]),
                },
                Chunk {
                    chip: 0,
                    region: Region::Params,
                    start: 2,
                    rows: Rows::Params(vec![ParamEntry::unit(lanes)]),
                },
            ],
        }
    }

    #[test]
    fn round_trips() {
        let cfg = HwConfig::preset("tiny").unwrap();
        let image = sample(&cfg);
        image.validate(&cfg).unwrap();
        assert_eq!(
            MemImage::from_bytes(&image.to_bytes(&cfg), &cfg).unwrap(),
            image
        );
    }

    #[test]
    fn refuses_what_does_not_fit() {
        let cfg = HwConfig::preset("tiny").unwrap();
        let bytes = sample(&cfg).to_bytes(&cfg);
        let small = HwConfig::default_preset();
        assert!(matches!(
            MemImage::from_bytes(&bytes, &small),
            Err(ImageError::ConfigMismatch { .. })
        ));
        assert!(matches!(
            MemImage::from_bytes(&bytes[..bytes.len() - 3], &cfg),
            Err(ImageError::Truncated { .. })
        ));
        let mut wrong = sample(&cfg);
        wrong.chunks[0].start = 255;
        let e = wrong.validate(&cfg).unwrap_err().to_string();
        assert!(
            e.contains("rows 255..257 exceed sram bank 1's 256 rows"),
            "{e}"
        );
        let mut wrong = sample(&cfg);
        wrong.chunks[1].region = Region::Acc { bank: 2 };
        assert!(wrong
            .validate(&cfg)
            .unwrap_err()
            .to_string()
            .contains("acc bank 2 does not exist"));
        let mut wrong = sample(&cfg);
        wrong.chunks[2].start = 251;
        assert!(wrong.validate(&cfg).is_err());
        let mut wrong = sample(&cfg);
        if let Rows::Params(p) = &mut wrong.chunks[3].rows {
            p[0].shift[1] = 31;
        }
        let e = wrong.validate(&cfg).unwrap_err().to_string();
        assert!(e.contains("parameter entry 2: lane 1: shift 31"), "{e}");
        let mut wrong = sample(&cfg);
        wrong.chunks[0].rows = Rows::I8(vec![0; 3]);
        assert!(wrong
            .validate(&cfg)
            .unwrap_err()
            .to_string()
            .contains("does not match"));
    }
}
