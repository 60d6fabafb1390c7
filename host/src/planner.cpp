// SPDX-License-Identifier: Apache-2.0
#include "simkit/planner.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace simkit {

namespace {

// Host bytes per env of a step-API env (python/simkit/vector.py over the CPU backend), each term
// checked against the peak RSS after make_vec + reset + two steps of action_space.sample() actions
// (tests/python/test_memory_plan.py: CartPole float32/float64, Acrobot, TicTacToe).
uint64_t step_api_bytes_per_env(const MemoryRequest& r) {
  const EnvInfo& e = r.env;
  const uint64_t info = 8 * e.info_fields.size();  // the engine writes info values as float64
  const bool same_step = r.autoreset == AutoresetMode::kSameStep;
  const uint64_t agents = static_cast<uint64_t>(e.num_agents);  // rows per env of every per-agent buffer
  // the engine: state and bookkeeping, pending-reset flag
  uint64_t bytes = e.env_bytes + 1;
  // the persistent buffers the engine writes into: obs, reward, two flags, actions, info values;
  // same_step: final observations, their flags and the final info values
  bytes += agents * (e.obs_bytes + e.reward_bytes + 2 + e.action_bytes + (same_step ? e.obs_bytes + 1 : 0)) + info +
           (same_step ? info : 0);
  if (!r.python_arrays) return bytes;  // a C++ caller holds nothing else
  // batched spaces: observation Box low/high and their two bounded masks; the action space's arrays
  // (Discrete -> MultiDiscrete nvec/start as int64; Box -> float32 low/high and masks)
  bytes += agents * (2 * e.obs_bytes + 2 * static_cast<uint64_t>(e.obs_dim) + (e.discrete ? 16 : 10));
  // the caller's actions from action_space.sample(): int64 values; for a Box its float64 draws and
  // masks too (measured: 32)
  bytes += agents * (e.discrete ? 8 : 32);
  // per step, the returned arrays of this step and the last one (still referenced while the new ones
  // are made): copies of obs, reward and flags with copy=True; info always, in the info fields' own
  // types, plus one transient float64 gather of the values
  bytes += (r.step_copies ? 2 * agents * (e.obs_bytes + e.reward_bytes + 2) : 0) + 2 * e.info_bytes + info;
  // same_step, per step and for two steps: the final_obs object array and three masks, final_info
  bytes += same_step ? 2 * (8 + 3) + 2 * e.info_bytes : 0;
  return bytes;
}

// Python's thread stacks, allocator arenas and first-touched code (measured 2-26 MB); for a C++
// caller the engine's 1 MiB, as in statistics mode.
uint64_t step_api_fixed_bytes(const MemoryRequest& r) { return r.python_arrays ? 32u << 20 : 1u << 20; }

// a * b, or UINT64_MAX where it does not fit (a plan for 2^62 envs must refuse, not wrap).
uint64_t saturating_product(uint64_t a, uint64_t b) {
  uint64_t p = 0;
  return __builtin_mul_overflow(a, b, &p) ? UINT64_MAX : p;
}

// Trajectory bytes per env of r.trajectory_buffers chunk buffers of `chunk` steps: obs, reward,
// terminated, truncated and action for every step.
uint64_t trajectory_bytes_per_env(const MemoryRequest& r, int chunk) {
  return trajectory_step_bytes(r.env) * static_cast<uint64_t>(std::max(chunk, 0)) *
         static_cast<uint64_t>(std::max(r.trajectory_buffers, 1));
}

// The CUDA backend's step-API buffers per env (cuda_backend.cuh, ensure_step_buffers), on the device
// (pinned = false) or their pinned staging twins on the host.
uint64_t cuda_step_bytes_per_env(const MemoryRequest& r, bool pinned) {
  const EnvInfo& e = r.env;
  const bool same_step = r.autoreset == AutoresetMode::kSameStep;
  const uint64_t agents = static_cast<uint64_t>(e.num_agents);  // rows per env of every per-agent buffer
  uint64_t bytes = agents * (e.action_bytes + e.obs_bytes + e.reward_bytes + 2) + 8;  // + the env seed
  if (!pinned) bytes += 1 + e.grid_bytes;  // reset mask; multi-agent envs: one observation grid per world
  if (same_step) bytes += agents * (e.obs_bytes + 1);
  return bytes + 8 * e.info_fields.size();
}

// The largest batch `per_env` x envs + `fixed` that fits in `usable`; INT64_MAX when per_env is 0.
int64_t max_batch_envs(uint64_t usable, uint64_t per_env, uint64_t fixed) {
  if (usable <= fixed) return fixed == 0 && per_env == 0 ? INT64_MAX : 0;
  if (per_env == 0) return INT64_MAX;
  return static_cast<int64_t>(std::min<uint64_t>((usable - fixed) / per_env, static_cast<uint64_t>(INT64_MAX)));
}

uint64_t needed(uint64_t per_env, uint64_t fixed, uint64_t envs) {
  return std::min(UINT64_MAX - fixed, saturating_product(per_env, envs)) + fixed;
}

}  // namespace

