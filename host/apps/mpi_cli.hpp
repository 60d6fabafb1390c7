// SPDX-License-Identifier: Apache-2.0
// The CLIs under mpirun (builds with SIMKIT_HAS_MPI): each rank measures its slice of the envs, rank 0
// reduces and writes the CSV rows.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "simkit/distributed.hpp"
#include "simkit/results.hpp"
#include "simkit/shard.hpp"
#include "simkit/throughput.hpp"

namespace simkit::cli {

// A World when an MPI launcher (mpirun, srun with PMI/PMIx) started this process, else null: a
// plain run stays a plain process and never initializes MPI.
inline std::unique_ptr<distributed::World> mpi_world_if_launched(int* argc, char*** argv, const char* program) {
  for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"}) {
    if (std::getenv(var)) return std::make_unique<distributed::World>(argc, argv, program);
  }
  return nullptr;
}

// Rank 0's verdict on something only it did (opening the CSV), at every rank.
inline int root_verdict(const distributed::World& world, int code, const char* what) {
  return world.broadcast(code, what);
}

// Every point over the ranks; the points were checked to agree on every rank.
inline int run_throughput_points(const distributed::World& world, const std::vector<ThroughputSpec>& points,
                                 const std::string& output, Device device) {
  std::unique_ptr<CsvWriter> csv;
  int code = 0;
  if (world.is_root()) {
    try {
      csv = std::make_unique<CsvWriter>(output.empty() ? default_results_path("throughput", to_string(device)) : output,
                                        throughput_columns());
    } catch (const std::exception& e) {
      std::fprintf(stderr, "throughput: error: %s\n", e.what());
      code = 2;
    }
  }
  if ((code = root_verdict(world, code, "opening the results file"))) return code;
  if (world.is_root()) {
    std::printf("%-26s %-8s %-5s %5s %11s %6s %13s %10s %11s %8s\n", "env", "prec", "dev", "ranks", "num_envs",
                "chunk", "steps/s", "ep_length", "ep_return", "seconds");
  }
  for (const ThroughputSpec& point : points) {
    const Shard shard = shard_envs(point.num_envs, world.rank(), world.size());
    ThroughputSpec mine = point;
    mine.total_envs = point.num_envs;
    mine.env_offset = shard.offset;
    mine.num_envs = shard.count;
    const auto repeat_barrier = [&] { world.barrier("the start of a timed repeat"); };
    world.barrier("the start of a point");
    ThroughputResult r;
    try {
      if (shard.count > 0) {
        r = measure_throughput(mine, {}, repeat_barrier);
      } else {  // fewer blocks of kShardAlign envs than ranks: this rank only keeps time with the others
        r.spec = mine;
        r.device_name = "idle (no block of " + std::to_string(kShardAlign) + " envs)";
        r.repeat_seconds.assign(static_cast<size_t>(mine.repeat), 0.0);
        r.repeat_env_steps.assign(static_cast<size_t>(mine.repeat), 0);
        for (int rep = 0; rep < mine.repeat; ++rep) repeat_barrier();
      }
    } catch (const std::exception& e) {
      world.abort(std::string("failed: ") + e.what(), 1);
    }
    ThroughputResult total;
    try {
      total = distributed::reduce_throughput(world, r);
      if (world.is_root()) csv->write(throughput_row(total));
    } catch (const std::exception& e) {
      world.abort(std::string("failed: ") + e.what(), 1);
    }
    if (world.is_root()) {
      std::printf("%-26s %-8s %-5s %5d %11lld %6d %13.4e %10.2f %11.2f %8.3f\n", total.spec.env_id.c_str(),
                  to_string(total.spec.precision), to_string(total.spec.device), total.ranks,
                  static_cast<long long>(total.spec.num_envs), total.spec.chunk, total.steps_per_second,
                  total.stats.mean_episode_length(), total.stats.mean_episode_return(), total.seconds);
      std::fflush(stdout);
    }
  }
  if (world.is_root()) std::printf("device: %s\nresults: %s\n", to_string(device), csv->path().c_str());
  return 0;
}

}  // namespace simkit::cli
