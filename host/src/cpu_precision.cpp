// SPDX-License-Identifier: Apache-2.0
// Instantiates the CPU simulator (control logic and memory; the kernels come from cpu/target.cpp)
// for every registered env at one precision. CMake compiles this file twice: SIMKIT_REAL=float and
// SIMKIT_REAL=double, so the two precisions build in parallel.
#include "cpu_backend.hpp"

#define SIMKIT_CAT2(a, b) a##b
#define SIMKIT_CAT(a, b) SIMKIT_CAT2(a, b)

namespace simkit::cpu {

std::unique_ptr<Simulator> SIMKIT_CAT(make_simulator_, SIMKIT_REAL)(const SimConfig& c) {
  std::unique_ptr<Simulator> sim;
  dispatch_env<SIMKIT_REAL>(c.env_id, [&](auto tag) { sim = std::make_unique<CpuSimulator<typename decltype(tag)::type>>(c); });
  return sim;
}

}  // namespace simkit::cpu
