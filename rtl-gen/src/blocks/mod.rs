//! One generator function per block. Each returns a [`crate::ast::Module`]; the modules meet
//! through [`bus::Bundle`]s, so both sides of every connection come from one list.

pub mod board_top;
pub mod bridge;
pub mod bus;
pub mod chip;
pub mod fpga;
pub mod host;
pub mod memory;
pub mod mxu;
pub mod permute;
pub mod prims;
pub mod router;
pub mod seq;
pub mod tables;
pub mod uart;
pub mod vector;
