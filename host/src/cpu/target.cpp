// SPDX-License-Identifier: Apache-2.0
// The CPU kernels of every registered env for one SIMD target and precision. CMake compiles this
// file once per (target, precision) with SIMKIT_TARGET_NAME, SIMKIT_TARGET_FN (kernels_<target>),
// SIMKIT_REAL and the target's instruction-set flags. SIMD targets run on Highway lanes of the
// ISA this unit is compiled for; the scalar target runs on plain Real (the reference path, the
// same code a CUDA thread runs).
//
// Only lane types of this target are instantiated here (Highway's per-target namespace), so no
// function compiled with this target's instructions can be merged by the linker with one that other
// code calls; tests/cpp/test_simd.cpp checks the binaries for that.
#include <algorithm>

#include "cpu/kernels.hpp"
#include "cpu/targets.hpp"
#if !SIMKIT_TARGET_SCALAR
#include "cpu/simd.hpp"
#endif

#define SIMKIT_ENV(Name)
#include "simkit/envs.def"
#undef SIMKIT_ENV

namespace simkit::cpu {

namespace {

using Real = SIMKIT_REAL;
#if SIMKIT_TARGET_SCALAR
using Lanes = Real;
#else
// Lanes of two vector registers of Real on AVX-512 and NEON (32 floats or 16 doubles on AVX-512,
// 8 / 4 on NEON): an env step is a long chain of dependent operations, and two registers give the
// CPU two independent chains to overlap (one register left CartPole latency-bound at ~60% of this).
// AVX2 has 16 vector registers: with two per lane vector its stack traffic triples (CartPole
// rollout_tile: 25 -> 59 spill/fill instructions, Acrobot 68 -> 208), so one.
constexpr size_t kRegisters = HWY_TARGET == HWY_AVX2 ? 1 : 2;
using Lanes = simd::HWY_NAMESPACE::Lanes<Real, HWY_LANES(Real) * kRegisters>;
#endif

template <class Env>
KernelTable<Env> make_table() {
  static_assert(kTile % lanes::kWidth<Lanes> == 0, "tiles hold whole vectors");
  KernelTable<Env> t{};
  t.target = SIMKIT_TARGET_NAME;
  t.width = lanes::kWidth<Lanes>;
  t.rollout_tile = &rollout_tile<Env, Lanes, false>;
  t.trajectory_tile = &rollout_tile<Env, Lanes, true>;
  t.reset_block = &reset_block<Env, Lanes>;
  t.step_block[static_cast<int>(AutoresetMode::kNextStep)] = &step_block<Env, AutoresetMode::kNextStep, Lanes>;
  t.step_block[static_cast<int>(AutoresetMode::kSameStep)] = &step_block<Env, AutoresetMode::kSameStep, Lanes>;
  t.step_block[static_cast<int>(AutoresetMode::kDisabled)] = &step_block<Env, AutoresetMode::kDisabled, Lanes>;
  return t;
}

}  // namespace

template <class Env>
const KernelTable<Env>& SIMKIT_TARGET_FN() {
  static const KernelTable<Env> table = make_table<Env>();
  return table;
}

#define SIMKIT_ENV(Name) template const KernelTable<envs::Name<Real>>& SIMKIT_TARGET_FN<envs::Name<Real>>();
#include "simkit/envs.def"
#undef SIMKIT_ENV

}  // namespace simkit::cpu
