// SPDX-License-Identifier: Apache-2.0
// Run under mpirun (tests/CMakeLists.txt): every registered env measured over the ranks gives, at
// rank 0, the statistics of one process bit for bit, with 1 and 2 threads per rank; and the slices
// cover the env range exactly, on tile boundaries.
#include <cstdio>
#include <string>
#include <vector>

#include "simkit/distributed.hpp"
#include "simkit/shard.hpp"
#include "simkit/throughput.hpp"

using namespace simkit;

namespace {

int failures = 0;

void expect(bool ok, const std::string& what) {
  if (!ok) {
    std::fprintf(stderr, "FAILED: %s\n", what.c_str());
    ++failures;
  }
}

void check_slices() {
  for (int64_t total : {1, 2, 511, 512, 513, 1500, 4096, 100000}) {
    for (int ranks = 1; ranks <= 8 && ranks <= total; ++ranks) {
      int64_t next = 0;
      for (int r = 0; r < ranks; ++r) {
        const Shard s = shard_envs(total, r, ranks);
        expect(s.offset == next && s.count >= 0, "slices of " + std::to_string(total) + " are contiguous");
        expect(s.offset % kShardAlign == 0 || s.count == 0, "slices start on a block");
        next = s.offset + s.count;
      }
      expect(next == total, "slices of " + std::to_string(total) + " over " + std::to_string(ranks) + " cover it");
    }
  }
  bool refused = false;
  try {
    shard_envs(2, 0, 3);
  } catch (const ConfigError&) {
    refused = true;
  }
  expect(refused, "more ranks than envs is refused");
}

ThroughputSpec spec_for(const std::string& env, Precision precision, int threads) {
  ThroughputSpec s;
  s.env_id = env;
  s.precision = precision;
  s.num_envs = 1500;  // three blocks: slices of different sizes, a short last tile
  s.chunk = 16;
  s.steps = static_cast<uint64_t>(describe_env(env, precision).max_episode_steps) + 30;  // episodes end
  s.warmup = 7;
  s.repeat = 2;
  s.threads = threads;
  s.seed = 12345;
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  distributed::World world(&argc, &argv, "test_distributed", 120);
  check_slices();
  for (const std::string& env : env_ids()) {
    for (Precision precision : {Precision::kFloat32, Precision::kFloat64}) {
      for (int threads : {1, 2}) {
        const ThroughputSpec whole = spec_for(env, precision, threads);
        const Shard shard = shard_envs(whole.num_envs, world.rank(), world.size());
        ThroughputSpec mine = whole;
        mine.total_envs = whole.num_envs;
        mine.env_offset = shard.offset;
        mine.num_envs = shard.count;
        ThroughputResult r;
        if (shard.count > 0) {
          r = measure_throughput(mine, {}, [&] { world.barrier("a repeat"); });
        } else {
          r.spec = mine;
          r.repeat_seconds.assign(2, 0.0);
          r.repeat_env_steps.assign(2, 0);
          world.barrier("a repeat");
          world.barrier("a repeat");
        }
        const ThroughputResult total = distributed::reduce_throughput(world, r);
        const RolloutStats reduced = distributed::reduce_stats(world, r.stats);
        if (!world.is_root()) continue;
        ThroughputSpec one = whole;
        one.threads = 1;
        const ThroughputResult ref = measure_throughput(one);
        const std::string name = env + " " + to_string(precision) + ", " + std::to_string(world.size()) + " ranks x " +
                                 std::to_string(threads) + " threads";
        expect(total.stats.steps == ref.stats.steps, name + ": env steps");
        expect(total.stats.episodes.episodes == ref.stats.episodes.episodes, name + ": episodes");
        expect(total.stats.episodes.length_sum == ref.stats.episodes.length_sum, name + ": episode lengths");
        expect(total.stats.mean_episode_return() == ref.stats.mean_episode_return(),
               name + ": mean return " + std::to_string(total.stats.mean_episode_return()) + " vs " +
                   std::to_string(ref.stats.mean_episode_return()));
        expect(reduced.episodes.return_sum == ref.stats.episodes.return_sum, name + ": reduce_stats return sum");
        expect(total.ranks == world.size() && total.spec.num_envs == whole.num_envs, name + ": ranks and num_envs");
        expect(ref.stats.episodes.episodes > 0, name + ": episodes ended");
      }
    }
  }
  const int code = world.broadcast(failures ? 1 : 0, "the verdict");
  if (world.is_root()) std::printf("%s\n", code ? "distributed: FAILED" : "distributed: all passed");
  return code;
}
