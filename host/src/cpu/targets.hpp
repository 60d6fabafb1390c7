// SPDX-License-Identifier: Apache-2.0
// The SIMD targets this build has CPU kernels for, and the run-time choice among them: the widest
// one the CPU supports, or the one named by the SIMKIT_SIMD environment variable.
#pragma once

#include <string>
#include <vector>

#include "cpu/kernel_table.hpp"

namespace simkit::cpu {

enum class Target { kScalar, kAvx2, kAvx512, kNeon };

const char* target_name(Target t);
bool compiled(Target t);  // this build has kernels for it
// Compiled into this build and runnable on this CPU, narrowest first.
std::vector<Target> available_targets();
// SIMKIT_SIMD if set (ConfigError naming the available targets when it is unknown or unavailable),
// else the widest available target. Read at each call, so a process may run several targets.
Target selected_target();

// Each target's kernel tables, defined in that target's translation unit (cpu/target.cpp).
template <class Env>
const KernelTable<Env>& kernels_scalar();
template <class Env>
const KernelTable<Env>& kernels_avx2();
template <class Env>
const KernelTable<Env>& kernels_avx512();
template <class Env>
const KernelTable<Env>& kernels_neon();

template <class Env>
const KernelTable<Env>& kernels_for(Target t) {
  switch (t) {
#if SIMKIT_CPU_TARGET_AVX2
    case Target::kAvx2:
      return kernels_avx2<Env>();
#endif
#if SIMKIT_CPU_TARGET_AVX512
    case Target::kAvx512:
      return kernels_avx512<Env>();
#endif
#if SIMKIT_CPU_TARGET_NEON
    case Target::kNeon:
      return kernels_neon<Env>();
#endif
    default:
      return kernels_scalar<Env>();
  }
}

}  // namespace simkit::cpu
