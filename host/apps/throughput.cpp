// SPDX-License-Identifier: Apache-2.0
// throughput: steps/s of the built-in random policy, one point or a sweep, printed as a table and
// appended row by row to a CSV under results/.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <set>
#include <vector>

#include "cli_common.hpp"
#include "simkit/registry.hpp"
#include "simkit/results.hpp"
#include "simkit/system_info.hpp"
#include "simkit/throughput.hpp"
#if SIMKIT_HAS_MPI
#include "mpi_cli.hpp"
#endif

using namespace simkit;

#if SIMKIT_HAS_MPI
namespace {
// What every rank must agree on before an MPI run: the points and the device kind.
std::string describe_points(const std::vector<ThroughputSpec>& points) {
  std::string out;
  for (const ThroughputSpec& p : points) {
    out += std::string("device=") + to_string(p.device) + " env=" + p.env_id + " precision=" + to_string(p.precision) +
           " num_envs=" + std::to_string(p.num_envs) + " chunk=" + std::to_string(p.chunk) + " steps=" +
           std::to_string(p.steps) + " warmup=" + std::to_string(p.warmup) + " repeat=" + std::to_string(p.repeat) +
           " seed=" + std::to_string(p.seed) + " params=" + params_text(p.params) + ";";
  }
  return out;
}
}  // namespace
#endif

