//! Programs run one after another on a chip that keeps its memories between them (a
//! decoder's steps over its KV cache), on the Verilated RTL and the golden model side by
//! side, each step checked op by op as [`crate::lockstep`] checks one run.

use golden::SystemState;
use isa::{HwConfig, MemImage, Program};

use crate::verilator::Verilated;
use crate::{compare, Backend, Checked, SimError};

/// The RTL and the golden model, with the state both hold after the last step.
pub struct Steps {
    rtl: Verilated,
    cfg: HwConfig,
    golden: SystemState,
    /// The image the first step loads before its own writes.
    base: Option<MemImage>,
}

impl Steps {
    /// Both sides powered up with `image` (loaded with the first step).
    pub fn new(rtl: Verilated, image: &MemImage) -> Result<Self, SimError> {
        let cfg = rtl.config().clone();
        let golden = SystemState::from_image(&cfg, image)?;
        Ok(Steps {
            rtl,
            cfg,
            golden,
            base: Some(image.clone()),
        })
    }

    /// The golden model's state after the last step.
    pub fn state(&self) -> &SystemState {
        &self.golden
    }

    /// Writes `image` over both sides' memories, runs `program` on both (an error past
    /// `budget` cycles) and compares them: every memory word at the end, the cycle count,
    /// and every instruction's issue and completion cycle and every row it wrote.
    pub fn step(
        &mut self,
        program: &Program,
        image: &MemImage,
        budget: u64,
    ) -> Result<Checked, SimError> {
        let mut state = self.golden.clone();
        state.load(&self.cfg, image)?;
        let golden = golden::run(program, &self.cfg, state, Some(budget))?;
        let started = std::time::Instant::now();
        let rtl = match &self.base {
            // The first step: a fresh model with the base image and this step's writes.
            Some(base) => {
                let mut first = base.clone();
                first.chunks.extend(image.chunks.iter().cloned());
                let run = self.rtl.run(program, &first, budget, None)?;
                self.base = None;
                run
            }
            None => self.rtl.resume(program, image, budget)?,
        };
        let rtl_seconds = started.elapsed().as_secs_f64();
        let mismatches = compare::mismatches(&golden, &rtl);
        self.golden = golden.state.clone();
        Ok(Checked {
            golden,
            rtl,
            rtl_seconds,
            mismatches,
        })
    }
}
