//! The Metronome instruction set and hardware configuration: the root every other crate
//! builds on.
//!
//! - [`HwConfig`]: a validated chip and system configuration (TOML or a named preset).
//! - [`Op`]: the ten ops, defined once as data in [`ops`]; [`Layout`] encodes them into
//!   fixed-width words, [`assemble`] and [`disassemble`] convert the text format.
//! - [`timing`]: each op's unit occupancy and the cycle of every memory access and link use.
//! - [`MemImage`]: the memory-image format programs start from and end with.
//!
//! ```
//! use isa::{assemble, HwConfig, Program};
//!
//! let cfg = HwConfig::preset("tiny").unwrap();
//! let program = assemble("+0 mma src=sram0[0] dst=acc0[0] count=4 swap\n+12 ctl.halt\n").unwrap();
//! let bytes = program.to_bytes(&cfg).unwrap();
//! assert_eq!(Program::from_bytes(&bytes, &cfg).unwrap(), program);
//! ```

pub mod asm;
mod bytes;
pub mod config;
pub mod encoding;
pub mod image;
pub mod ops;
pub mod timing;
pub mod topology;

pub use asm::{assemble, assemble_with_lines, disassemble, format_instr, AsmError};
pub use config::{
    ChipConfig, ConfigError, ConfigHash, HwConfig, MissingUnit, SystemConfig, Topology, OMITTABLE,
    PRESETS,
};
pub use encoding::{looks_binary, DecodeError, EncodeError, Layout, Program, ProgramEncodeError};
pub use image::{Chunk, ImageError, MemImage, ParamEntry, Region, Rows};
pub use ops::{Addr, Instr, Op, Opcode, Space, Unit};
pub use topology::Link;
