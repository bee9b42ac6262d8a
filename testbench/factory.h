// The built-in models (see shim.h), by standard config name, for the cxx bridge.
#pragma once

#include <memory>

#include "rust/cxx.h"
#include "shim.h"

namespace mtn {

// The model of the standard config `name`, or null if this build has none.
std::unique_ptr<Model> new_model(rust::Str name);

}  // namespace mtn
