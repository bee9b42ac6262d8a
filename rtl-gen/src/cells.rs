//! The hand-written leaf cells of `hdl/`: a portable model of each, which simulators and the
//! ECP5 flow read, and the vendor-primitive version an iCE40 flow reads instead. The tests
//! prove each vendor version equal to its model on the vendor's simulation model.
//!
//! The multipliers have their operands and their product registered, the registers of an
//! FPGA's DSP block: `p_o` follows `a_i` and `b_i` by [`isa::config::PRODUCT_REGISTERS`]
//! cycles. The PLLs (a board top's) exist only as their vendor's primitive: a simulated
//! board runs without one. The global buffer (the FPGA tops' reset) is a wire in its
//! portable model.

use crate::ast::{int, Module};

/// Which version of the hand-written cells a design is built on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Cells {
    /// Behavioural Verilog any simulator or synthesis tool reads.
    #[default]
    Portable,
    /// iCE40 primitives (`SB_MAC16`), for `synth_ice40`.
    Ice40,
    /// ECP5 primitives where a cell needs one (the global buffer's `DCCA`), for `synth_ecp5`,
    /// which maps the portable multipliers onto `MULT18X18D` by itself.
    Ecp5,
}

/// A hand-written cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cell {
    /// `mtn_mul8x8x2`: two signed int8 products, `p_o = {a_i[15:8] * b_i[15:8],
    /// a_i[7:0] * b_i[7:0]}` (16 bits each): two PEs' multipliers.
    Mul8x8x2,
    /// `mtn_mul16x16`: an unsigned product, `p_o = a_i * b_i`: one of `RQ`'s partial products.
    Mul16x16,
    /// `mtn_pll_ice40`: `clk_o` from `clk_i` by an iCE40's PLL ([`crate::board::Ice40Pll`]).
    Ice40Pll,
    /// `mtn_pll_ecp5`: `clk_o` from `clk_i` by an ECP5's PLL ([`crate::board::Ecp5Pll`]).
    Ecp5Pll,
    /// `mtn_global`: `o = i`, on a global network (the FPGA tops' reset, which reaches nearly
    /// every flip-flop).
    Global,
}

impl Cell {
    pub fn name(self) -> &'static str {
        match self {
            Cell::Mul8x8x2 => "mtn_mul8x8x2",
            Cell::Mul16x16 => "mtn_mul16x16",
            Cell::Ice40Pll => "mtn_pll_ice40",
            Cell::Ecp5Pll => "mtn_pll_ecp5",
            Cell::Global => "mtn_global",
        }
    }

    /// The cell's module in `cells`' version: its ports, for the structural check, and its
    /// Verilog.
    pub fn module(self, cells: Cells) -> Module {
        let pll = |params: &[&str]| {
            let mut m = Module::new(self.name(), &[]);
            for p in params {
                m.param(p, int(0), "");
            }
            m.input("clk_i", 1);
            m.output("clk_o", 1);
            m.output("locked_o", 1);
            m
        };
        let mut m = match self {
            Cell::Mul8x8x2 | Cell::Mul16x16 => {
                let mut m = Module::clocked(self.name(), &[]);
                m.input("a_i", 16);
                m.input("b_i", 16);
                m.output("p_o", 32);
                m
            }
            Cell::Ice40Pll => pll(&["DIVR", "DIVF", "DIVQ", "FILTER_RANGE"]),
            Cell::Ecp5Pll => pll(&["CLKI_DIV", "CLKFB_DIV", "CLKOP_DIV", "CLKOP_CPHASE"]),
            Cell::Global => {
                let mut m = Module::new(self.name(), &[]);
                m.input("i", 1);
                m.output("o", 1);
                m
            }
        };
        m.verbatim = Some(self.verilog(cells));
        m
    }

    pub fn verilog(self, cells: Cells) -> &'static str {
        match (self, cells) {
            (Cell::Mul8x8x2, Cells::Portable | Cells::Ecp5) => {
                include_str!("../../hdl/mtn_mul8x8x2.v")
            }
            (Cell::Mul8x8x2, Cells::Ice40) => include_str!("../../hdl/ice40/mtn_mul8x8x2.v"),
            (Cell::Mul16x16, Cells::Portable | Cells::Ecp5) => {
                include_str!("../../hdl/mtn_mul16x16.v")
            }
            (Cell::Mul16x16, Cells::Ice40) => include_str!("../../hdl/ice40/mtn_mul16x16.v"),
            (Cell::Global, Cells::Portable | Cells::Ice40) => {
                include_str!("../../hdl/mtn_global.v")
            }
            (Cell::Global, Cells::Ecp5) => include_str!("../../hdl/ecp5/mtn_global.v"),
            (Cell::Ice40Pll, _) => include_str!("../../hdl/ice40/mtn_pll_ice40.v"),
            (Cell::Ecp5Pll, _) => include_str!("../../hdl/ecp5/mtn_pll_ecp5.v"),
        }
    }
}
