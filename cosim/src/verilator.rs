//! The Verilator harness: the verilated models of the standard configs (built by this crate's
//! build script), driven through the host port, with the retirement trace recorded every
//! cycle.

use isa::timing::{Mem, Word};
use isa::{HwConfig, MemImage, Program};
use rtl_gen::Design;

use crate::host::{HostOp, HostPort};
use crate::trace::{stored_lane, TraceEvent};
use crate::{RtlRun, SimError};

#[cxx::bridge(namespace = "mtn")]
mod ffi {
    /// One trace sample: kind 0 issue, 1 completion of unit `index`, 2 write through write
    /// port `index` (`data`: the row, 32-bit words, lowest first).
    struct TraceRecord {
        chip: u32,
        kind: u32,
        index: u32,
        cycle: u64,
        pc: u32,
        src: u32,
        acc: u32,
        bank: u32,
        row: u32,
        data: Vec<u32>,
    }

    unsafe extern "C++" {
        include!("shim.h");
        type Model;
        fn new_model(name: &str) -> UniquePtr<Model>;
        fn host(self: Pin<&mut Model>, req: bool, we: bool, chip: u32, addr: u32, wdata: u32);
        fn run(
            self: Pin<&mut Model>,
            cycles: u64,
            until_halt: bool,
            trace: &mut Vec<TraceRecord>,
        ) -> u64;
        fn host_rdata(self: &Model) -> u32;
        fn halted(self: &Model) -> bool;
    }
}

include!(concat!(env!("OUT_DIR"), "/models.rs"));

/// A verilated model of one config.
pub struct Verilated {
    model: cxx::UniquePtr<ffi::Model>,
    cfg: HwConfig,
    design: Design,
    records: Vec<ffi::TraceRecord>,
    /// Clock cycles run since the model was made.
    cycles: u64,
}

impl Verilated {
    /// The names of the built-in models.
    pub fn built_in() -> Vec<&'static str> {
        MODELS.iter().map(|(name, _)| *name).collect()
    }

    /// A fresh model (after reset) of `cfg`, which must be one of the built-in configs.
    pub fn new(cfg: &HwConfig) -> Result<Self, SimError> {
        let hash = cfg.hash().to_string();
        let Some((name, _)) = MODELS.iter().find(|(_, h)| *h == hash) else {
            return Err(SimError::NoModel {
                hash,
                built: MODELS
                    .iter()
                    .map(|(n, h)| format!("{n} ({h})"))
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        };
        let model = ffi::new_model(name);
        assert!(!model.is_null(), "the model table and the factory agree");
        Ok(Verilated {
            model,
            cfg: cfg.clone(),
            design: rtl_gen::generate(cfg)?,
            records: Vec::new(),
            cycles: 0,
        })
    }

    /// Runs host operations; returns the words read, in order.
    pub fn drive(&mut self, ops: &[HostOp]) -> Result<Vec<u32>, SimError> {
        let mut words = Vec::new();
        for op in ops {
            let mut model = self.model.pin_mut();
            match *op {
                HostOp::Write { chip, addr, data } => {
                    model.as_mut().host(true, true, chip, addr, data);
                    self.cycles += model.as_mut().run(1, false, &mut self.records);
                    model.host(false, false, 0, 0, 0);
                }
                HostOp::Read { chip, addr } => {
                    model.as_mut().host(true, false, chip, addr, 0);
                    self.cycles += model.as_mut().run(1, false, &mut self.records);
                    model.as_mut().host(false, false, 0, 0, 0);
                    words.push(model.host_rdata());
                }
                HostOp::Idle(n) => {
                    self.cycles += model.run(n as u64, false, &mut self.records);
                }
                HostOp::Run { budget } => {
                    self.cycles += model.as_mut().run(budget, true, &mut self.records);
                    if !model.halted() {
                        return Err(SimError::OverBudget { budget });
                    }
                }
            }
        }
        Ok(words)
    }

    /// Loads `program` and `image` into a freshly powered-up model (so memories start at
    /// zero), runs to halt (at most `budget` cycles) and reads everything back, with the trace
    /// of the run.
    pub fn run(
        &mut self,
        program: &Program,
        image: &MemImage,
        budget: u64,
    ) -> Result<RtlRun, SimError> {
        let host = HostPort::new(&self.cfg);
        let ops = host.session(program, image, budget)?;
        *self = Verilated::new(&self.cfg)?;
        let words = self.drive(&ops)?;
        host.finish(&words, self.trace(), self.cycles)
    }

    /// The recorded trace as events.
    fn trace(&self) -> Vec<TraceEvent> {
        let units = self.design.retire_units();
        let ports = self.design.traced_writes();
        let n = self.cfg.lanes();
        self.records
            .iter()
            .map(|r| match r.kind {
                0 => TraceEvent::Issue {
                    chip: r.chip,
                    cycle: r.cycle,
                    pc: r.pc,
                },
                1 => TraceEvent::Retire {
                    unit: units[r.index as usize].to_string(),
                    chip: r.src,
                    cycle: r.cycle,
                    pc: r.pc,
                },
                _ => {
                    let port = ports[r.index as usize];
                    let acc = r.acc == 1;
                    let lanes = (0..n)
                        .map(|l| {
                            let raw = match port.lane_bits {
                                8 => (r.data[l / 4] >> (8 * (l % 4))) as u64,
                                _ => r.data[l] as u64,
                            };
                            stored_lane(raw, port.lane_bits, acc)
                        })
                        .collect();
                    TraceEvent::Write {
                        port: port.name.to_string(),
                        word: Word {
                            chip: r.chip,
                            mem: if acc { Mem::Acc } else { Mem::Sram },
                            bank: r.bank,
                            row: r.row as u64,
                        },
                        cycle: r.cycle,
                        lanes,
                    }
                }
            })
            .collect()
    }
}
