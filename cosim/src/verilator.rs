//! The Verilator harness: verilated models (built into the binary for the standard configs by
//! this crate's build script, or for any other config built into the model cache and loaded
//! at run time), driven through the host port, with the retirement trace recorded every
//! cycle and, optionally, an FST waveform.

use isa::{HwConfig, MemImage, Program};

use crate::host::{HostOp, HostPort};
use crate::probe::Probes;
use crate::trace::TraceEvent;
use crate::{Backend, RtlRun, SimError, Wave};

#[cxx::bridge(namespace = "mtn")]
pub(crate) mod ffi {
    unsafe extern "C++" {
        include!("factory.h");
        type Model;
        fn new_model(name: &str) -> UniquePtr<Model>;
        fn host(self: Pin<&mut Model>, req: bool, we: bool, chip: u32, addr: u32, wdata: u32);
        fn run(self: Pin<&mut Model>, cycles: u64, until_halt: bool) -> u64;
        fn run_bare(self: Pin<&mut Model>, cycles: u64) -> u64;
        unsafe fn wave_open(self: Pin<&mut Model>, path: *const c_char) -> bool;
        fn wave_window(self: Pin<&mut Model>, from: u64, to: u64);
        fn wave_close(self: Pin<&mut Model>);
        fn trace_data(self: &Model) -> *const u32;
        fn trace_len(self: &Model) -> usize;
        fn host_rdata(self: &Model) -> u32;
        fn halted(self: &Model) -> bool;
    }
}

include!(concat!(env!("OUT_DIR"), "/models.rs"));

/// Simulation speed of the harness next to a bare C++ loop, measured in one run.
#[derive(Clone, Debug)]
pub struct SimBench {
    pub cycles: u64,
    pub harness_cycles_per_second: f64,
    pub bare_cycles_per_second: f64,
}

/// Where a model comes from.
enum Source {
    BuiltIn(&'static str),
    /// The shared object of a config chosen at run time.
    Loaded(libloading::Library),
}

/// A verilated model of one config.
pub struct Verilated {
    /// Declared before `source`, so it is dropped before its library is unloaded.
    model: cxx::UniquePtr<ffi::Model>,
    source: Source,
    cfg: HwConfig,
    probes: Probes,
    /// Clock cycles run since the model was made.
    cycles: u64,
}

impl Verilated {
    /// The names of the built-in models.
    pub fn built_in() -> Vec<&'static str> {
        MODELS.iter().map(|(name, _)| *name).collect()
    }

    /// Whether `cfg` has a model built into this binary (others are built at run time).
    pub fn is_built_in(cfg: &HwConfig) -> bool {
        let hash = cfg.hash().to_string();
        MODELS.iter().any(|(_, h)| *h == hash)
    }

    /// A fresh model (after reset) of `cfg`: built in for the standard configs; for any other
    /// config, built into the model cache the first time (which takes a while) and loaded.
    pub fn new(cfg: &HwConfig) -> Result<Self, SimError> {
        Self::make(cfg, false)
    }

    /// A fresh model of `cfg` that can write waveforms ([`Verilated::run_with_wave`]): always
    /// built at run time (the built-in models leave waveform support out, for speed).
    pub fn with_waves(cfg: &HwConfig) -> Result<Self, SimError> {
        Self::make(cfg, true)
    }

    fn make(cfg: &HwConfig, waves: bool) -> Result<Self, SimError> {
        // Everything that can fail before a model exists, so none drops after its library.
        let design = rtl_gen::generate(cfg)?;
        let hash = cfg.hash().to_string();
        let built_in = MODELS.iter().find(|(_, h)| *h == hash).filter(|_| !waves);
        let source = match built_in {
            Some((name, _)) => Source::BuiltIn(name),
            None => {
                let (path, _) = crate::runtime::model_library(cfg, waves)?;
                Source::Loaded(crate::runtime::load(&path)?)
            }
        };
        let model = Self::instantiate(&source, &hash)?;
        Ok(Verilated {
            model,
            source,
            cfg: cfg.clone(),
            probes: Probes::new(&design),
            cycles: 0,
        })
    }

