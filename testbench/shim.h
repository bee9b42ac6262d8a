// The C++ side of the Verilator harness: one interface over the verilated model of every
// standard config, bound to Rust through cxx (cosim/src/verilator.rs). The classes behind it
// are generated per config by cosim's build script.
#pragma once

#include <cstdint>
#include <memory>

#include "rust/cxx.h"

namespace mtn {

struct TraceRecord;

class Model {
 public:
  virtual ~Model() = default;
  // Drives the host port for the next cycle (`chip` selects the chip of a system).
  virtual void host(bool req, bool we, uint32_t chip, uint32_t addr, uint32_t wdata) = 0;
  // Runs `cycles` clock cycles. In each, the model is evaluated with the clock low, the trace
  // ports are sampled into `trace`, then the clock rises. Stops early, after a full cycle,
  // once every chip has halted if `until_halt`; returns the cycles run.
  virtual uint64_t run(uint64_t cycles, bool until_halt, rust::Vec<TraceRecord>& trace) = 0;
  // The host port's read data (valid the cycle after a read request).
  virtual uint32_t host_rdata() const = 0;
  virtual bool halted() const = 0;
};

// The model of the standard config `name`, or null if this build has none.
std::unique_ptr<Model> new_model(rust::Str name);

}  // namespace mtn
