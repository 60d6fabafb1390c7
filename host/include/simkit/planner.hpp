// SPDX-License-Identifier: Apache-2.0
// The memory planner: bytes a run needs, compared with the bytes free, before anything is allocated.
#pragma once

#include <cstdint>
#include <string>

#include "simkit/simulator.hpp"

namespace simkit {

// kStatistics and kTrajectory: rollouts of the built-in policy; kStepApi: a Python step-API env
// (SimkitVectorEnv), whose host memory is mostly on the Python side.
enum class OutputMode { kStatistics, kTrajectory, kStepApi };

// What the planner counts, per backend (bytes per env; `per_step` = (obs + reward + 2 flags + action)
// x agents; `grid` = EnvInfo::grid_bytes, the observation scratch of a multi-agent world):
//   CPU  (host memory)    statistics  env_bytes + 2
//                         trajectory  + per_step x chunk x trajectory_buffers
//                         step API    the engine plus vector.py's arrays (step_api_bytes_per_env)
//   CUDA (device memory)  statistics  env_bytes + 2
//                         trajectory  + per_step x chunk x trajectory_buffers + grid
//                         step API    + actions, obs, reward, 2 flags, reset mask, env seed, grid
//                                       (same_step: + final obs and its flag; + info values)
//   CUDA (pinned host)    statistics  0
//                         trajectory  per_step x chunk x trajectory_buffers (the D2H copies)
//                         step API    the staging twins of the step buffers, plus vector.py's arrays
// Growing trajectory buffers allocates the new ones before the old ones go (a failed allocation
// leaves the old ones in place), so a grow from held_chunk also counts per_step x held_chunk x
// trajectory_buffers, on the device and the pinned host alike.

struct MemoryRequest {
  EnvInfo env;
  int64_t num_envs = 0;
  int chunk = 1;
  OutputMode mode = OutputMode::kStatistics;
  uint64_t free_bytes = 0;       // device or host memory free now
  double usable_fraction = 0.9;  // keep a margin for the runtime, fragmentation and other users
  bool allow_batches = false;    // split into batches that run one after another (GPU); the CPU
                                 // has no faster memory to stage through, so it refuses instead
  int trajectory_buffers = 2;    // trajectory chunks held at once (CUDA double-buffers: one chunk
                                 // is written while the previous one is copied to the host)
  AutoresetMode autoreset = AutoresetMode::kNextStep;  // step API: same_step holds final observations
  bool step_copies = true;       // step API: step() returns copies (copy=True), not its buffers
  bool python_arrays = true;     // step API: the caller is make_vec's VectorEnv (its spaces, sampled
                                 // actions and returned arrays count too); false: a C++ caller that
                                 // holds only the buffers it passes (throughput, memory-profile)
  Device device = Device::kCpu;  // whose buffers: the CPU's host memory, or CUDA device + pinned host
  uint64_t host_free_bytes = 0;  // CUDA: host memory free now, for the pinned buffers
  int held_chunk = 0;            // trajectory: chunk of the buffers held while growing to `chunk`
};

struct MemoryPlan {
  uint64_t per_env_bytes = 0;    // state + bookkeeping + reset flag + statistics partials
                                 // (+ trajectory_buffers chunks of trajectory per env)
  uint64_t fixed_bytes = 0;      // independent of num_envs
  uint64_t needed_bytes = 0;     // for all envs at once
  uint64_t usable_bytes = 0;     // free_bytes x usable_fraction
  uint64_t host_per_env_bytes = 0;  // CUDA: pinned host memory (step staging, trajectory copies)
  uint64_t host_fixed_bytes = 0;
  uint64_t host_needed_bytes = 0;   // for all envs at once
  uint64_t host_usable_bytes = 0;   // host_free_bytes x usable_fraction
  int64_t batch_envs = 0;        // envs per batch
  int64_t num_batches = 0;       // 0: refused
  bool fits() const { return num_batches > 0; }
  uint64_t batch_bytes() const { return fixed_bytes + per_env_bytes * static_cast<uint64_t>(batch_envs); }
  uint64_t host_batch_bytes() const {
    return host_fixed_bytes + host_per_env_bytes * static_cast<uint64_t>(batch_envs);
  }
};

// A run is split into at most this many batches; beyond that the planner refuses.
constexpr int64_t kMaxBatches = 64;
// Env indices are 32-bit in the random-number counters.
constexpr int64_t kMaxEnvs = int64_t{1} << 32;

// Refuses (num_batches 0) what does not fit and env counts from kMaxEnvs on.
MemoryPlan plan_memory(const MemoryRequest& r);
// "needs 2.60 GB (2601048576 bytes: 26 bytes x 100000000 envs + 1048576) but 9.00 MB are usable
//  (10000000 bytes free, 90%); even split into 64 batches it does not fit"; where the pinned host
// memory is what is short, the same figures prefixed with "pinned host memory: ".
std::string describe_shortfall(const MemoryRequest& r, const MemoryPlan& p);
// One env's trajectory entries of one step: (obs + reward + 2 flags + action) x agents.
uint64_t trajectory_step_bytes(const EnvInfo& e);
// Bytes this process could allocate now: the least of MemAvailable, what RLIMIT_AS leaves of the
// address space, and what the memory cgroup leaves (v2 memory.max, v1 memory.limit_in_bytes, at
// every level up to the root; reclaimable page cache counted as free).
uint64_t host_free_bytes();
namespace detail {
// The same, reading /proc and the cgroup mounts under `root` ("" for the real ones; a fake tree in
// tests), with the address-space limit and use given (UINT64_MAX: no limit).
uint64_t host_free_bytes(const std::string& root, uint64_t address_space_limit, uint64_t address_space_used);
}  // namespace detail
std::string format_bytes(uint64_t bytes);

}  // namespace simkit
