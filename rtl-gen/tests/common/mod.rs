//! The configs the integration tests generate, by name.

use isa::{HwConfig, SystemConfig, Topology};

/// A preset, or: `ring2` (tiny with its memory requests registered before the crossbar and
/// its read data beside the banks, as a 2-chip ring), `mesh4` (tiny with its requests
/// registered beside the banks and its reads' data after the crossbar, as a 2x2 mesh),
/// `narrow` (two
/// lanes and one of everything: the memories' narrowest addresses), `lean` (narrow without
/// every unit a config may leave out, its vector unit one lane a cycle, its products
/// registered and its vector pipeline as deep as that needs), `serial` (tiny
/// without RED, its vector unit one lane a cycle, five stages deeper: every stage of slack
/// the arithmetic has; its accumulate registered), `wide` (the widest array with the deepest vector pipeline) or
/// `dragonfly16` (tiny as a 16-chip dragonfly).
pub fn config(name: &str) -> HwConfig {
    let tiny = || HwConfig::preset("tiny").unwrap();
    let system = |chip: HwConfig, chips, topology, link_latency| {
        chip.with_system(SystemConfig {
            chips,
            topology,
            link_latency,
        })
        .unwrap()
    };
    let mut cfg = match name {
        "ring2" => {
            let mut chip = tiny();
            chip.chip.registered_requests = true;
            chip.chip.registered_bank_reads = true;
            return system(chip, 2, Topology::Ring, 2);
        }
        "mesh4" => {
            let mut chip = tiny();
            chip.chip.registered_reads = true;
            chip.chip.registered_bank_requests = true;
            return system(chip, 4, Topology::Mesh { rows: 2, cols: 2 }, 1);
        }
        "dragonfly16" => {
            let topology = Topology::Dragonfly {
                groups: 4,
                group_size: 4,
            };
            return system(tiny(), 16, topology, 3);
        }
        "lean" => {
            let mut cfg = config("narrow");
            cfg.chip.lut_tables = 0;
            cfg.chip.omit = isa::OMITTABLE.to_vec();
            cfg.chip.vector_lanes = Some(1);
            cfg.chip.registered_products = true;
            cfg.chip.vector_latency = isa::config::REGISTERED_PRODUCTS_VECTOR_LATENCY;
            cfg
        }
        "serial" => {
            let mut cfg = tiny();
            cfg.chip.omit = vec![isa::Opcode::Red];
            cfg.chip.vector_lanes = Some(1);
            cfg.chip.vector_latency = isa::config::MIN_VECTOR_LATENCY + 5;
            cfg.chip.registered_accumulate = true;
            cfg
        }
        "narrow" => {
            let mut cfg = tiny();
            cfg.chip.n = 2;
            cfg.chip.sram_banks = 1;
            cfg.chip.acc_banks = 1;
            cfg.chip.lut_tables = 1;
            cfg.chip.param_depth = 1;
            cfg
        }
        "wide" => {
            let mut cfg = HwConfig::preset("large").unwrap();
            cfg.chip.n = 64;
            cfg.chip.vector_latency = 16;
            cfg
        }
        preset => return HwConfig::preset(preset).unwrap(),
    };
    cfg.name = Some(name.into());
    cfg.validate().unwrap();
    cfg
}