    /// A new model (after reset) from `source` (of config `hash`).
    fn instantiate(source: &Source, hash: &str) -> Result<cxx::UniquePtr<ffi::Model>, SimError> {
        let model = match source {
            Source::BuiltIn(name) => ffi::new_model(name),
            Source::Loaded(library) => {
                let raw = crate::runtime::instantiate(library)?;
                // SAFETY: `raw` is a new model from the library's factory (or null), owned
                // from here on; `Verilated` drops it before the library (field order).
                unsafe { cxx::UniquePtr::from_raw(raw) }
            }
        };
        if model.is_null() {
            return Err(SimError::NoModel {
                hash: hash.to_string(),
                built: MODELS
                    .iter()
                    .map(|(n, h)| format!("{n} ({h})"))
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        Ok(model)
    }

    /// Runs host operations; returns the words read, in order.
    pub fn drive(&mut self, ops: &[HostOp]) -> Result<Vec<u32>, SimError> {
        let mut words = Vec::new();
        for op in ops {
            let mut model = self.model.pin_mut();
            match *op {
                HostOp::Write { chip, addr, data } => {
                    model.as_mut().host(true, true, chip, addr, data);
                    self.cycles += model.as_mut().run(1, false);
                    model.host(false, false, 0, 0, 0);
                }
                HostOp::Read { chip, addr } => {
                    model.as_mut().host(true, false, chip, addr, 0);
                    self.cycles += model.as_mut().run(1, false);
                    model.as_mut().host(false, false, 0, 0, 0);
                    words.push(model.host_rdata());
                }
                HostOp::Idle(n) => {
                    self.cycles += model.run(n as u64, false);
                }
                HostOp::Run { budget } => {
                    self.cycles += model.as_mut().run(budget, true);
                    if !model.halted() {
                        return Err(SimError::OverBudget { budget });
                    }
                }
            }
        }
        Ok(words)
    }

    /// Speed of the harness (trace sampled every cycle) against a bare C++ loop, on fresh
    /// models running `program` from the start for `cycles` cycles; best of `repeats`.
    pub fn bench(
        cfg: &HwConfig,
        program: &Program,
        image: &MemImage,
        cycles: u64,
        repeats: u32,
    ) -> Result<SimBench, SimError> {
        let start = HostPort::new(cfg).start(program, image)?;
        let mut best = [f64::INFINITY; 2];
        for _ in 0..repeats.max(1) {
            for (mode, best) in best.iter_mut().enumerate() {
                let mut sim = Verilated::new(cfg)?;
                sim.drive(&start)?;
                let timer = std::time::Instant::now();
                if mode == 0 {
                    sim.model.pin_mut().run(cycles, false);
                } else {
                    sim.model.pin_mut().run_bare(cycles);
                }
                *best = best.min(timer.elapsed().as_secs_f64());
            }
        }
        Ok(SimBench {
            cycles,
            harness_cycles_per_second: cycles as f64 / best[0],
            bare_cycles_per_second: cycles as f64 / best[1],
        })
    }

    /// Runs `program` on this model as the last run left it, with `image` written over its
    /// memories: the next step of a computation whose state stays on the chip between
    /// programs (a decoder's KV cache). Loads, runs to halt and reads everything back, as
    /// [`Backend::run`] does, but without a fresh model.
    pub fn resume(
        &mut self,
        program: &Program,
        image: &MemImage,
        budget: u64,
    ) -> Result<RtlRun, SimError> {
        let host = HostPort::new(&self.cfg);
        let ops = host.session(program, image, budget)?;
        let (trace_mark, cycles_before) = (self.model.trace_len(), self.cycles);
        let words = self.drive(&ops)?;
        let trace = self.trace_since(trace_mark)?;
        host.finish(&words, trace, self.cycles - cycles_before)
    }

    /// The recorded trace as events.
    fn trace(&self) -> Result<Vec<TraceEvent>, SimError> {
        self.trace_since(0)
    }

    /// The events recorded after the first `mark` words of the trace.
    fn trace_since(&self, mark: usize) -> Result<Vec<TraceEvent>, SimError> {
        // SAFETY: the model's trace buffer holds `trace_len` words and lives as long as the
        // model, which `self` borrows.
        let words =
            unsafe { std::slice::from_raw_parts(self.model.trace_data(), self.model.trace_len()) };
        self.probes
            .decode(&words[mark.min(words.len())..])
            .map_err(SimError::Output)
    }
}

impl Backend for Verilated {
    fn name(&self) -> &'static str {
        "verilator"
    }

    fn config(&self) -> &HwConfig {
        &self.cfg
    }

    /// Loads `program` and `image` into a fresh model (so memories start at zero), runs to
    /// halt and reads everything back; a waveform needs a model from
    /// [`Verilated::with_waves`], and Verilator writes FST.
    fn run(
        &mut self,
        program: &Program,
        image: &MemImage,
        budget: u64,
        wave: Option<&Wave>,
    ) -> Result<RtlRun, SimError> {
        let host = HostPort::new(&self.cfg);
        let ops = host.session(program, image, budget)?;
        // A fresh model, so the memories start at zero.
        self.model = Self::instantiate(&self.source, &self.cfg.hash().to_string())?;
        self.cycles = 0;
        // The program's cycle 0 is the run operation's first cycle.
        let run_at = ops
            .iter()
            .position(|op| matches!(op, HostOp::Run { .. }))
            .expect("a session runs the program");
        if let Some(w) = wave {
            if w.path.extension().is_some_and(|e| e == "vcd") {
                return Err(SimError::Unsupported(format!(
                    "{}: Verilator models write FST; name the file .fst (Icarus writes VCD)",
                    w.path.display()
                )));
            }
            let path = std::ffi::CString::new(w.path.to_string_lossy().as_bytes())
                .map_err(|_| SimError::Unsupported("a waveform path with a NUL byte".into()))?;
            // SAFETY: `path` is a NUL-terminated string that outlives the call.
            let opened = unsafe { self.model.pin_mut().wave_open(path.as_ptr()) };
            if !opened {
                return Err(SimError::Unsupported(format!(
                    "cannot write the waveform {}: the model has no waveform support \
                     (use Verilated::with_waves) or the file cannot be created",
                    w.path.display()
                )));
            }
        }
        let mut words = self.drive(&ops[..run_at])?;
        if let Some(w) = wave {
            let base = self.cycles;
            self.model
                .pin_mut()
                .wave_window(base.saturating_add(w.from), base.saturating_add(w.to));
        }
        words.extend(self.drive(&ops[run_at..])?);
        if wave.is_some() {
            self.model.pin_mut().wave_close();
        }
        host.finish(&words, self.trace()?, self.cycles)
    }
}