uint64_t trajectory_step_bytes(const EnvInfo& e) {
  return static_cast<uint64_t>(e.num_agents) * (e.obs_bytes + e.reward_bytes + 2 + e.action_bytes);
}

MemoryPlan plan_memory(const MemoryRequest& r) {
  MemoryPlan p;
  const bool cuda = r.device == Device::kCuda;
  // env_bytes (state, elapsed, episode return) + 1 byte of pending-reset flag + 1 byte for the
  // statistics partials (24 bytes per 256-env CUDA block or 512-env CPU tile, rounded up to a byte).
  const uint64_t engine = r.env.env_bytes + 2;
  p.fixed_bytes = 1 << 20;  // per-tile statistics, policy words, bookkeeping
  switch (r.mode) {
    case OutputMode::kStatistics:
      p.per_env_bytes = engine;
      break;
    case OutputMode::kTrajectory: {
      // the new buffers, and while they are allocated the held ones
      const uint64_t traj =
          trajectory_bytes_per_env(r, std::max(r.chunk, 1)) + trajectory_bytes_per_env(r, r.held_chunk);
      p.per_env_bytes = engine + traj;
      if (cuda) {
        p.per_env_bytes += r.env.grid_bytes;  // multi-agent envs: one observation grid per world
        p.host_per_env_bytes = traj;
      }
      break;
    }
    case OutputMode::kStepApi:
      if (cuda) {
        p.per_env_bytes = engine + cuda_step_bytes_per_env(r, false);
        // vector.py's arrays as on the CPU, less the engine there, plus the pinned staging buffers
        p.host_per_env_bytes =
            step_api_bytes_per_env(r) - (r.env.env_bytes + 1) + cuda_step_bytes_per_env(r, true);
        p.host_fixed_bytes = step_api_fixed_bytes(r);
      } else {
        p.per_env_bytes = step_api_bytes_per_env(r);
        p.fixed_bytes = step_api_fixed_bytes(r);
      }
      break;
  }
  const uint64_t envs = static_cast<uint64_t>(std::max<int64_t>(r.num_envs, 0));
  p.needed_bytes = needed(p.per_env_bytes, p.fixed_bytes, envs);
  p.host_needed_bytes = needed(p.host_per_env_bytes, p.host_fixed_bytes, envs);
  p.usable_bytes = static_cast<uint64_t>(static_cast<double>(r.free_bytes) * r.usable_fraction);
  p.host_usable_bytes = static_cast<uint64_t>(static_cast<double>(r.host_free_bytes) * r.usable_fraction);
  if (r.num_envs <= 0 || r.num_envs >= kMaxEnvs) return p;
  const int64_t max_batch = std::min(max_batch_envs(p.usable_bytes, p.per_env_bytes, p.fixed_bytes),
                                     max_batch_envs(p.host_usable_bytes, p.host_per_env_bytes, p.host_fixed_bytes));
  if (max_batch <= 0) return p;
  const int64_t batches = r.num_envs / max_batch + (r.num_envs % max_batch != 0);  // no overflow near INT64_MAX
  if (batches > (r.allow_batches ? kMaxBatches : 1)) return p;
  p.num_batches = batches;
  p.batch_envs = r.num_envs / batches + (r.num_envs % batches != 0);  // equal batches, the last one may be smaller
  return p;
}

std::string format_bytes(uint64_t bytes) {
  char buf[64];
  const double b = static_cast<double>(bytes);
  if (b >= 1e9) std::snprintf(buf, sizeof buf, "%.2f GB", b / 1e9);
  else if (b >= 1e6) std::snprintf(buf, sizeof buf, "%.2f MB", b / 1e6);
  else if (b >= 1e3) std::snprintf(buf, sizeof buf, "%.2f kB", b / 1e3);
  else std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
  return buf;
}

std::string describe_shortfall(const MemoryRequest& r, const MemoryPlan& p) {
  std::ostringstream s;
  if (r.num_envs >= kMaxEnvs) {
    s << "num_envs must be below 2^32 = " << kMaxEnvs << " (env indices are 32-bit), got " << r.num_envs;
    return s.str();
  }
  // The device (or CPU host) memory when that alone is short, else the pinned host memory.
  const bool device_short = max_batch_envs(p.usable_bytes, p.per_env_bytes, p.fixed_bytes) <
                            max_batch_envs(p.host_usable_bytes, p.host_per_env_bytes, p.host_fixed_bytes);
  const bool host = r.device == Device::kCuda && !device_short;
  const uint64_t need = host ? p.host_needed_bytes : p.needed_bytes;
  const uint64_t usable = host ? p.host_usable_bytes : p.usable_bytes;
  if (host) s << "pinned host memory: ";
  s << "needs " << format_bytes(need) << " (" << need << " bytes: " << (host ? p.host_per_env_bytes : p.per_env_bytes)
    << " bytes x " << r.num_envs << " envs + " << (host ? p.host_fixed_bytes : p.fixed_bytes) << ") but "
    << format_bytes(usable) << " are usable (" << (host ? r.host_free_bytes : r.free_bytes) << " bytes free, "
    << static_cast<int>(r.usable_fraction * 100 + 0.5) << "%)";
  if (r.allow_batches) s << "; even split into " << kMaxBatches << " batches it does not fit";
  return s.str();
}

