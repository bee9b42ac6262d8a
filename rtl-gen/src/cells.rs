//! The hand-written leaf cells of `hdl/`: a portable model of each, which simulators and the
//! ECP5 flow read, and the vendor-primitive version an iCE40 flow reads instead. The tests
//! prove each vendor version equal to its model on the vendor's simulation model.

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

/// `mtn_mul8x8x2`: two signed int8 products, operands and products registered: `p_o` is
/// `{a_i[15:8] * b_i[15:8], a_i[7:0] * b_i[7:0]}` [`isa::config::PRODUCT_REGISTERS`] cycles
/// after `a_i` and `b_i`.
pub fn mul8x8x2(cells: Cells) -> Module {
    let mut m = Module::clocked("mtn_mul8x8x2", &[]);
    m.input("a_i", 16);
    m.input("b_i", 16);
    m.output("p_o", 32);
    m.verbatim = Some(match cells {
        Cells::Portable => include_str!("../../hdl/mtn_mul8x8x2.v"),
        Cells::Ice40 => include_str!("../../hdl/ice40/mtn_mul8x8x2.v"),
    });
    m
}
