//! The sources of a Verilator model of one design: verilating it and the C++ class that adapts
//! it to `mtn::Model` (testbench/shim.h). Shared by the build script (which includes this file)
//! for the built-in models and by [`crate::runtime`] for configs chosen at run time.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use rtl_gen::Design;

/// Bump when the shim or the generated glue changes in a way the key does not see.
pub const SHIM_VERSION: &str = "7";
pub const VERILATOR_FLAGS: &[&str] = &["--cc", "--x-assign", "0", "--x-initial", "0", "-O3"];
pub const CXX_FLAGS: &[&str] = &[
    "-std=c++17",
    "-faligned-new",
    "-DVM_COVERAGE=0",
    "-DVM_SC=0",
    "-DVM_TRACE=0",
    "-DVM_TRACE_FST=0",
    "-DVM_TRACE_VCD=0",
    "-Wno-bool-operation",
    "-Wno-sign-compare",
    "-Wno-uninitialized",
    "-Wno-unused-but-set-variable",
    "-Wno-unused-parameter",
    "-Wno-unused-variable",
    "-Wno-shadow",
];

/// The C++ flags of a model, with waveform support (`--trace-fst`) or without.
pub fn cxx_flags(waves: bool) -> Vec<&'static str> {
    CXX_FLAGS
        .iter()
        .map(|f| match (*f, waves) {
            ("-DVM_TRACE=0", true) => "-DVM_TRACE=1",
            ("-DVM_TRACE_FST=0", true) => "-DVM_TRACE_FST=1",
            (f, _) => f,
        })
        .collect()
}

