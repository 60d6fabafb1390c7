// SPDX-License-Identifier: Apache-2.0
#include <omp.h>

#include <algorithm>

#include "simkit/devices.hpp"
#include "simkit/registry.hpp"
#include "simkit/system_info.hpp"

namespace simkit {

namespace cpu {
std::unique_ptr<Simulator> make_simulator_float(const SimConfig& c);
std::unique_ptr<Simulator> make_simulator_double(const SimConfig& c);

int resolve_threads(int requested) {
  if (requested < 0 || requested > kMaxThreads) {
    throw ConfigError("threads must be in [0, " + std::to_string(kMaxThreads) + "] (0 = all cores), got " +
                      std::to_string(requested));
  }
  return requested == 0 ? omp_get_num_procs() : requested;
}

std::string cpu_device_name(int threads) {
  return cpu_model() + " (" + std::to_string(threads) + (threads == 1 ? " thread)" : " threads)");
}
}  // namespace cpu

void check_batch_size(int64_t num_envs) {
  if (num_envs <= 0) throw ConfigError("num_envs must be at least 1 (got " + std::to_string(num_envs) + ")");
  if (num_envs >= (int64_t{1} << 32)) {
    throw ConfigError("num_envs must be below 2^32 = 4294967296 per process (got " + std::to_string(num_envs) + ")");
  }
}

std::vector<std::string> env_ids() {
  std::vector<std::string> ids;
#define SIMKIT_ENV(Name) ids.push_back(envs::Name<float>::kId);
#include "simkit/envs.def"
#undef SIMKIT_ENV
  return ids;
}

namespace {
size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t sub = prev[j - 1] + (std::tolower(a[i - 1]) == std::tolower(b[j - 1]) ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}
}  // namespace

void check_env_id(const std::string& env_id) {
  const auto ids = env_ids();
  if (std::find(ids.begin(), ids.end(), env_id) != ids.end()) return;
  std::vector<std::string> sorted = ids;
  std::stable_sort(sorted.begin(), sorted.end(), [&](const std::string& x, const std::string& y) {
    return edit_distance(env_id, x) < edit_distance(env_id, y);
  });
  std::string known;
  for (const auto& id : ids) known += (known.empty() ? "" : ", ") + id;
  throw ConfigError("unknown env '" + env_id + "'; did you mean '" + sorted.front() + "'? Known envs: " + known);
}

EnvInfo describe_env(const std::string& env_id, Precision precision, const std::map<std::string, double>& params) {
  check_env_id(env_id);
  EnvInfo info;
  const auto f = [&](auto tag) {
    using Env = typename decltype(tag)::type;
    info = make_env_info<Env>(agent_count<Env>(make_params<Env>(params)));
  };
  if (precision == Precision::kFloat32) dispatch_env<float>(env_id, f);
  else dispatch_env<double>(env_id, f);
  return info;
}

void check_params(const std::string& env_id, Precision precision, const std::map<std::string, double>& params) {
  check_env_id(env_id);
  const auto f = [&](auto tag) { make_params<typename decltype(tag)::type>(params); };
  if (precision == Precision::kFloat32) dispatch_env<float>(env_id, f);
  else dispatch_env<double>(env_id, f);
}

std::unique_ptr<Simulator> make_cpu_simulator(const SimConfig& config) {
  check_env_id(config.env_id);
  return config.precision == Precision::kFloat32 ? cpu::make_simulator_float(config)
                                                 : cpu::make_simulator_double(config);
}

std::unique_ptr<Simulator> make_simulator(const SimConfig& config, Device device) {
  return device == Device::kCuda ? make_cuda_simulator(config) : make_cpu_simulator(config);
}

const char* to_string(Device d) { return d == Device::kCuda ? "cuda" : "cpu"; }
const char* to_string(Precision p) { return p == Precision::kFloat64 ? "float64" : "float32"; }

Precision parse_precision(const std::string& s) {
  if (s == "float32" || s == "f32") return Precision::kFloat32;
  if (s == "float64" || s == "f64") return Precision::kFloat64;
  throw ConfigError("precision must be 'float32' or 'float64' (got '" + s + "')");
}

AutoresetMode parse_autoreset(const std::string& s) {
  if (s == "next_step") return AutoresetMode::kNextStep;
  if (s == "same_step") return AutoresetMode::kSameStep;
  if (s == "disabled") return AutoresetMode::kDisabled;
  throw ConfigError("autoreset_mode must be 'next_step', 'same_step' or 'disabled' (got '" + s + "')");
}

}  // namespace simkit
