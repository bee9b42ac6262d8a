//! Why a simulation gave no result.

/// Every way a run on the RTL can fail before it produces results to compare.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error(
        "{tool} is not installed: run ./scripts/setup.sh (or `sudo apt-get install -y {package}`)"
    )]
    Missing {
        tool: &'static str,
        package: &'static str,
    },
    #[error("{tool} failed:\n{output}")]
    Failed { tool: &'static str, output: String },
    #[error("program rejected by the verifier ({} violation(s)); first: {}", .0.len(), .0[0])]
    Rejected(Vec<golden::Violation>),
    /// The golden model refused the run (the program, or its cycle budget).
    #[error(transparent)]
    Golden(#[from] golden::GoldenError),
    #[error("memory image: {0}")]
    Image(#[from] isa::ImageError),
    #[error(
        "the RTL was generated for config {found}, but this run is for config {expected}: \
         regenerate it"
    )]
    ConfigMismatch { expected: String, found: String },
    #[error("the program did not halt within {budget} cycles")]
    OverBudget { budget: u64 },
    /// The serial line to a board (real or simulated) failed or fell silent.
    #[error("the serial line: {0}")]
    Serial(String),
    #[error("the simulator's output is malformed: {0}")]
    Output(String),
    /// A request the simulator cannot carry out, with what to do instead.
    #[error("{0}")]
    Unsupported(String),
    #[error("no model of config {hash} could be made (the built-in ones are {built})")]
    NoModel { hash: String, built: String },
    #[error(transparent)]
    Gen(#[from] rtl_gen::GenError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}
