// SPDX-License-Identifier: Apache-2.0
#include "simkit/throughput.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <optional>

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
  req.env = describe_env(spec.env_id, spec.precision, spec.params);
  req.num_envs = spec.num_envs;
  req.chunk = spec.chunk;
  req.mode = mode;
  req.free_bytes = free_bytes(spec.device);
  req.device = spec.device;
  if (spec.device == Device::kCuda) req.host_free_bytes = host_free_bytes();  // for the pinned buffers
  // CUDA stages through batches and double-buffers trajectories (one chunk written while the last one
  // is copied out); the CPU has no faster memory to stage through and hands each chunk over before
  // the next.
  req.allow_batches = spec.device == Device::kCuda;
  req.trajectory_buffers = spec.device == Device::kCuda ? 2 : 1;
  req.python_arrays = false;  // the CLIs' step-API loops hold only the buffers they pass
  return req;
}

StepApiLoop::StepApiLoop(Simulator& sim) : sim_(sim) {
  const EnvInfo& e = sim.info();
  num_envs_ = static_cast<size_t>(sim.config().num_envs);
  const size_t rows = num_envs_ * static_cast<size_t>(e.num_agents);  // multi-agent envs: a row per agent
  obs_.resize(rows * e.obs_bytes);
  reward_.resize(rows * e.reward_bytes);
  actions_.resize(rows * e.action_bytes);
  terminated_.resize(rows);
  truncated_.resize(rows);
  info_.resize(num_envs_ * e.info_fields.size());
  if (!e.discrete) {
    const double mid = 0.5 * (e.action_low + e.action_high);
    for (size_t i = 0; i < rows; ++i) {
      if (e.action_bytes == sizeof(float)) reinterpret_cast<float*>(actions_.data())[i] = static_cast<float>(mid);
      else reinterpret_cast<double*>(actions_.data())[i] = mid;
    }
  }
}

RolloutStats StepApiLoop::run(uint64_t steps) {
  if (!started_) {
    sim_.reset({}, nullptr, obs_.data(), info_.empty() ? nullptr : info_.data());
    started_ = true;
  }
  StepBuffers b{obs_.data(), reward_.data(), terminated_.data(), truncated_.data(), nullptr, nullptr,
                info_.empty() ? nullptr : info_.data()};
  for (uint64_t k = 0; k < steps; ++k) sim_.step(actions_.data(), b);
  RolloutStats s;
  s.steps = steps * num_envs_;
  return s;
}

uint64_t PiecePacer::next(uint64_t remaining_steps, double seconds) const {
  const double rate = steps_per_second();
  if (rate <= 0) return 1;
  const double fit = std::floor(rate * std::max(seconds, 0.0));
  if (fit >= static_cast<double>(remaining_steps)) return remaining_steps;
  const uint64_t k = std::max<uint64_t>(static_cast<uint64_t>(fit), 1);
  return k >= chunk_ ? k - k % chunk_ : k;  // whole chunks where one fits
}

void PiecePacer::record(uint64_t steps, double seconds) {
  steps_ += steps;
  seconds_ += seconds;
}