int main(int argc, char** argv) {
  cli::fail_writes_past_file_size_limit();
#if SIMKIT_HAS_MPI
  const std::unique_ptr<distributed::World> world = cli::mpi_world_if_launched(&argc, &argv, "throughput");
#else
  const std::unique_ptr<int> world;  // no MPI in this build: always one process
#endif
  CLI::App app{"simkit throughput: env steps per second of the built-in random policy", "throughput"};
  std::vector<std::string> env_args, num_env_args, chunk_args, param_args;
  std::string device_arg = "auto", precision_arg = "float32", output;
  std::string steps_arg, seconds_arg, warmup_arg = "64", seed_arg = "0", threads_arg = "0", repeat_arg;
  bool full = false, list = false, step_api = false;
  app.add_option("--env", env_args,
                 "environment id(s), comma- or space-separated; default CartPole-v1, every env with --full");
  app.add_option("--num-envs", num_env_args, "number of envs, one value or a list: 1000,1e6,1_000_000");
  app.add_option("--chunk", chunk_args, "steps per chunk (per kernel launch / tile visit), one or a list");
  app.add_option("--steps", steps_arg,
                 "batch steps per repeat (each env takes this many steps); a point that will take longer than 10 s "
                 "shows its estimated time left every 10 s on stderr");
  app.add_option("--seconds", seconds_arg,
                 "seconds per repeat when --steps is not given (default 2, 0.5 with --full); the warmup stops after "
                 "this long too, and each repeat takes at least one batch step");
  app.add_option("--device", device_arg, "auto | cpu | cuda")->capture_default_str();
  app.add_option("--precision", precision_arg, "float32 | float64")->capture_default_str();
  app.add_option("--threads", threads_arg, "CPU threads, 0 = all cores")->capture_default_str();
  app.add_option("--seed", seed_arg, "random seed; fixed by default so repeated runs measure the same trajectories")
      ->capture_default_str();
  app.add_option("--warmup", warmup_arg, "untimed batch steps before timing (at most --seconds long)")
      ->capture_default_str();
  app.add_option("--repeat", repeat_arg, "timed repeats; the median is reported (default 3, 1 with --full)");
  app.add_option("--param", param_args,
                 "env parameter as name=value (repeatable), e.g. safety=0; name=v1,v2 sweeps the values");
  app.add_flag("--step-api", step_api,
               "time step() calls (host actions in, outputs back, one batch step each) instead of rollouts");
  app.add_flag("--full", full, "sweep num_envs 1e2..1e6 and chunk 1..256 over every env");
  app.add_option("--output", output, "CSV file to append to (default results/throughput_<device>_<time>.csv)");
  app.add_flag("--list-envs", list, "print the registered envs and exit");
  std::string mpi_timeout_arg;
  app.add_option("--mpi-timeout", mpi_timeout_arg,
                 "under mpirun: seconds a rank waits for the others at a collective before it stops the job (default "
                 "300)");
  bool resume = false;
  app.add_flag("--resume", resume,
               "skip the points already in the CSV (--output, else the newest results/throughput_<device>_*.csv)");
  std::string parse_error;  // under mpirun, reported once by rank 0 with the configuration check
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0 || !world) return cli::parse_error_exit(app, e);
    parse_error = e.what();
  }
  if (list) {
    for (const auto& id : env_ids()) std::printf("%s\n", id.c_str());
    return 0;
  }

  std::vector<ThroughputSpec> points;
  Device device = Device::kCpu;
  std::string config_error;
  try {
    if (!parse_error.empty()) throw ConfigError(parse_error + " (see --help)");
    env_args = cli::split_list("env", env_args);
    if (env_args.empty()) env_args = full ? env_ids() : std::vector<std::string>{"CartPole-v1"};
    for (const auto& e : env_args) check_env_id(e);
    const Precision precision = parse_precision(precision_arg);
    int threads = static_cast<int>(cli::parse_count("threads", threads_arg, 0, cpu::kMaxThreads));
#if SIMKIT_HAS_MPI
    if (world) {
      if (!mpi_timeout_arg.empty()) world->set_timeout(cli::parse_positive("mpi-timeout", mpi_timeout_arg));
      if (resume) throw ConfigError("resume is not supported under mpirun (each point is measured by every rank)");
      if (steps_arg.empty()) {
        throw ConfigError("steps is required under mpirun: the ranks must step the same number of steps for the "
                          "statistics to match one process");
      }
      threads = distributed::threads_per_rank(threads, world->local_size());
    }
#endif
    const DeviceChoice device_choice = parse_device(device_arg);
    std::vector<int64_t> sizes, chunks;
    for (const auto& s : cli::split_list("num-envs", num_env_args)) {
      sizes.push_back(cli::parse_count("num-envs", s, 1, kMaxEnvs - 1));
    }
    for (const auto& s : cli::split_list("chunk", chunk_args)) chunks.push_back(cli::parse_count("chunk", s, 1, kMaxChunk));
    if (sizes.empty()) sizes = full ? std::vector<int64_t>{100, 1000, 10000, 100000, 1000000} : std::vector<int64_t>{1000000};
    if (chunks.empty()) chunks = full ? std::vector<int64_t>{1, 2, 4, 8, 16, 32, 64, 128, 256} : std::vector<int64_t>{32};
    ThroughputSpec base;
    base.precision = precision;
    base.threads = threads;
    base.step_api = step_api;
    base.seed = static_cast<uint64_t>(cli::parse_count("seed", seed_arg, 0, INT64_MAX));
    base.warmup = static_cast<uint64_t>(cli::parse_count("warmup", warmup_arg, 0, INT64_MAX));
    base.repeat = static_cast<int>(cli::parse_count("repeat", repeat_arg.empty() ? (full ? "1" : "3") : repeat_arg, 1, kMaxRepeat));
    if (!steps_arg.empty()) base.steps = static_cast<uint64_t>(cli::parse_count("steps", steps_arg, 1, INT64_MAX));
    // name=v1,v2,...: one point per combination of the listed values (a sweep, e.g. num_agents=10,30,100).
    std::vector<std::map<std::string, double>> param_sets{{}};
    for (const auto& kv : param_args) {
      const size_t eq = kv.find('=');
      if (eq == std::string::npos || eq == 0) throw ConfigError("param must be name=value (got '" + kv + "')");
      const std::string name = kv.substr(0, eq);
      std::vector<std::map<std::string, double>> next;
      for (const auto& text : cli::split_list("param " + name, {kv.substr(eq + 1)})) {
        const double value = cli::parse_number("param " + name, text);
        for (auto set : param_sets) {
          set[name] = value;
          next.push_back(std::move(set));
        }
      }
      param_sets = std::move(next);
    }
    for (const auto& e : env_args) {
      for (const auto& set : param_sets) check_params(e, precision, set);
    }
    base.seconds = seconds_arg.empty() ? (full ? 0.5 : 2.0) : cli::parse_positive("seconds", seconds_arg);
    device = resolve_device(device_choice, cpu::resolve_threads(threads));  // logs its choice: after the checks
#if SIMKIT_HAS_MPI
    if (world && device == Device::kCuda) distributed::select_cuda_device(world->local_rank());
#endif
    if (device == Device::kCpu) selected_simd_target();  // SIMKIT_SIMD names an available target
    base.device = device;
    for (const auto& e : env_args) {
      for (const auto& set : param_sets) {
      for (int64_t n : sizes) {
        for (int64_t c : chunks) {
          ThroughputSpec p = base;
          p.params = set;
          p.env_id = e;
          p.num_envs = n;
          p.chunk = static_cast<int>(c);
#if SIMKIT_HAS_MPI
          if (world) p.num_envs = shard_envs(n, world->rank(), world->size()).count;  // each rank plans its slice
#endif
          const MemoryRequest req = memory_request(p);
          const MemoryPlan plan = plan_memory(req);
          if (!plan.fits()) {
            throw ConfigError("num-envs " + std::to_string(n) + " does not fit in memory: " + describe_shortfall(req, plan));
          }
          p.num_envs = n;
          points.push_back(p);
        }
      }
      }
    }
  } catch (const ConfigError& e) {
    config_error = e.what();
  }
