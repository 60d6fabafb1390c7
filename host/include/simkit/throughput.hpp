// SPDX-License-Identifier: Apache-2.0
// One throughput measurement: plan memory, split into batches if needed, warm up, time `repeat`
// rollouts of the random policy, and return a result row with its citation metadata.
//
// Every rollout runs in pieces of about kPieceSeconds of work (PiecePacer), so that a time budget
// holds with any chunk (overshooting it by at most one batch step), and so that a caller can show
// progress or stop the measurement between pieces.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "simkit/devices.hpp"
#include "simkit/planner.hpp"
#include "simkit/simulator.hpp"

namespace simkit {

// Limits of a measurement's settings, shared by the CLIs and the Python API.
constexpr int kMaxChunk = 1 << 20;  // steps per chunk
constexpr int kMaxRepeat = 1000;    // timed repeats

constexpr double kPieceSeconds = 0.25;  // work per rollout piece, once the rate is known
// CPU runs of a fixed step count cut their rollouts at fixed points instead: whole chunks of about
// this many env steps over all processes. A tile's running return sum restarts at each piece, so
// pieces that followed the measured rate would round the statistics differently from run to run and
// from one process count to another.
constexpr uint64_t kFixedPieceEnvSteps = uint64_t{1} << 24;  // ~25 ms of CartPole on 2 cores

// Sizes the pieces a long rollout is split into: about `seconds` of work at the rate measured so
// far, whole chunks where a chunk fits, one batch step before any rate is known.
class PiecePacer {
 public:
  explicit PiecePacer(int chunk) : chunk_(static_cast<uint64_t>(chunk)) {}
  // Batch steps for the next piece: in [1, remaining_steps] (remaining_steps >= 1).
  uint64_t next(uint64_t remaining_steps, double seconds = kPieceSeconds) const;
  void record(uint64_t steps, double seconds);  // a piece of `steps` batch steps took `seconds`
  double steps_per_second() const { return seconds_ > 0 ? static_cast<double>(steps_) / seconds_ : 0; }

 private:
  uint64_t chunk_;
  uint64_t steps_ = 0;
  double seconds_ = 0;
};

// How far a measurement is, reported between its pieces.
struct ThroughputProgress {
  double elapsed_seconds = 0;
  double remaining_seconds = 0;  // estimated from the rate so far
};
// Called between pieces; returning false stops the measurement, which then throws Interrupted.
using ThroughputMonitor = std::function<bool(const ThroughputProgress&)>;
class Interrupted : public std::runtime_error {
 public:
  Interrupted() : std::runtime_error("measurement interrupted") {}
};

struct ThroughputSpec {
  std::string env_id = "CartPole-v1";
  Precision precision = Precision::kFloat32;
  Device device = Device::kCpu;
  int64_t num_envs = 1000000;
  int chunk = 32;
  uint64_t steps = 0;    // batch steps per repeat; 0: run for `seconds`
  double seconds = 1.0;  // used when steps == 0: each repeat takes this long (at least one batch step)
  uint64_t warmup = 0;   // untimed batch steps before the first repeat (at most `seconds` long when
                         // timing by seconds)
  int repeat = 1;
  int threads = 0;
  uint64_t seed = 0;
  std::map<std::string, double> params;  // env parameters by name (SimConfig::params)
  // One process's slice of a run over several (MPI ranks, shard.hpp): its envs are
  // [env_offset, env_offset + num_envs) of total_envs (0: num_envs, one process).
  int64_t env_offset = 0;
  int64_t total_envs = 0;
  bool step_api = false;  // time step() calls (host actions in, host outputs back: one batch step per
                          // call, round trip included) instead of rollouts of the built-in policy
};

struct ThroughputResult {
  ThroughputSpec spec;
  std::string device_name;
  int threads = 0;
  int64_t batches = 1;
  uint64_t env_steps = 0;        // per repeat (median repeat)
  double seconds = 0;            // median over repeats
  double steps_per_second = 0;   // env_steps / seconds
  int num_agents = 1;            // per env: agent steps are env steps x num_agents
  double best_steps_per_second = 0;
  RolloutStats stats;            // over every timed repeat
  std::vector<double> repeat_seconds;  // each timed repeat
  std::vector<uint64_t> repeat_env_steps;
  int ranks = 1;                 // processes that ran the measurement
  std::string rank_devices;      // the device of each rank, "0: name; 1: name" (one process: device_name)
};

// Throws ConfigError for bad specs or when the plan refuses (bytes needed vs usable), Interrupted when
// `monitor` returns false.
// before_repeat runs before each timed repeat (the MPI CLI puts a barrier there, so that every rank's
// repeat starts together).
ThroughputResult measure_throughput(const ThroughputSpec& spec, const ThroughputMonitor& monitor = {},
                                    const std::function<void()>& before_repeat = {});
// env_steps, seconds and the median and best rates from repeat_seconds and repeat_env_steps.
void summarize_repeats(ThroughputResult& r);
MemoryRequest memory_request(const ThroughputSpec& spec, OutputMode mode = OutputMode::kStatistics);

// step() calls of a Gymnasium-style C++ caller: fixed valid actions (action 0, or the middle of a
// continuous range) and host buffers for every output (a row per agent for multi-agent envs); ended
// envs reset as the autoreset mode says. run() resets first, once.
class StepApiLoop {
 public:
  explicit StepApiLoop(Simulator& sim);
  RolloutStats run(uint64_t steps);

 private:
  Simulator& sim_;
  size_t num_envs_ = 0;
  bool started_ = false;
  std::vector<unsigned char> obs_, reward_, actions_;
  std::vector<uint8_t> terminated_, truncated_;
  std::vector<double> info_;
};

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
