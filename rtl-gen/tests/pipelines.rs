//! Pipelines follow `isa::timing`: the vector pipeline is built as deep as the config's
//! vector latency, and a pipeline built to another depth is a generation error naming its
//! unit. (Co-simulation of a deeper pipeline is in `cosim/tests`.)

use isa::timing::Datapath;
use isa::HwConfig;
use rtl_gen::Fault;

fn with_vector_latency(latency: u32) -> HwConfig {
    let mut cfg = HwConfig::preset("tiny").unwrap();
    cfg.chip.vector_latency = latency;
    cfg.validate().unwrap();
    cfg
}

#[test]
fn the_vector_pipeline_is_as_deep_as_the_config_says() {
    for latency in 4..=7 {
        let design = rtl_gen::generate(&with_vector_latency(latency)).unwrap();
        let vector = design
            .modules
            .iter()
            .find(|m| m.name == "mtn_vector")
            .unwrap();
        assert_eq!(
            vector.pipelines,
            vec![(Datapath::Vector, latency as u64)],
            "latency {latency}"
        );
        // The write stage is named after its cycle.
        let text = &design
            .files
            .iter()
            .find(|f| f.name == "mtn_vector.v")
            .unwrap()
            .text;
        assert!(
            text.contains(&format!("s{latency}_ctl_q")),
            "latency {latency}"
        );
        assert!(!text.contains(&format!("s{}_ctl_q", latency + 1)));
    }
}

#[test]
fn a_pipeline_short_of_isa_timing_is_a_generation_error_naming_the_unit() {
    for latency in [4, 6] {
        let cfg = with_vector_latency(latency);
        let err = rtl_gen::generate_with_fault(&cfg, Some(Fault::ShortVectorPipeline))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(&format!(
                "vector unit (vector datapath): mtn_vector builds {} stages from read to \
                 write, isa::timing says {latency}",
                latency - 1
            )),
            "{err}"
        );
    }
}

#[test]
fn every_datapath_is_built_once_on_every_preset_that_has_its_unit() {
    for preset in isa::PRESETS {
        let design = rtl_gen::generate(&HwConfig::preset(preset).unwrap()).unwrap();
        let cfg = &design.config;
        let built: Vec<(Datapath, u64)> = design
            .modules
            .iter()
            .flat_map(|m| m.pipelines.iter().copied())
            .collect();
        for d in Datapath::ALL {
            let has_unit = isa::Opcode::ALL
                .iter()
                .any(|op| op.spec().unit == d.unit() && cfg.implements(*op));
            let expected = if has_unit {
                vec![(d, d.latency(cfg))]
            } else {
                vec![]
            };
            assert_eq!(
                built
                    .iter()
                    .filter(|(b, _)| *b == d)
                    .copied()
                    .collect::<Vec<_>>(),
                expected,
                "{preset}"
            );
        }
    }
}
