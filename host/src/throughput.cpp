// SPDX-License-Identifier: Apache-2.0
#include "simkit/throughput.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "simkit/system_info.hpp"

namespace simkit {

namespace {
double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
std::string fmt(double v, const char* f = "%.6g") {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}
}  // namespace

std::string params_text(const std::map<std::string, double>& params) {
  std::string out;
  for (const auto& [name, value] : params) out += (out.empty() ? "" : " ") + name + "=" + fmt(value);
  return out;
}

MemoryRequest memory_request(const ThroughputSpec& spec, OutputMode mode) {
  MemoryRequest req;
  req.env = describe_env(spec.env_id, spec.precision);
  req.num_envs = spec.num_envs;
  req.chunk = spec.chunk;
  req.mode = mode;
  req.free_bytes = free_bytes(spec.device);
  // CUDA stages through batches and double-buffers trajectories (one chunk written while the last one
  // is copied out); the CPU has no faster memory to stage through and hands each chunk over before
  // the next.
  req.allow_batches = spec.device == Device::kCuda;
  req.trajectory_buffers = spec.device == Device::kCuda ? 2 : 1;
  return req;
}

ThroughputResult measure_throughput(const ThroughputSpec& spec) {
  check_env_id(spec.env_id);
  if (spec.num_envs <= 0) throw ConfigError("num-envs must be at least 1 (got " + std::to_string(spec.num_envs) + ")");
  if (spec.num_envs >= kMaxEnvs) throw ConfigError("num-envs must be below 2^32 (got " + std::to_string(spec.num_envs) + ")");
  if (spec.chunk < 1) throw ConfigError("chunk must be at least 1 (got " + std::to_string(spec.chunk) + ")");
  if (spec.repeat < 1) throw ConfigError("repeat must be at least 1 (got " + std::to_string(spec.repeat) + ")");
  if (spec.steps == 0 && !(spec.seconds > 0)) throw ConfigError("seconds must be positive when steps is 0");

  const MemoryRequest req = memory_request(spec, OutputMode::kStatistics);
  const MemoryPlan plan = plan_memory(req);
  if (!plan.fits()) throw ConfigError("num-envs " + std::to_string(spec.num_envs) + ": " + describe_shortfall(req, plan));

  ThroughputResult r;
  r.spec = spec;
  r.batches = plan.num_batches;
  std::vector<double> repeat_seconds(static_cast<size_t>(spec.repeat), 0.0);
  std::vector<uint64_t> repeat_steps(static_cast<size_t>(spec.repeat), 0);
  for (int64_t b = 0; b < plan.num_batches; ++b) {
    SimConfig c;
    c.env_id = spec.env_id;
    c.precision = spec.precision;
    c.env_offset = b * plan.batch_envs;
    c.num_envs = std::min(plan.batch_envs, spec.num_envs - c.env_offset);
    c.seed = spec.seed;
    c.threads = spec.threads;
    c.params = spec.params;
    auto sim = make_simulator(c, spec.device);
    r.device_name = sim->device_name();
    if (spec.warmup > 0) sim->rollout(spec.warmup, spec.chunk);
    for (int rep = 0; rep < spec.repeat; ++rep) {
      const double t0 = now_seconds();
      RolloutStats s;
      // Device time (CUDA events on the working stream) where the backend measures it, else wall time.
      double device_seconds = 0;
      bool device_timed = true;
      const auto note_device_time = [&] {
        const double d = sim->last_rollout_seconds();
        if (d < 0) device_timed = false;
        else device_seconds += d;
      };
      if (spec.steps > 0) {
        s = sim->rollout(spec.steps, spec.chunk);
        note_device_time();
      } else {
        const double budget = spec.seconds / static_cast<double>(plan.num_batches);
        while (now_seconds() - t0 < budget) {
          const RolloutStats part = sim->rollout(static_cast<uint64_t>(spec.chunk), spec.chunk);
          note_device_time();
          s.steps += part.steps;
          s.episodes.add(part.episodes);
        }
      }
      repeat_seconds[static_cast<size_t>(rep)] += device_timed ? device_seconds : now_seconds() - t0;
      repeat_steps[static_cast<size_t>(rep)] += s.steps;
      r.stats.steps += s.steps;
      r.stats.episodes.add(s.episodes);
    }
  }
  std::vector<double> rates;
  for (int rep = 0; rep < spec.repeat; ++rep) rates.push_back(repeat_steps[rep] / repeat_seconds[rep]);
  std::vector<size_t> order(rates.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return rates[a] < rates[b]; });
  const size_t median = order[order.size() / 2];
  r.env_steps = repeat_steps[median];
  r.seconds = repeat_seconds[median];
  r.steps_per_second = rates[median];
  r.best_steps_per_second = rates[order.back()];
  r.threads = spec.device == Device::kCpu ? cpu::resolve_threads(spec.threads) : 0;
  return r;
}

