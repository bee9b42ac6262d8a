//! Configs the co-simulation suites share.

use isa::HwConfig;

/// Tiny with the vector pipeline two stages deeper than the arithmetic needs: a latency
/// changed in the config alone (isa::timing reads it), which the golden model, the verifier,
/// the scheduler and the generated RTL must all follow.
pub fn deep_vector() -> HwConfig {
    let mut cfg = HwConfig::preset("tiny").unwrap();
    cfg.name = Some("tiny-deep-vector".into());
    cfg.chip.vector_latency = isa::config::MIN_VECTOR_LATENCY + 2;
    cfg.validate().unwrap();
    cfg
}
