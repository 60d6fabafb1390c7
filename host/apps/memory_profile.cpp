// SPDX-License-Identifier: Apache-2.0
// memory-profile: the planner's predicted bytes next to the measured peak (host: peak RSS growth of a
// forked child; CUDA: device memory in use from the driver), swept over num_envs and chunk, printed
// as a table and appended row by row to a CSV under results/.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <memory>
#include <vector>

#include "cli_common.hpp"
#include "simkit/memory_profile.hpp"
#include "simkit/registry.hpp"
#include "simkit/results.hpp"
#include "simkit/system_info.hpp"
#include "simkit/throughput.hpp"
#if SIMKIT_HAS_MPI
#include "mpi_cli.hpp"
#endif

using namespace simkit;

namespace {
std::string bytes_cell(const MemoryProfileResult& r, uint64_t b) { return r.measured ? format_bytes(b) : "-"; }
}  // namespace

int main(int argc, char** argv) {
  cli::fail_writes_past_file_size_limit();
#if SIMKIT_HAS_MPI
  // Under mpirun each rank holds one slice of the envs: rank 0 profiles the largest slice of every
  // point (what each rank's machine must hold), after every rank agreed on the arguments.
  const std::unique_ptr<distributed::World> world = cli::mpi_world_if_launched(&argc, &argv, "memory-profile");
#endif
  CLI::App app{"simkit memory-profile: the memory planner's prediction next to the measured peak"};
  app.name("memory-profile");
  std::vector<std::string> env_args, num_env_args, chunk_args;
  std::string profile_arg = "both", device_arg = "auto", precision_arg = "float32", mode_arg, output;
  std::string steps_arg = "0", threads_arg = "0", free_arg;
  app.add_option("--profile", profile_arg,
                 "envs: sweep --num-envs at one chunk; chunk: sweep --chunk at one num_envs; both")
      ->capture_default_str();
  app.add_option("--env", env_args, "environment id(s), comma- or space-separated (default CartPole-v1)");
  app.add_option("--device", device_arg, "auto | cpu | cuda")->capture_default_str();
  app.add_option("--precision", precision_arg, "float32 | float64")->capture_default_str();
  app.add_option("--mode", mode_arg,
                 "statistics | trajectory | step_api (default: statistics for the envs sweep, trajectory for the chunk "
                 "sweep, where chunk changes the memory)");
  app.add_option("--num-envs", num_env_args,
                 "envs sweep values, comma- or space-separated (default 1e3,1e4,1e5,1e6,1e7); a single value is "
                 "also the chunk sweep's num_envs (default 1e5)");
  app.add_option("--chunk", chunk_args,
                 "chunk sweep values, comma- or space-separated (default 1,4,16,64,256); a single value is also "
                 "the envs sweep's chunk (default 32)");
  app.add_option("--steps", steps_arg, "batch steps of each point's short rollout, 0 = two chunks")->capture_default_str();
  app.add_option("--threads", threads_arg, "CPU threads, 0 = all cores")->capture_default_str();
  app.add_option("--free-bytes", free_arg,
                 "plan as if only this many bytes were free (shows where the planner splits or refuses); "
                 "default: the free memory now");
  app.add_option("--output", output, "CSV file to append to (default results/memory_<device>_<time>.csv)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return cli::parse_error_exit(app, e);
  }

  std::vector<MemoryProfileSpec> points;
  Device device = Device::kCpu;
  std::string config_error, config_text;
  try {
    if (profile_arg != "envs" && profile_arg != "chunk" && profile_arg != "both") {
      throw ConfigError("profile must be 'envs', 'chunk' or 'both' (got '" + profile_arg + "')");
    }
    env_args = cli::split_list("env", env_args);
    if (env_args.empty()) env_args = {"CartPole-v1"};
    for (const auto& e : env_args) check_env_id(e);
    const Precision precision = parse_precision(precision_arg);
    int threads = static_cast<int>(cli::parse_count("threads", threads_arg, 0, cpu::kMaxThreads));
#if SIMKIT_HAS_MPI
    if (world) threads = distributed::threads_per_rank(threads, world->local_size());
#endif
    device = resolve_device(parse_device(device_arg), cpu::resolve_threads(threads));
    if (device == Device::kCpu) selected_simd_target();  // SIMKIT_SIMD names an available target
    std::vector<int64_t> sizes, chunks;
    for (const auto& s : cli::split_list("num-envs", num_env_args)) {
      sizes.push_back(cli::parse_count("num-envs", s, 1, kMaxEnvs - 1));
    }
    for (const auto& s : cli::split_list("chunk", chunk_args)) chunks.push_back(cli::parse_count("chunk", s, 1, kMaxChunk));
    const bool has_mode = !mode_arg.empty();
    const OutputMode mode = has_mode ? parse_output_mode(mode_arg) : OutputMode::kStatistics;
    MemoryProfileSpec base;
    base.precision = precision;
    base.device = device;
    base.threads = threads;
    base.steps = static_cast<uint64_t>(cli::parse_count("steps", steps_arg, 0, INT64_MAX));
    if (!free_arg.empty()) base.free_bytes = static_cast<uint64_t>(cli::parse_count("free-bytes", free_arg, 1, INT64_MAX));

    const std::vector<int64_t> envs_sweep =
        sizes.empty() ? std::vector<int64_t>{1000, 10000, 100000, 1000000, 10000000} : sizes;
    const int64_t envs_sweep_chunk = chunks.size() == 1 ? chunks.front() : 32;
    const std::vector<int64_t> chunk_sweep = chunks.empty() ? std::vector<int64_t>{1, 4, 16, 64, 256} : chunks;
    const int64_t chunk_sweep_envs = sizes.size() == 1 ? sizes.front() : 100000;
    for (const auto& e : env_args) {
      if (profile_arg != "chunk") {
        for (int64_t n : envs_sweep) {
          MemoryProfileSpec p = base;
          p.env_id = e;
          p.profile = "envs";
          p.mode = mode;
          p.num_envs = n;
          p.chunk = static_cast<int>(envs_sweep_chunk);
          points.push_back(p);
        }
      }
      if (profile_arg != "envs") {
        for (int64_t c : chunk_sweep) {
          MemoryProfileSpec p = base;
          p.env_id = e;
          p.profile = "chunk";
          p.mode = has_mode ? mode : OutputMode::kTrajectory;
          p.num_envs = chunk_sweep_envs;
          p.chunk = static_cast<int>(c);
          points.push_back(p);
        }
      }
    }
#if SIMKIT_HAS_MPI
    if (world) {
      for (MemoryProfileSpec& p : points) {
        config_text += p.env_id + " " + p.profile + " " + to_string(p.mode) + " " + to_string(p.device) + " " +
                       std::to_string(p.num_envs) + " " + std::to_string(p.chunk) + ";";
        int64_t largest = 0;
        for (int r = 0; r < world->size(); ++r) largest = std::max(largest, shard_envs(p.num_envs, r, world->size()).count);
        p.num_envs = largest;
      }
    }
#endif
  } catch (const ConfigError& e) {
    config_error = e.what();
  }
#if SIMKIT_HAS_MPI
  if (world) {
    if (const int code = distributed::agree_on_config(*world, config_error.empty() ? config_text : "error: " + config_error)) {
      return code;
    }
    if (!world->is_root()) return 0;
    std::printf("mpi: %d ranks; each point below is the largest rank's slice of its num_envs\n", world->size());
  }
#endif
  if (!config_error.empty()) {
    std::fprintf(stderr, "memory-profile: error: %s\n", config_error.c_str());
    return 2;
  }

  try {
    CsvWriter csv(output.empty() ? default_results_path("memory", to_string(device)) : output, memory_profile_columns());
    std::printf("%-14s %-8s %-5s %-6s %-10s %11s %6s %8s %11s %11s %11s %9s %7s\n", "env", "prec", "dev", "sweep",
                "mode", "num_envs", "chunk", "batches", "batch_envs", "predicted", "measured", "B/env", "ratio");
    int64_t first_split = 0, first_refused = 0;
    for (size_t i = 0; i < points.size(); ++i) {
      const MemoryProfileResult r = profile_memory(points[i]);
      csv.write(memory_profile_row(r));
      if (r.plan.num_batches > 1 && !first_split) first_split = r.spec.num_envs;
      if (!r.plan.fits() && !first_refused) first_refused = r.spec.num_envs;
      const std::string batches = r.plan.fits() ? std::to_string(r.plan.num_batches) : "refused";
      std::printf("%-14s %-8s %-5s %-6s %-10s %11lld %6d %8s %11lld %11s %11s %9s %7s", r.spec.env_id.c_str(),
                  to_string(r.spec.precision), to_string(r.spec.device), r.spec.profile.c_str(), to_string(r.spec.mode),
                  static_cast<long long>(r.spec.num_envs), r.spec.chunk, batches.c_str(),
                  static_cast<long long>(r.plan.batch_envs), format_bytes(r.predicted_bytes).c_str(),
                  bytes_cell(r, r.measured_peak_bytes).c_str(),
                  r.measured ? std::to_string(static_cast<long long>(r.bytes_per_env + 0.5)).c_str() : "-",
                  r.measured ? (std::to_string(r.ratio).substr(0, 5)).c_str() : "-");
      std::printf("   [%zu/%zu]\n", i + 1, points.size());
      if (!r.plan.fits()) std::printf("    refused: %s\n", describe_shortfall(r.request, r.plan).c_str());
      std::fflush(stdout);
    }
    std::printf("device: %s\n", to_string(device));
    if (first_split) std::printf("planner: splits into batches from num_envs %lld\n", static_cast<long long>(first_split));
    if (first_refused) std::printf("planner: refuses from num_envs %lld\n", static_cast<long long>(first_refused));
    if (!first_split && !first_refused) std::printf("planner: every point ran in one batch\n");
    std::printf("results: %s\n", csv.path().c_str());
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "memory-profile: error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "memory-profile: failed: %s\n", e.what());
    return 1;
  }
  return 0;
}
