// SPDX-License-Identifier: Apache-2.0
// One throughput measurement: plan memory, split into batches if needed, warm up, time `repeat`
// rollouts of the random policy, and return a result row with its citation metadata.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "simkit/devices.hpp"
#include "simkit/planner.hpp"
#include "simkit/simulator.hpp"

namespace simkit {

struct ThroughputSpec {
  std::string env_id = "CartPole-v1";
  Precision precision = Precision::kFloat32;
  Device device = Device::kCpu;
  int64_t num_envs = 1000000;
  int chunk = 32;
  uint64_t steps = 0;    // batch steps per repeat; 0: run for `seconds`
  double seconds = 1.0;  // used when steps == 0
  uint64_t warmup = 0;   // untimed batch steps before the first repeat
  int repeat = 1;
  int threads = 0;
  uint64_t seed = 0;
  std::map<std::string, double> params;  // env parameters by name (SimConfig::params)
};

struct ThroughputResult {
  ThroughputSpec spec;
  std::string device_name;
  int threads = 0;
  int64_t batches = 1;
  uint64_t env_steps = 0;        // per repeat (median repeat)
  double seconds = 0;            // median over repeats
  double steps_per_second = 0;   // env_steps / seconds
  double best_steps_per_second = 0;
  RolloutStats stats;            // over every timed repeat
};

// Throws ConfigError for bad specs or when the plan refuses (bytes needed vs usable).
ThroughputResult measure_throughput(const ThroughputSpec& spec);
MemoryRequest memory_request(const ThroughputSpec& spec, OutputMode mode = OutputMode::kStatistics);

// The first columns of every engine result CSV: when, which build, which machine and device, which env.
std::vector<std::string> citation_columns();
std::vector<std::string> citation_values(const std::string& env_id, Precision precision, Device device,
                                         const std::string& device_name, int threads);

std::vector<std::string> throughput_columns();
// The columns of a result row that identify its point (env, precision, backend, num_envs, chunk,
// threads, params), as throughput_row writes them; --resume matches on these.
std::map<std::string, std::string> spec_columns(const ThroughputSpec& spec);
std::vector<std::string> throughput_row(const ThroughputResult& r);
// "name=value name=value", sorted by name ("" for none).
std::string params_text(const std::map<std::string, double>& params);

}  // namespace simkit
