//! Reads int8 TensorFlow Lite models (`.tflite`) into Metronome's
//! [`Model`](compiler::model::Model): a feature model
//! (format 1) whose every output equals what TFLite's reference kernels compute (see
//! `docs/tflite.md`).
//!
//! The flatbuffer is read by [`flatbuffer`], a reader of our own that checks every offset
//! it follows, through the schema views of [`schema`]; [`import`] maps the graph's operators
//! to layers:
//!
//! | TFLite | Metronome |
//! |---|---|
//! | FULLY_CONNECTED (int8, per-tensor or per-channel weights, optional bias, NONE/RELU/RELU6) | `fully_connected` |
//! | LOGISTIC, TANH (int8) | `logistic`, `tanh` (TFLite's table) |
//! | ADD, MUL (int8, same shapes, NONE/RELU/RELU6) | `quantized_add`, `quantized_mul` |
//! | RESHAPE | nothing (a tensor is a feature vector) |
//! | QUANTIZE of the float input, DEQUANTIZE of the output | the edges: float in and out |
//!
//! Anything else is an [`ImportError`] naming the operator, its index and what is supported.

pub mod flatbuffer;
mod import;
pub mod reference;
pub mod schema;

pub use import::{import, ImportError, Imported, SUPPORTED};
