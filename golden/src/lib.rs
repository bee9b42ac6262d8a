//! The golden model: the executable specification of Metronome.
//!
//! - [`verify`] checks a program against the static-schedule contract and returns its cycle
//!   [`Timeline`] (issue and completion of every instruction, every port, word and link use).
//! - [`exec`] defines what each op computes, bit for bit ([`numerics`] holds the TFLite
//!   requantization arithmetic).
//! - [`run`] does both: verify, then execute every instruction in sequential order, recording
//!   what each one wrote.
//!
//! ```
//! use golden::{run, SystemState};
//! use isa::{assemble, HwConfig};
//!
//! let cfg = HwConfig::preset("tiny").unwrap();
//! let program = assemble("+0 vop.add a=acc0[0] b=imm imm=5 dst=acc0[1]\n+5 ctl.halt\n").unwrap();
//! let result = run(&program, &cfg, SystemState::new(&cfg), None).unwrap();
//! assert_eq!(result.cycles(), 6);
//! assert_eq!(result.state.chips[0].acc[[0, 1, 2]], 5);
//! ```

pub mod exec;
pub mod numerics;
pub mod state;
pub mod verify;

pub use exec::RowWrite;
pub use state::{ChipState, SystemState};
pub use verify::{verify, InstrTiming, Rule, Timeline, Violation};

use isa::{HwConfig, Program};

/// One executed instruction: when it ran and what it wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Retired {
    pub chip: u32,
    pub index: usize,
    pub issue: u64,
    pub completion: u64,
    pub writes: Vec<RowWrite>,
}

/// The result of a golden run.
#[derive(Clone, Debug)]
pub struct Run {
    pub timeline: Timeline,
    pub state: SystemState,
    /// Every instruction in sequential order.
    pub retired: Vec<Retired>,
}

impl Run {
    /// Total cycles of the system.
    pub fn cycles(&self) -> u64 {
        self.timeline.cycles()
    }
}

/// Why a program did not run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GoldenError {
    #[error("program rejected by the verifier ({} violation(s)); first: {}", .0.len(), .0[0])]
    Rejected(Vec<Violation>),
    #[error("the program needs {cycles} cycles, over the budget of {budget}")]
    OverBudget { cycles: u64, budget: u64 },
}

/// Cycles `program` runs if it is valid: each chip stops in the cycle its `ctl.halt` issues
/// (or its last instruction, if it has none).
pub fn cycles_from_delays(program: &Program) -> u64 {
    let chip_cycles = |instrs: &Vec<isa::Instr>| {
        let end = instrs
            .iter()
            .position(|i| i.op.is_halt())
            .map_or(instrs.len(), |h| h + 1);
        instrs[..end].iter().map(|i| i.delay as u64).sum::<u64>() + 1
    };
    program.chips.iter().map(chip_cycles).max().unwrap_or(0)
}

/// Verifies `program`, then executes it on `state`. A program whose timeline exceeds
/// `cycle_budget` is refused before anything runs.
pub fn run(
    program: &Program,
    cfg: &HwConfig,
    mut state: SystemState,
    cycle_budget: Option<u64>,
) -> Result<Run, GoldenError> {
    // The run's length follows from the delays alone: check it before the verifier's work.
    if let Some(budget) = cycle_budget {
        let cycles = cycles_from_delays(program);
        if cycles > budget {
            return Err(GoldenError::OverBudget { cycles, budget });
        }
    }
    let timeline = verify(program, cfg).map_err(GoldenError::Rejected)?;
    let mut retired = Vec::with_capacity(program.len());
    for (chip, index) in timeline.sequential_order() {
        let t = &timeline.chips[chip as usize][index];
        let writes = exec::execute(&mut state, chip, &t.op);
        retired.push(Retired {
            chip,
            index,
            issue: t.issue(),
            completion: t.completion(),
            writes,
        });
    }
    Ok(Run {
        timeline,
        state,
        retired,
    })
}
