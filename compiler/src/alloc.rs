//! SRAM allocation: every tensor is a region of equal-sized blocks (a weight tile, or one
//! k-tile of a batch of activations); each block goes to one bank.
//!
//! Regions that one op reads or writes together (a layer's input, weights and output) should
//! sit in different banks, so their streams never want one bank port in the same cycle. The
//! allocator places blocks greedily: a bank holding no conflicting region first, then a bank
//! this region already uses (so a tensor stays together), then the emptiest bank. When no
//! conflict-free bank has room it takes any bank with room; the scheduler then pays for the
//! shared port with delays, never with a wrong program.

use isa::{Addr, HwConfig};

use crate::CompileError;

/// A tensor to place: `blocks` blocks of `block_rows` consecutive rows each.
#[derive(Clone, Debug)]
pub struct Region {
    pub name: String,
    pub blocks: u32,
    pub block_rows: u32,
}

/// Where each block of each region starts: `placement[region][block]`.
pub type Placement = Vec<Vec<Addr>>;

/// Places `regions` in the SRAM banks of `cfg`, keeping each pair in `conflicts` apart where
/// there is room.
pub fn allocate(
    regions: &[Region],
    conflicts: &[(usize, usize)],
    cfg: &HwConfig,
) -> Result<Placement, CompileError> {
    let banks = cfg.chip.sram_banks as usize;
    let depth = cfg.chip.sram_depth;
    let mut next_free = vec![0u32; banks];
    // holds[bank][region]: whether any block of the region is in the bank.
    let mut holds = vec![vec![false; regions.len()]; banks];
    let conflicting = |a: usize, b: usize| {
        conflicts
            .iter()
            .any(|&(x, y)| (x, y) == (a, b) || (y, x) == (a, b))
    };
    let mut placement = Vec::with_capacity(regions.len());
    for (r, region) in regions.iter().enumerate() {
        let mut blocks = Vec::with_capacity(region.blocks as usize);
        for _ in 0..region.blocks {
            let bank = (0..banks)
                .filter(|&b| depth - next_free[b] >= region.block_rows)
                .min_by_key(|&b| {
                    let clash = (0..regions.len()).any(|o| holds[b][o] && conflicting(r, o));
                    (clash, !holds[b][r], next_free[b], b)
                })
                .ok_or_else(|| does_not_fit(regions, cfg))?;
            blocks.push(Addr::sram(bank as u32, next_free[bank]));
            next_free[bank] += region.block_rows;
            holds[bank][r] = true;
        }
        placement.push(blocks);
    }
    Ok(placement)
}

fn does_not_fit(regions: &[Region], cfg: &HwConfig) -> CompileError {
    let needed: u64 = regions
        .iter()
        .map(|r| r.blocks as u64 * r.block_rows as u64)
        .sum();
    let detail = regions
        .iter()
        .map(|r| format!("{} {} rows", r.name, r.blocks as u64 * r.block_rows as u64))
        .collect::<Vec<_>>()
        .join(", ");
    CompileError::DoesNotFit(format!(
        "SRAM: the program needs {needed} rows ({detail}); the chip has {} banks of {} rows",
        cfg.chip.sram_banks, cfg.chip.sram_depth
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn region(name: &str, blocks: u32, block_rows: u32) -> Region {
        Region {
            name: name.into(),
            blocks,
            block_rows,
        }
    }

    #[test]
    fn conflicting_regions_get_different_banks() {
        let cfg = HwConfig::preset("tiny").unwrap();
        let regions = [region("x", 4, 16), region("w", 8, 4), region("y", 2, 16)];
        let p = allocate(&regions, &[(0, 1), (0, 2), (1, 2)], &cfg).unwrap();
        let banks = |r: usize| p[r].iter().map(|a| a.bank).collect::<Vec<_>>();
        assert_eq!(banks(0), vec![0; 4]);
        assert_eq!(banks(1), vec![1; 8]);
        assert_eq!(banks(2), vec![2; 2]);
        // Blocks of one region are consecutive.
        assert_eq!(
            p[0].iter().map(|a| a.row).collect::<Vec<_>>(),
            [0, 16, 32, 48]
        );
    }

    #[test]
    fn a_full_chip_is_an_error_naming_the_sizes() {
        let cfg = HwConfig::preset("tiny").unwrap();
        let err = allocate(&[region("w", 300, 4)], &[], &cfg).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("1200 rows") && text.contains("4 banks of 256"),
            "{text}"
        );
    }
}
