//! The Metronome compiler: model -> quantized graph -> ten-op program -> SRAM allocation ->
//! static schedule -> binary + memory image + predicted cycle count.
//!
//! Not built yet: this crate holds the workspace's place for the compiler issue. Until then,
//! programs are written in the assembler text format of [`isa::asm`].