namespace {

std::string read_text(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> parts;
  std::stringstream s(text);
  for (std::string part; std::getline(s, part, sep);) parts.push_back(part);
  return parts;
}

// The number after `key` on a line of a "key value" file (/proc/meminfo and /proc/self/status in kB,
// memory.stat in bytes).
std::optional<uint64_t> keyed_number(const std::string& path, const std::string& key) {
  std::ifstream f(path);
  for (std::string line; std::getline(f, line);) {
    std::istringstream fields(line);
    std::string k;
    uint64_t v = 0;
    if (fields >> k >> v && k == key) return v;
  }
  return std::nullopt;
}

// A cgroup limit file's value; none for "max", a missing file, or v1's "unlimited" (~2^63).
std::optional<uint64_t> limit_number(const std::string& path) {
  std::ifstream f(path);
  uint64_t v = 0;
  if (!(f >> v) || v >= (uint64_t{1} << 62)) return std::nullopt;
  return v;
}

// What one cgroup directory leaves under its limit: limit - (usage - reclaimable file cache).
std::optional<uint64_t> cgroup_level_free(const std::string& dir, bool v2) {
  const auto limit = limit_number(dir + (v2 ? "/memory.max" : "/memory.limit_in_bytes"));
  if (!limit) return std::nullopt;
  const uint64_t usage = limit_number(dir + (v2 ? "/memory.current" : "/memory.usage_in_bytes")).value_or(0);
  auto cache = keyed_number(dir + "/memory.stat", v2 ? "inactive_file" : "total_inactive_file");
  if (!cache && !v2) cache = keyed_number(dir + "/memory.stat", "inactive_file");
  const uint64_t used = usage - std::min(usage, cache.value_or(0));
  return *limit > used ? *limit - used : 0;
}

// The least any memory cgroup of this process leaves, over its v2 and v1 (memory controller) mounts
// and every level from its own cgroup up to the mount's root.
uint64_t cgroup_free(const std::string& root) {
  std::string v2_path, v1_path;  // this process's cgroups, from /proc/self/cgroup
  for (const auto& line : split(read_text(root + "/proc/self/cgroup"), '\n')) {
    const auto fields = split(line, ':');
    if (fields.size() < 3) continue;
    if (fields[0] == "0" && fields[1].empty()) v2_path = fields[2];
    for (const auto& c : split(fields[1], ',')) if (c == "memory") v1_path = fields[2];
  }
  uint64_t free = UINT64_MAX;
  // mountinfo: id parent dev root mount-point options [optional...] - fstype source super-options
  for (const auto& line : split(read_text(root + "/proc/self/mountinfo"), '\n')) {
    const auto f = split(line, ' ');
    const size_t dash = static_cast<size_t>(std::find(f.begin(), f.end(), "-") - f.begin());
    if (dash < 5 || dash + 3 >= f.size()) continue;
    const std::string& fstype = f[dash + 1];
    const auto super = split(f[dash + 3], ',');
    const bool v2 = fstype == "cgroup2";
    const bool v1 = fstype == "cgroup" && std::find(super.begin(), super.end(), "memory") != super.end();
    const std::string& path = v2 ? v2_path : v1_path;
    if ((!v2 && !v1) || path.empty()) continue;
    const std::string& mount_root = f[3];
    const std::string mount_point = root + f[4];
    // The cgroup's directory under this mount (a mount of a sub-tree shows paths below its root).
    std::string relative = path;
    if (mount_root != "/" && path.rfind(mount_root, 0) == 0) relative = path.substr(mount_root.size());
    for (std::string dir = relative; ; dir = dir.substr(0, dir.rfind('/'))) {
      if (const auto level = cgroup_level_free(mount_point + dir, v2)) free = std::min(free, *level);
      if (dir.empty() || dir == "/") break;
    }
  }
  return free;
}

}  // namespace

namespace detail {
uint64_t host_free_bytes(const std::string& root, uint64_t address_space_limit, uint64_t address_space_used) {
  uint64_t free = keyed_number(root + "/proc/meminfo", "MemAvailable:").value_or(0) * 1024;
  if (address_space_limit != UINT64_MAX) {
    free = std::min(free, address_space_limit > address_space_used ? address_space_limit - address_space_used : 0);
  }
  return std::min(free, cgroup_free(root));
}
}  // namespace detail

uint64_t host_free_bytes() {
  rlimit as{};
  const bool limited = getrlimit(RLIMIT_AS, &as) == 0 && as.rlim_cur != RLIM_INFINITY;
  const uint64_t used = keyed_number("/proc/self/status", "VmSize:").value_or(0) * 1024;
  return detail::host_free_bytes("", limited ? static_cast<uint64_t>(as.rlim_cur) : UINT64_MAX, used);
}

}  // namespace simkit
