//! The hand-written leaf cells of `hdl/`: a portable model of each, which simulators and the
//! ECP5 flow read, and the vendor-primitive version an iCE40 flow reads instead. The tests
//! prove each vendor version equal to its model on the vendor's simulation model.
//!
//! Every cell is a multiplier with its operands and its product registered, the registers of
//! an FPGA's DSP block: `p_o` follows `a_i` and `b_i` by [`isa::config::PRODUCT_REGISTERS`]
//! cycles.

use crate::ast::Module;

/// Which version of the hand-written cells a design is built on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Cells {
    /// Behavioural Verilog any simulator or synthesis tool reads.
    #[default]
    Portable,
    /// iCE40 primitives (`SB_MAC16`), for `synth_ice40`.
    Ice40,
}

/// A hand-written cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cell {
    /// `mtn_mul8x8x2`: two signed int8 products, `p_o = {a_i[15:8] * b_i[15:8],
    /// a_i[7:0] * b_i[7:0]}` (16 bits each): two PEs' multipliers.
    Mul8x8x2,
    /// `mtn_mul16x16`: an unsigned product, `p_o = a_i * b_i`: one of `RQ`'s partial products.
    Mul16x16,
}

impl Cell {
    pub fn name(self) -> &'static str {
        match self {
            Cell::Mul8x8x2 => "mtn_mul8x8x2",
            Cell::Mul16x16 => "mtn_mul16x16",
        }
    }

    /// The cell's module in `cells`' version: its ports, for the structural check, and its
    /// Verilog.
    pub fn module(self, cells: Cells) -> Module {
        let mut m = Module::clocked(self.name(), &[]);
        m.input("a_i", 16);
        m.input("b_i", 16);
        m.output("p_o", 32);
        m.verbatim = Some(self.verilog(cells));
        m
    }

    pub fn verilog(self, cells: Cells) -> &'static str {
        match (self, cells) {
            (Cell::Mul8x8x2, Cells::Portable) => include_str!("../../hdl/mtn_mul8x8x2.v"),
            (Cell::Mul8x8x2, Cells::Ice40) => include_str!("../../hdl/ice40/mtn_mul8x8x2.v"),
            (Cell::Mul16x16, Cells::Portable) => include_str!("../../hdl/mtn_mul16x16.v"),
            (Cell::Mul16x16, Cells::Ice40) => include_str!("../../hdl/ice40/mtn_mul16x16.v"),
        }
    }
}
