// SPDX-License-Identifier: Apache-2.0
// mpi-reduce-cost: the time one statistics reduction (distributed::reduce_stats, what a training loop
// would pay per chunk) takes at rank 0 over the ranks mpirun started. Prints one line of JSON;
// benchmarks/mpi_scaling.py runs it at several rank counts.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include "cli_common.hpp"
#include "simkit/distributed.hpp"

using namespace simkit;

int main(int argc, char** argv) {
  distributed::World world(&argc, &argv, "mpi-reduce-cost", 120);
  int64_t iterations = 2000;
  try {
    if (argc > 2) throw ConfigError("usage: mpi-reduce-cost [ITERATIONS]");
    if (argc == 2) iterations = cli::parse_count("iterations", argv[1], 1, 10000000);
  } catch (const ConfigError& e) {
    if (world.is_root()) std::fprintf(stderr, "mpi-reduce-cost: error: %s\n", e.what());
    return 2;
  }
  // Statistics as a chunk of a real rollout leaves them: a few thousand episodes, non-integer returns
  // (several partials).
  RolloutStats mine;
  for (int tile = 0; tile < 64; ++tile) {
    EpisodeStats s;
    s.episodes = 40;
    s.length_sum = 40 * 23 + static_cast<uint64_t>(world.rank());
    s.return_sum = -1234.5678901 * (tile + 1) / 3.0 + world.rank() * 1e-7;
    mine.add_tile(s);
  }
  std::vector<double> micros;
  for (int64_t i = 0; i < iterations; ++i) {
    world.barrier("the start of a reduction");
    const auto t0 = std::chrono::steady_clock::now();
    const RolloutStats total = distributed::reduce_stats(world, mine);
    const auto t1 = std::chrono::steady_clock::now();
    if (world.is_root()) {
      micros.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
      if (total.episodes.episodes != mine.episodes.episodes * static_cast<uint64_t>(world.size())) return 1;
    }
  }
  if (world.is_root()) {
    std::sort(micros.begin(), micros.end());
    double sum = 0;
    for (double m : micros) sum += m;
    std::printf("{\"ranks\": %d, \"iterations\": %lld, \"median_us\": %.3f, \"p90_us\": %.3f, \"mean_us\": %.3f, "
                "\"partials\": %zu}\n",
                world.size(), static_cast<long long>(iterations), micros[micros.size() / 2],
                micros[micros.size() * 9 / 10], sum / static_cast<double>(micros.size()),
                mine.returns().partials().size());
  }
  return 0;
}
