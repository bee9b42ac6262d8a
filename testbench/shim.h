// The C++ side of the Verilator harness: one interface over the verilated model of any config,
// bound to Rust through cxx (cosim/src/verilator.rs, with factory.h). The classes behind it
// are generated per config (cosim/src/model_src.rs): built into the binary for the standard
// configs, or into a shared object loaded at run time for any other. This header uses plain
// C++ types only, so such a shared object needs nothing from Rust.
#pragma once

#include <cstddef>
#include <cstdint>

namespace mtn {

class Model {
 public:
  virtual ~Model() = default;
  // Drives the host port for the next cycle (`chip` selects the chip of a system).
  virtual void host(bool req, bool we, uint32_t chip, uint32_t addr, uint32_t wdata) = 0;
  // Runs `cycles` clock cycles. In each, the model is evaluated with the clock low, the trace
  // ports are sampled into the trace buffer, then the clock rises. Stops early, after a full
  // cycle, once every chip has halted if `until_halt`; returns the cycles run.
  virtual uint64_t run(uint64_t cycles, bool until_halt) = 0;
  // The trace buffer: records as cosim/src/probe.rs describes them (five header words, then
  // for a write the row, lowest word first); the sampler that fills it is generated from that
  // description too.
  // Waveforms (models built with them only; otherwise wave_open returns false): open an FST
  // file, dump the cycles counted from the model's creation in [from, to], close.
  virtual bool wave_open(const char* path) = 0;
  virtual void wave_window(uint64_t from, uint64_t to) = 0;
  virtual void wave_close() = 0;
  virtual const uint32_t* trace_data() const = 0;
  virtual size_t trace_len() const = 0;
  // Runs `cycles` clock cycles with nothing else: the bare loop the harness is measured
  // against.
  virtual uint64_t run_bare(uint64_t cycles) = 0;
  // The host port's read data (valid the cycle after a read request).
  virtual uint32_t host_rdata() const = 0;
  virtual bool halted() const = 0;
};

}  // namespace mtn
