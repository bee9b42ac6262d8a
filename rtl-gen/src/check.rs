//! Structural checks between elaboration and emission: every instance names a module of the
//! design, connects each of its ports exactly once and sets only parameters it has; no
//! module declares a name twice; the pipeline of every datapath the chip has was built
//! exactly once, as deep as [`isa::timing`] says. Every problem is reported, not just the first.

use std::collections::{HashMap, HashSet};

use isa::timing::Datapath;

use crate::ast::{Instance, Item, Module};
use crate::blocks::chip::has_unit;
use crate::ctx::Ctx;

/// Every datapath of a unit the chip has whose pipeline `modules` did not build, built
/// twice, or built to another depth than [`Datapath::latency`] gives for the config.
pub fn latencies(modules: &[Module], ctx: &Ctx) -> Vec<String> {
    let cfg = &ctx.cfg;
    let mut problems = Vec::new();
    for datapath in Datapath::ALL {
        if !has_unit(ctx, datapath.unit()) {
            continue;
        }
        let built: Vec<(&str, u64)> = modules
            .iter()
            .flat_map(|m| m.pipelines.iter().map(move |p| (m.name.as_str(), p)))
            .filter(|(_, (d, _))| *d == datapath)
            .map(|(module, (_, depth))| (module, *depth))
            .collect();
        let what = format!("{} unit ({} datapath)", datapath.unit(), datapath.name());
        let expected = datapath.latency(cfg);
        match built.as_slice() {
            [] => problems.push(format!("{what}: no pipeline was built")),
            [(module, depth)] if *depth != expected => problems.push(format!(
                "{what}: {module} builds {depth} stages from read to write, \
                 isa::timing says {expected}"
            )),
            [_] => {}
            more => problems.push(format!("{what}: built {} times", more.len())),
        }
    }
    problems
}

/// Every structural problem of `modules`, each naming the module and the instance.
pub fn check(modules: &[Module]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut by_name: HashMap<&str, &Module> = HashMap::new();
    for m in modules {
        if by_name.insert(&m.name, m).is_some() {
            problems.push(format!("module `{}` is defined twice", m.name));
        }
    }
    for m in modules {
        let mut names = HashSet::new();
        for p in &m.ports {
            if !names.insert(p.name.as_str()) {
                problems.push(format!("{}: port `{}` declared twice", m.name, p.name));
            }
        }
        check_items(m, &m.items, &by_name, &mut names, &mut problems);
    }
    problems
}

fn check_items<'a>(
    m: &Module,
    items: &'a [Item],
    modules: &HashMap<&str, &Module>,
    names: &mut HashSet<&'a str>,
    problems: &mut Vec<String>,
) {
    for item in items {
        match item {
            Item::Decl { name, .. } | Item::Integer(name) | Item::LocalParam(name, ..)
                if !names.insert(name.as_str()) =>
            {
                problems.push(format!("{}: `{name}` declared twice", m.name));
            }
            Item::Instance(inst) => {
                if !names.insert(inst.name.as_str()) {
                    problems.push(format!("{}: `{}` declared twice", m.name, inst.name));
                }
                check_instance(m, inst, modules, problems)
            }
            Item::Generate { items, label, .. } => {
                if !names.insert(label.as_str()) {
                    problems.push(format!("{}: `{label}` declared twice", m.name));
                }
                // A generate block is a scope of its own.
                let mut inner = HashSet::new();
                check_items(m, items, modules, &mut inner, problems);
            }
            _ => {}
        }
    }
}

fn check_instance(
    m: &Module,
    inst: &Instance,
    modules: &HashMap<&str, &Module>,
    problems: &mut Vec<String>,
) {
    let at = format!("{}.{}", m.name, inst.name);
    let Some(target) = modules.get(inst.module.as_str()) else {
        problems.push(format!("{at}: no module `{}`", inst.module));
        return;
    };
    for (param, _) in &inst.params {
        if !target.params.iter().any(|p| &p.name == param) {
            problems.push(format!(
                "{at}: `{}` has no parameter `{param}`",
                target.name
            ));
        }
    }
    let mut seen = HashSet::new();
    for (port, _) in &inst.conns {
        if !seen.insert(port.as_str()) {
            problems.push(format!("{at}: port `{port}` connected twice"));
        }
        if !target.ports.iter().any(|p| &p.name == port) {
            problems.push(format!("{at}: `{}` has no port `{port}`", target.name));
        }
    }
    for p in &target.ports {
        if !seen.contains(p.name.as_str()) {
            problems.push(format!("{at}: port `{}` is not connected", p.name));
        }
    }
}