#if SIMKIT_HAS_MPI
  if (world) {
    if (const int code = distributed::agree_on_config(*world, config_error.empty() ? describe_points(points)
                                                                                 : "error: " + config_error)) {
      return code;
    }
    return cli::run_throughput_points(*world, points, output, device);
  }
#endif
  if (!config_error.empty()) {
    std::fprintf(stderr, "throughput: error: %s\n", config_error.c_str());
    return 2;
  }

  try {
    if (resume && output.empty()) output = newest_results_path("throughput", to_string(device));
    if (output.empty()) output = default_results_path("throughput", to_string(device));
    if (resume) {
      const auto done = read_csv_rows(output);
      const auto key = [](const std::map<std::string, std::string>& row) {
        std::string k;
        for (const char* column : {"env", "precision", "backend", "num_envs", "chunk", "threads", "params", "api"}) {
          const auto it = row.find(column);
          k += (it == row.end() ? std::string() : it->second) + "|";
        }
        return k;
      };
      std::set<std::string> measured;
      for (const auto& row : done) measured.insert(key(row));
      const size_t before = points.size();
      points.erase(std::remove_if(points.begin(), points.end(),
                                  [&](const ThroughputSpec& p) {
                                    return measured.count(key(spec_columns(p))) > 0;
                                  }),
                   points.end());
      std::printf("resume: %zu of %zu points already in %s\n", before - points.size(), before, output.c_str());
    }
    CsvWriter csv(output, throughput_columns());
    std::printf("%-26s %-8s %-5s %11s %6s %8s %13s %10s %11s %8s %6s %13s\n", "env", "prec", "dev", "num_envs", "chunk",
                "batches", "steps/s", "ep_length", "ep_return", "seconds", "agents", "agent_steps/s");
    const auto start = std::chrono::steady_clock::now();
    for (size_t i = 0; i < points.size(); ++i) {
      // A point that will take longer than 10 s says how long, then every 10 s (stderr: the table
      // stays on stdout).
      double last_report = -HUGE_VAL;
      const auto progress = [&](const ThroughputProgress& p) {
        if (p.remaining_seconds > 10 && p.elapsed_seconds - last_report >= 10) {
          last_report = p.elapsed_seconds;
          std::fprintf(stderr,
                       "throughput: %s, %lld envs, chunk %d: %.1f%% done, about %s left (Ctrl-C stops; finished rows "
                       "are kept)\n",
                       points[i].env_id.c_str(), static_cast<long long>(points[i].num_envs), points[i].chunk,
                       100 * p.elapsed_seconds / (p.elapsed_seconds + p.remaining_seconds),
                       cli::format_duration(p.remaining_seconds).c_str());
        }
        return true;
      };
      const ThroughputResult r = measure_throughput(points[i], progress);
      csv.write(throughput_row(r));
      std::printf("%-26s %-8s %-5s %11lld %6d %8lld %13.4e %10.2f %11.2f %8.3f", r.spec.env_id.c_str(),
                  to_string(r.spec.precision), to_string(r.spec.device), static_cast<long long>(r.spec.num_envs),
                  r.spec.chunk, static_cast<long long>(r.batches), r.steps_per_second,
                  r.stats.mean_episode_length(), r.stats.mean_episode_return(), r.seconds);
      std::printf(" %6d %13.4e", r.num_agents, r.steps_per_second * r.num_agents);
      if (points.size() > 1) {
        const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        std::printf("   [%zu/%zu, ETA %.0f s]", i + 1, points.size(), elapsed / (i + 1) * (points.size() - i - 1));
      }
      std::printf("\n");
      std::fflush(stdout);
    }
    std::printf("device: %s\nresults: %s\n", points.empty() ? "" : to_string(device), csv.path().c_str());
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "throughput: error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "throughput: failed: %s\n", e.what());
    return 1;
  }
  return 0;
}
