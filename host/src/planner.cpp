// SPDX-License-Identifier: Apache-2.0
#include "simkit/planner.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace simkit {

MemoryPlan plan_memory(const MemoryRequest& r) {
  MemoryPlan p;
  // env_bytes (state, elapsed, episode return) + 1 byte of pending-reset flag + 1 byte for the
  // statistics partials (24 bytes per 256-env CUDA block or 512-env CPU tile, rounded up to a byte).
  p.per_env_bytes = r.env.env_bytes + 2;
  if (r.mode == OutputMode::kTrajectory) {
    // obs + reward + terminated + truncated + action for every step of a chunk, per buffer
    const uint64_t per_step = r.env.obs_bytes + r.env.reward_bytes + 2 + r.env.action_bytes;
    p.per_env_bytes += per_step * static_cast<uint64_t>(std::max(r.chunk, 1)) *
                       static_cast<uint64_t>(std::max(r.trajectory_buffers, 1));
  }
  p.fixed_bytes = 1 << 20;  // per-tile statistics, policy words, bookkeeping
  p.needed_bytes = p.fixed_bytes + p.per_env_bytes * static_cast<uint64_t>(std::max<int64_t>(r.num_envs, 0));
  p.usable_bytes = static_cast<uint64_t>(static_cast<double>(r.free_bytes) * r.usable_fraction);
  if (r.num_envs <= 0 || p.usable_bytes <= p.fixed_bytes) return p;
  const int64_t max_batch = static_cast<int64_t>((p.usable_bytes - p.fixed_bytes) / p.per_env_bytes);
  if (max_batch <= 0) return p;
  const int64_t batches = (r.num_envs + max_batch - 1) / max_batch;
  if (batches > (r.allow_batches ? kMaxBatches : 1)) return p;
  p.num_batches = batches;
  p.batch_envs = (r.num_envs + batches - 1) / batches;  // equal batches, the last one may be smaller
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
  s << "needs " << format_bytes(p.needed_bytes) << " (" << p.needed_bytes << " bytes: " << p.per_env_bytes
    << " bytes x " << r.num_envs << " envs + " << p.fixed_bytes << ") but " << format_bytes(p.usable_bytes)
    << " are usable (" << r.free_bytes << " bytes free, " << static_cast<int>(r.usable_fraction * 100 + 0.5)
    << "%)";
  if (r.allow_batches) s << "; even split into " << kMaxBatches << " batches it does not fit";
  return s.str();
}

uint64_t host_free_bytes() {
  std::ifstream f("/proc/meminfo");
  std::string key;
  uint64_t kb = 0;
  std::string unit;
  while (f >> key >> kb >> unit) {
    if (key == "MemAvailable:") return kb * 1024;
  }
  return 0;
}

}  // namespace simkit