/// `tool args`' standard output, trimmed, or `None` if it cannot run or fails.
pub fn tool_version(tool: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(tool).args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    Some(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// The headers every model source starts with.
pub const PRELUDE: &str = "#include <cstring>\n#include <vector>\n#include \"verilated.h\"\n";

/// The cache key of a model: everything its build depends on (`common`: the tool versions
/// and flags) and the design.
pub fn key(common: &str, prefix: &str, design: &Design) -> String {
    use sha2::{Digest, Sha256};
    let mut key = Sha256::new();
    key.update(common);
    key.update(format!("{prefix}\n{}\n", design.top));
    for f in design.verilog_files() {
        key.update(&f.name);
        key.update(&f.text);
    }
    key.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// What every model build depends on besides the design: the Verilator and C++ compiler
/// versions, the flags and the shim.
pub fn common_key(verilator: &str, cxx: &str) -> String {
    format!("{verilator}\n{cxx}\n{SHIM_VERSION}\n{VERILATOR_FLAGS:?}\n{CXX_FLAGS:?}")
}

/// Verilates `design` into `dir` (which gets the Verilog too), with `flags` besides the
/// standard ones; returns the C++ files to
/// compile for speed and those (constructors, symbol tables) to compile for size.
pub fn verilate(
    dir: &Path,
    design: &Design,
    prefix: &str,
    waves: bool,
    flags: &[&str],
) -> Result<(Vec<PathBuf>, Vec<PathBuf>), String> {
    for f in design.verilog_files() {
        fs::write(dir.join(&f.name), &f.text).map_err(|e| format!("cannot write Verilog: {e}"))?;
    }
    let out = Command::new("verilator")
        .current_dir(dir)
        .args(VERILATOR_FLAGS)
        .args(if waves { &["--trace-fst"][..] } else { &[] })
        .args(flags)
        .args(["--prefix", prefix, "--top-module", design.top, "-Mdir", "."])
        .args(design.verilog_files().map(|f| f.name.clone()))
        .output()
        .map_err(|e| format!("cannot run verilator: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "verilator failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let mut fast = Vec::new();
    let mut slow = Vec::new();
    let entries = fs::read_dir(dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
    for entry in entries.flatten() {
        let path = entry.path();
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        if name.starts_with(prefix) && name.ends_with(".cpp") {
            if name.contains("Slow") || name.contains("Syms") || name.contains("ConstPool") {
                slow.push(path);
            } else {
                fast.push(path);
            }
        }
    }
    fast.sort();
    slow.sort();
    Ok((fast, slow))
}

/// The C++ class that adapts one verilated model to the `mtn::Model` interface, sampling its
/// trace ports into records as [`crate::probe`] describes.
pub fn model_class(name: &str, prefix: &str, design: &Design, waves: bool) -> String {
    let probes = crate::probe::Probes::new(design);
    let sample = probes.cpp();
    let most = probes.most_words_per_cycle();
    let multi = design.config.system.chips > 1;
    let chip_select = if multi {
        "m_->host_chip_i = chip;"
    } else {
        "(void)chip;"
    };
    // With waves: the context turns tracing on before the model exists, and each half cycle
    // inside the window is dumped.
    let (wave_include, wave_setup, wave_dump_low, wave_dump_high, wave_methods) = if waves {
        (
            "#include \"verilated_fst_c.h\"\n",
            "ctx->traceEverOn(true);",
            "      if (fst_ && time_ >= from_ && time_ <= to_) fst_->dump(10 * time_);\n",
            "      if (fst_ && time_ >= from_ && time_ <= to_) fst_->dump(10 * time_ + 5);\n",
            r#"  bool wave_open(const char* path) override {
    fst_.reset(new VerilatedFstC);
    m_->trace(fst_.get(), 99);
    fst_->open(path);
    return fst_->isOpen();
  }
  void wave_window(uint64_t from, uint64_t to) override {
    from_ = from;
    to_ = to;
  }
  void wave_close() override {
    if (fst_) fst_->close();
  }
  std::unique_ptr<VerilatedFstC> fst_;
"#,
        )
    } else {
        (
            "",
            "",
            "",
            "",
            r#"  bool wave_open(const char*) override { return false; }
  void wave_window(uint64_t, uint64_t) override {}
  void wave_close() override {}
"#,
        )
    };
    format!(
        r#"#include "{prefix}.h"
{wave_include}namespace mtn {{
namespace {{
class Model_{name} final : public Model {{
 public:
  Model_{name}() : ctx_(context()), m_(new {prefix}{{ctx_.get()}}) {{
    m_->clk_i = 0;
    m_->rst_ni = 1;
    m_->host_req_i = 0;
    m_->host_we_i = 0;
    m_->eval();
    m_->rst_ni = 0;
    m_->eval();
    m_->rst_ni = 1;
    m_->eval();
    trace_.resize(1 << 20);
  }}
  ~Model_{name}() override {{
    wave_close();
    m_->final();
  }}
  static VerilatedContext* context() {{
    auto* ctx = new VerilatedContext;
    {wave_setup}
    return ctx;
  }}
  void host(bool req, bool we, uint32_t chip, uint32_t addr, uint32_t wdata) override {{
    {chip_select}
    m_->host_req_i = req;
    m_->host_we_i = we;
    m_->host_addr_i = addr;
    m_->host_wdata_i = wdata;
  }}
  uint64_t run(uint64_t cycles, bool until_halt) override {{
    for (uint64_t i = 0; i < cycles; i++) {{
      m_->clk_i = 0;
      m_->eval();
{wave_dump_low}      // Grow before the cycle, so each record is a plain store.
      if (len_ + {most} > trace_.size()) trace_.resize(2 * trace_.size());
      uint32_t* p = trace_.data() + len_;
{sample}      len_ = p - trace_.data();
      m_->clk_i = 1;
      m_->eval();
{wave_dump_high}      time_++;
      if (until_halt && m_->halted_o) return i + 1;
    }}
    return cycles;
  }}
  uint64_t run_bare(uint64_t cycles) override {{
    for (uint64_t i = 0; i < cycles; i++) {{
      m_->clk_i = 0;
      m_->eval();
      m_->clk_i = 1;
      m_->eval();
    }}
    return cycles;
  }}
  uint32_t host_rdata() const override {{ return m_->host_rdata_o; }}
  bool halted() const override {{ return m_->halted_o; }}

 private:
  const uint32_t* trace_data() const override {{ return trace_.data(); }}
  size_t trace_len() const override {{ return len_; }}
{wave_methods}  std::vector<uint32_t> trace_;
  size_t len_ = 0;
  uint64_t time_ = 0, from_ = 1, to_ = 0;
  std::unique_ptr<VerilatedContext> ctx_;
  std::unique_ptr<{prefix}> m_;
}};
}}  // namespace
}}  // namespace mtn
"#
    )
}