ThroughputResult measure_throughput(const ThroughputSpec& spec, const ThroughputMonitor& monitor,
                                    const std::function<void()>& before_repeat) {
  check_env_id(spec.env_id);
  if (spec.num_envs <= 0) throw ConfigError("num-envs must be at least 1 (got " + std::to_string(spec.num_envs) + ")");
  if (spec.num_envs >= kMaxEnvs) throw ConfigError("num-envs must be below 2^32 (got " + std::to_string(spec.num_envs) + ")");
  if (spec.chunk < 1 || spec.chunk > kMaxChunk) {
    throw ConfigError("chunk must be in [1, " + std::to_string(kMaxChunk) + "] (got " + std::to_string(spec.chunk) +
                      ")");
  }
  if (spec.repeat < 1 || spec.repeat > kMaxRepeat) {
    throw ConfigError("repeat must be in [1, " + std::to_string(kMaxRepeat) + "] (got " +
                      std::to_string(spec.repeat) + ")");
  }
  if (spec.steps == 0 && !(spec.seconds > 0 && std::isfinite(spec.seconds))) {
    throw ConfigError("seconds must be positive and finite when steps is 0");
  }
  const int64_t total_envs = spec.total_envs > 0 ? spec.total_envs : spec.num_envs;
  if (spec.env_offset < 0 || spec.env_offset + spec.num_envs > total_envs || total_envs >= kMaxEnvs) {
    throw ConfigError("env slice [" + std::to_string(spec.env_offset) + ", " +
                      std::to_string(spec.env_offset + spec.num_envs) + ") must lie in [0, total envs " +
                      std::to_string(total_envs) + " < 2^32)");
  }

  const MemoryRequest req = memory_request(spec, spec.step_api ? OutputMode::kStepApi : OutputMode::kStatistics);
  const MemoryPlan plan = plan_memory(req);
  if (!plan.fits()) throw ConfigError("num-envs " + std::to_string(spec.num_envs) + ": " + describe_shortfall(req, plan));

  ThroughputResult r;
  r.spec = spec;
  r.batches = plan.num_batches;
  std::vector<double> repeat_seconds(static_cast<size_t>(spec.repeat), 0.0);
  std::vector<uint64_t> repeat_steps(static_cast<size_t>(spec.repeat), 0);
  const bool by_steps = spec.steps > 0;
  const bool fixed_pieces = by_steps && spec.device == Device::kCpu;
  const uint64_t chunk_steps = static_cast<uint64_t>(spec.chunk);
  const uint64_t fixed_piece =
      std::max<uint64_t>(1, kFixedPieceEnvSteps / static_cast<uint64_t>(total_envs) / chunk_steps) * chunk_steps;
  const double budget = by_steps ? HUGE_VAL : spec.seconds / static_cast<double>(plan.num_batches);  // per repeat
  const double batches = static_cast<double>(plan.num_batches);
  // For the progress estimate: the whole measurement in batch steps (by steps) or seconds (by time).
  const double total_work = by_steps ? batches * (static_cast<double>(spec.warmup) +
                                                  spec.repeat * static_cast<double>(spec.steps))
                                     : batches * budget * (spec.repeat + (spec.warmup > 0 ? 1 : 0));
  double steps_done = 0;
  const double start = now_seconds();
  for (int64_t b = 0; b < plan.num_batches; ++b) {
    SimConfig c;
    c.env_id = spec.env_id;
    c.precision = spec.precision;
    c.env_offset = spec.env_offset + b * plan.batch_envs;
    c.num_envs = std::min(plan.batch_envs, spec.num_envs - b * plan.batch_envs);
    c.seed = spec.seed;
    c.threads = spec.threads;
    c.params = spec.params;
    auto sim = make_simulator(c, spec.device);
    r.device_name = sim->device_name();
    r.num_agents = sim->info().num_agents;
    std::optional<StepApiLoop> step_loop;  // the step API's host buffers, only when it is timed
    if (spec.step_api) step_loop.emplace(*sim);
    PiecePacer pacer(spec.step_api ? 1 : spec.chunk);
    // Up to `max_steps` batch steps in pieces, stopping once `seconds` of work have been done (at least
    // one piece); adds them to `stats` and returns the time they took: device time (CUDA events on the
    // working stream) where the backend measures it, else the wall time of the pieces alone.
    const auto run = [&](uint64_t max_steps, double seconds, RolloutStats& stats) {
      double wall = 0, device = 0;
      bool device_timed = true;
      uint64_t done = 0;
      do {
        const uint64_t k = fixed_pieces ? std::min(fixed_piece, max_steps - done)
                                        : pacer.next(max_steps - done, std::min(kPieceSeconds, seconds - wall));
        const double t0 = now_seconds();
        const RolloutStats part = step_loop ? step_loop->run(k) : sim->rollout(k, spec.chunk);
        const double dt = now_seconds() - t0;
        pacer.record(k, dt);
        wall += dt;
        const double d = spec.step_api ? -1 : sim->last_rollout_seconds();
        if (d < 0) device_timed = false;
        else device += d;
        done += k;
        steps_done += static_cast<double>(k);
        stats.merge(part);
        if (monitor) {
          ThroughputProgress p;
          p.elapsed_seconds = now_seconds() - start;
          p.remaining_seconds = by_steps ? (total_work - steps_done) / pacer.steps_per_second()
                                         : std::max(0.0, total_work - p.elapsed_seconds);
          if (!monitor(p)) throw Interrupted();
        }
      } while (done < max_steps && wall < seconds);
      return device_timed ? device : wall;
    };
    RolloutStats warmup;
    if (spec.warmup > 0) run(spec.warmup, budget, warmup);
    for (int rep = 0; rep < spec.repeat; ++rep) {
      if (before_repeat && b == 0) before_repeat();
      RolloutStats s;
      repeat_seconds[static_cast<size_t>(rep)] += run(by_steps ? spec.steps : UINT64_MAX, budget, s);
      repeat_steps[static_cast<size_t>(rep)] += s.steps;
      r.stats.merge(s);
    }
  }
  r.repeat_seconds = repeat_seconds;
  r.repeat_env_steps = repeat_steps;
  summarize_repeats(r);
  r.threads = spec.device == Device::kCpu ? cpu::resolve_threads(spec.threads) : 0;
  return r;
}

void summarize_repeats(ThroughputResult& r) {
  std::vector<double> rates;
  for (size_t rep = 0; rep < r.repeat_seconds.size(); ++rep) {
    rates.push_back(static_cast<double>(r.repeat_env_steps[rep]) / r.repeat_seconds[rep]);
  }
  std::vector<size_t> order(rates.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return rates[a] < rates[b]; });
  const size_t median = order[order.size() / 2];
  r.env_steps = r.repeat_env_steps[median];
  r.seconds = r.repeat_seconds[median];
  r.steps_per_second = rates[median];
  r.best_steps_per_second = rates[order.back()];
}

std::map<std::string, std::string> spec_columns(const ThroughputSpec& spec) {
  return {{"env", spec.env_id},
          {"precision", to_string(spec.precision)},
          {"backend", to_string(spec.device)},
          {"num_envs", std::to_string(spec.num_envs)},
          {"chunk", std::to_string(spec.chunk)},
          {"threads", std::to_string(spec.device == Device::kCpu ? cpu::resolve_threads(spec.threads) : 0)},
          {"params", params_text(spec.params)},
          {"api", spec.step_api ? "step" : "rollout"}};
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
                 "mean_episode_return", "params", "ranks", "rank_devices", "num_agents", "agent_steps_per_s",
                 "mean_agent_return", "mean_agents_alive", "api"});
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
                 fmt(r.stats.mean_episode_return(), "%.17g"),  // every bit: runs over any number of ranks agree exactly
                 params_text(r.spec.params),
                 std::to_string(r.ranks),
                 r.rank_devices.empty() ? r.device_name : r.rank_devices,
                 std::to_string(r.num_agents),
                 fmt(r.steps_per_second * r.num_agents, "%.6e"),
                 fmt(r.stats.mean_episode_return() / r.num_agents),
                 fmt(r.stats.mean_agents_alive()),
                 r.spec.step_api ? "step" : "rollout"});
}

}  // namespace simkit
