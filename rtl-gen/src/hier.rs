//! Facts about a design's hierarchy, read off the syntax tree: how many instances each module
//! has and how many memory bits a module holds.

use std::collections::HashMap;

use crate::ast::{Expr, Instance, Item, Module};

/// The memory primitives and their bits per instance.
fn ram_bits(inst: &Instance) -> Option<u64> {
    if !["mtn_ram_sp", "mtn_ram_sp_undef", "mtn_ram_1r1w"].contains(&inst.module.as_str()) {
        return None;
    }
    let param = |name: &str| {
        inst.params.iter().find_map(|(n, v)| match v {
            Expr::Int(x) if n == name => Some(*x as u64),
            _ => None,
        })
    };
    Some(param("Width")? * param("Depth")?)
}

/// Every instance in `items` with how many times it is replicated by generate loops.
fn instances(items: &[Item], times: u64, out: &mut Vec<(Instance, u64)>) {
    for item in items {
        match item {
            Item::Instance(inst) => out.push((inst.clone(), times)),
            Item::Generate { count, items, .. } => {
                // Loops over parameters hold no instances; constant loops multiply.
                let n = match count {
                    Expr::Int(n) => *n as u64,
                    _ => 1,
                };
                instances(items, times * n, out);
            }
            _ => {}
        }
    }
}

/// How many instances of each module the design under `top` has (`top` itself: 1).
pub fn instance_counts(modules: &[Module], top: &str) -> HashMap<String, u64> {
    let by_name: HashMap<&str, &Module> = modules.iter().map(|m| (m.name.as_str(), m)).collect();
    let mut counts = HashMap::new();
    fn walk(
        m: &Module,
        times: u64,
        by_name: &HashMap<&str, &Module>,
        counts: &mut HashMap<String, u64>,
    ) {
        *counts.entry(m.name.clone()).or_insert(0) += times;
        let mut list = Vec::new();
        instances(&m.items, 1, &mut list);
        for (inst, n) in list {
            if let Some(child) = by_name.get(inst.module.as_str()) {
                walk(child, times * n, by_name, counts);
            }
        }
    }
    if let Some(m) = by_name.get(top) {
        walk(m, 1, &by_name, &mut counts);
    }
    counts
}

/// Memory bits of one instance of `module`, its submodules included.
pub fn memory_bits(modules: &[Module], module: &str) -> u64 {
    let Some(m) = modules.iter().find(|m| m.name == module) else {
        return 0;
    };
    let mut list = Vec::new();
    instances(&m.items, 1, &mut list);
    list.iter()
        .map(|(inst, n)| n * ram_bits(inst).unwrap_or_else(|| memory_bits(modules, &inst.module)))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_follow_generate_loops() {
        let cfg = isa::HwConfig::preset("tiny").unwrap();
        let modules = crate::elaborate(&cfg, None, crate::Cells::Portable).unwrap();
        let counts = instance_counts(&modules, "mtn_chip");
        assert_eq!(counts["mtn_pe"], 16);
        assert_eq!(counts["mtn_chip"], 1);
        // 4 SRAM banks of 256 x 32 bits, 2 accumulator banks of 64 x 128 bits.
        assert_eq!(
            memory_bits(&modules, "mtn_memory"),
            4 * 256 * 32 + 2 * 64 * 128
        );
    }
}
