// SPDX-License-Identifier: Apache-2.0
// What the CPU simulator calls: per env and SIMD target, a table of the kernels of cpu/kernels.hpp,
// built in that target's translation unit (cpu/target.cpp) and picked at run time (cpu/targets.hpp).
#pragma once

#include <cstdint>

#include "simkit/rollout.hpp"

namespace simkit::cpu {

// Envs per tile: big enough for long vector loops, small enough that a tile's state, counters and
// policy words stay in L1/L2 for a whole chunk.
constexpr int kTile = 512;

// 0, 1, 2, ...: a lane's offset in its group, loaded as lanes.
alignas(64) inline constexpr uint32_t kLaneOffsets[64] = {
    0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
    22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43,
    44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63};

// Where a trajectory-mode chunk goes, step-major: entry [k][i] at k * num_envs + i (multi-agent envs:
// rows (k * num_envs + i) * agents + a).
template <class Env>
struct TrajectoryOut {
  typename Env::Obs* obs;
  typename Env::Real* reward;
  uint8_t* terminated;
  uint8_t* truncated;
  ActionScalar<Env>* actions;
  int64_t num_envs;
};

template <class Env>
struct KernelTable {
  using Params = typename Env::Params;
  const char* target;  // "scalar", "avx2", "avx512", "neon"
  int width;           // envs per vector

  // Throughput mode (traj unused) and trajectory mode.
  void (*rollout_tile)(const Params&, const EngineParams&, const BatchView<Env>&, int64_t begin,
                       int count, uint64_t t0, uint64_t steps, EpisodeStats& stats, const TrajectoryOut<Env>* traj);
  decltype(rollout_tile) trajectory_tile;
  void (*reset_block)(const Params&, const EngineParams&, const BatchView<Env>&, int64_t begin,
                      int64_t end, int64_t num_envs, uint64_t t, const uint8_t* mask, bool only_pending,
                      const StepBuffersView<Env>& out);
  void (*step_block[3])(const Params&, const EngineParams&, const BatchView<Env>&, int64_t begin,
                        int64_t end, int64_t num_envs, uint64_t t, const ActionScalar<Env>* actions,
                        const StepBuffersView<Env>& out);  // by AutoresetMode
};

}  // namespace simkit::cpu