std::map<std::string, std::string> spec_columns(const ThroughputSpec& spec) {
  return {{"env", spec.env_id},
          {"precision", to_string(spec.precision)},
          {"backend", to_string(spec.device)},
          {"num_envs", std::to_string(spec.num_envs)},
          {"chunk", std::to_string(spec.chunk)},
          {"threads", std::to_string(spec.device == Device::kCpu ? cpu::resolve_threads(spec.threads) : 0)},
          {"params", params_text(spec.params)}};
}

std::vector<std::string> citation_columns() {
  return {"timestamp", "git_commit", "simkit_version", "host",    "env",  "precision",    "backend",
          "device",    "cpu_model",  "threads",        "simd",    "driver", "cuda_runtime"};
}

std::vector<std::string> citation_values(const std::string& env_id, Precision precision, Device device,
                                         const std::string& device_name, int threads) {
  const CudaStatus& cuda = cuda_status();
  // simd: the CPU kernels' instruction set (what a CPU run used; empty for CUDA).
  return {utc_timestamp(), git_commit(),         simkit_version(),  host_name(),
          env_id,          to_string(precision), to_string(device), device_name,
          cpu_model(),     std::to_string(threads), device == Device::kCpu ? selected_simd_target() : "",
          cuda.driver_version, cuda.runtime_version};
}

namespace {
std::vector<std::string> concat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}
}  // namespace

std::vector<std::string> throughput_columns() {
  return concat(citation_columns(),
                {"sm_count", "num_envs", "chunk", "batches", "steps", "env_steps", "seconds", "steps_per_s",
                 "best_steps_per_s", "repeat", "warmup", "seed", "episodes", "mean_episode_length",
                 "mean_episode_return", "params"});
}

std::vector<std::string> throughput_row(const ThroughputResult& r) {
  const CudaStatus& cuda = cuda_status();
  const bool gpu = r.spec.device == Device::kCuda;
  return concat(citation_values(r.spec.env_id, r.spec.precision, r.spec.device, r.device_name, r.threads),
                {gpu && !cuda.devices.empty() ? std::to_string(cuda.devices.front().sm_count) : "",
                 std::to_string(r.spec.num_envs),
                 std::to_string(r.spec.chunk),
                 std::to_string(r.batches),
                 std::to_string(r.env_steps / static_cast<uint64_t>(r.spec.num_envs)),
                 std::to_string(r.env_steps),
                 fmt(r.seconds),
                 fmt(r.steps_per_second, "%.6e"),
                 fmt(r.best_steps_per_second, "%.6e"),
                 std::to_string(r.spec.repeat),
                 std::to_string(r.spec.warmup),
                 std::to_string(r.spec.seed),
                 std::to_string(r.stats.episodes.episodes),
                 fmt(r.stats.mean_episode_length()),
                 fmt(r.stats.mean_episode_return()),
                 params_text(r.spec.params)});
}

}  // namespace simkit
