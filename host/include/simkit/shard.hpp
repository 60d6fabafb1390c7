// SPDX-License-Identifier: Apache-2.0
// How R processes split one batch of envs: contiguous slices of the global env index range, each
// starting on a multiple of kShardAlign. Seeding is keyed on the global env index (Seeds::first_env
// = the slice's offset), so every env draws what it draws in one process.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>

#include "simkit/simulator.hpp"

namespace simkit {

// Slices start on whole CPU tiles (cpu::kTile divides it; static_assert in cpu_backend.hpp): a tile
// sums its episode returns in one running double, so a slice boundary inside a tile would round that
// sum differently from one process. With aligned starts the tiles, and so the statistics, are the
// same for any number of processes.
constexpr int64_t kShardAlign = 512;

struct Shard {
  int64_t offset = 0;  // global index of the first env
  int64_t count = 0;   // envs of this process (0 for a process left without a whole block)
};

// Process `rank` of `ranks`: blocks of `align` envs dealt out as evenly as they go (the last block may
// be short). ConfigError when there are more processes than envs. (align 1: for work whose results do
// not depend on where the slices start, such as Q-learning's ordered updates.)
inline Shard shard_envs(int64_t total_envs, int rank, int ranks, int64_t align = kShardAlign) {
  if (ranks < 1 || rank < 0 || rank >= ranks) {
    throw ConfigError("rank must be in [0, ranks) with ranks >= 1 (got rank " + std::to_string(rank) + " of " +
                      std::to_string(ranks) + ")");
  }
  if (total_envs < ranks) {
    throw ConfigError("num-envs " + std::to_string(total_envs) + " is smaller than the " + std::to_string(ranks) +
                      " processes (-n): every process needs at least one env");
  }
  const int64_t blocks = (total_envs + align - 1) / align;
  const int64_t first = blocks * rank / ranks, last = blocks * (rank + 1) / ranks;
  Shard s;
  s.offset = std::min(first * align, total_envs);
  s.count = std::min(last * align, total_envs) - s.offset;
  return s;
}

}  // namespace simkit
