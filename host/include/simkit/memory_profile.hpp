// SPDX-License-Identifier: Apache-2.0
// One memory-profile point: the planner's prediction for a run next to the memory the run really
// took (host: peak RSS growth; CUDA: device memory in use from the driver), with citation metadata.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "simkit/devices.hpp"
#include "simkit/planner.hpp"
#include "simkit/simulator.hpp"

namespace simkit {

struct MemoryProfileSpec {
  std::string env_id = "CartPole-v1";
  Precision precision = Precision::kFloat32;
  Device device = Device::kCpu;
  OutputMode mode = OutputMode::kStatistics;
  int64_t num_envs = 1000000;
  int chunk = 32;
  uint64_t steps = 0;       // batch steps of the short rollout; 0: two chunks
  int threads = 0;          // CPU threads, 0 = all cores
  uint64_t free_bytes = 0;  // 0: the real free bytes now; else plan as if only this many were free
  std::string profile;      // "envs" or "chunk": which sweep the point belongs to (CSV only)
};

struct MemoryProfileResult {
  MemoryProfileSpec spec;
  MemoryRequest request;
  MemoryPlan plan;
  std::string device_name;
  int threads = 0;
  uint64_t steps = 0;               // batch steps the rollout took
  uint64_t predicted_bytes = 0;     // one batch (batches run one after another), or all envs if refused
  bool measured = false;            // false when the plan refused the point (nothing was allocated)
  uint64_t measured_peak_bytes = 0; // the largest batch's peak
  double bytes_per_env = 0;         // measured_peak_bytes / envs held at once (batch_envs)
  double ratio = 0;                 // measured / predicted
  uint64_t host_predicted_bytes = 0;  // CUDA: pinned host memory of one batch (the CPU's is above)
  uint64_t host_measured_bytes = 0;   // CUDA: VmRSS growth of the largest batch
  std::string method;               // how the peak was measured, for the CSV
};

// The request the planner sees for a spec: trajectory buffers as the backend holds them (CUDA two,
// CPU one), free bytes from the device now unless spec.free_bytes overrides them.
MemoryRequest memory_profile_request(const MemoryProfileSpec& spec);

// Plans, and when the plan fits, creates the simulator(s) batch by batch, runs a short rollout and
// measures the peak. CPU points run in a forked child (see memory_profile.cpp): call this from a
// process that has not started OpenMP threads (libgomp is not fork-safe), as the memory-profile CLI
// does. Throws ConfigError for bad specs.
MemoryProfileResult profile_memory(const MemoryProfileSpec& spec);

std::vector<std::string> memory_profile_columns();
std::vector<std::string> memory_profile_row(const MemoryProfileResult& r);
const char* to_string(OutputMode m);
OutputMode parse_output_mode(const std::string& s);  // "statistics" | "trajectory" | "step_api"

}  // namespace simkit
