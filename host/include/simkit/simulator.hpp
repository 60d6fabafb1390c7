// SPDX-License-Identifier: Apache-2.0
// The one run-time interface over every (environment, precision, backend) combination.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "simkit/env.hpp"
#include "simkit/exact_sum.hpp"
#include "simkit/rollout.hpp"

namespace simkit {

enum class Device { kCpu, kCuda };

// Bad configuration or input from a caller (CLI argument, Python argument). The message names the
// argument and the accepted values.
class ConfigError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// What a host needs to know about an environment, read from its header.
struct EnvInfo {
  std::string id;
  Precision precision = Precision::kFloat32;
  int obs_dim = 0;
  std::vector<int> obs_shape;  // one observation's shape ({obs_dim}, or e.g. {4, 13, 13})
  std::string obs_dtype;  // numpy name: "float32", "int8"
  std::vector<double> obs_low, obs_high;
  bool discrete = true;
  int num_actions = 0;                  // discrete
  double action_low = 0, action_high = 0;  // continuous (one value per env)
  int max_episode_steps = 0;
  std::vector<std::string> state_fields;
  std::vector<std::string> param_names;
  std::vector<double> param_defaults;    // the Params{} value of each, in param_names' order
  std::vector<std::string> info_fields;  // visit_info names, in order
  std::vector<std::string> info_dtypes;  // numpy name of each info field's type ("int8" for action masks)
  size_t info_bytes = 0;                 // one env's info values in those types
  size_t state_bytes = 0;    // sizeof(State)
  size_t env_bytes = 0;      // engine memory per env in statistics mode (state + bookkeeping)
  size_t obs_bytes = 0;      // one observation (of one agent)
  size_t action_bytes = 0;   // one action (of one agent)
  size_t reward_bytes = 0;   // one reward (of one agent)
  int num_agents = 1;        // agents per env: rows of actions, rewards, flags and observations
  int max_agents = 1;        // the limit of num_agents
  size_t grid_bytes = 0;     // multi-agent envs: the observation grid scratch one world needs
};

struct SimConfig {
  std::string env_id = "CartPole-v1";
  Precision precision = Precision::kFloat32;
  int64_t num_envs = 1;
  int64_t env_offset = 0;          // global index of the first env (one batch of a split run)
  uint64_t seed = 0;
  int threads = 0;                 // CPU threads; 0 = all cores
  int64_t max_episode_steps = -1;  // -1: the env's default; 0: never truncate
  std::map<std::string, double> params;  // env parameters by name (EnvInfo::param_names)
  AutoresetMode autoreset = AutoresetMode::kNextStep;
};

struct RolloutStats {
  uint64_t steps = 0;  // env steps (num_envs x batch steps)
  // episodes.return_sum is the exact sum of the per-tile (CPU) or per-block (CUDA) sums, rounded
  // once: the same for any order the tiles are added in.
  EpisodeStats episodes;

  void add_tile(const EpisodeStats& tile) {
    episodes.episodes += tile.episodes;
    episodes.length_sum += tile.length_sum;
    episodes.alive_sum += tile.alive_sum;
    returns_.add(tile.return_sum);
    episodes.return_sum = returns_.value();
  }
  void merge(const RolloutStats& other) {
    steps += other.steps;
    episodes.episodes += other.episodes.episodes;
    episodes.length_sum += other.episodes.length_sum;
    episodes.alive_sum += other.episodes.alive_sum;
    returns_.add(other.returns_);
    episodes.return_sum = returns_.value();
  }
  // Another process's statistics, sent as counts and the exact partials of its return sum.
  void merge(uint64_t other_steps, const EpisodeStats& counts, const ExactSum& returns) {
    steps += other_steps;
    episodes.episodes += counts.episodes;
    episodes.length_sum += counts.length_sum;
    returns_.add(returns);
    episodes.return_sum = returns_.value();
  }
  const ExactSum& returns() const { return returns_; }
  double mean_episode_length() const { return episodes.episodes ? double(episodes.length_sum) / episodes.episodes : 0; }
  double mean_episode_return() const { return episodes.episodes ? episodes.return_sum / episodes.episodes : 0; }
  // Multi-agent envs: agents alive when an episode ended (single-agent envs count none).
  double mean_agents_alive() const { return episodes.episodes ? double(episodes.alive_sum) / episodes.episodes : 0; }

 private:
  ExactSum returns_;
};

// Host-side buffers for one step-API call, num_envs x num_agents entries each (obs: also x obs_dim).
// Types follow EnvInfo: obs_dtype, reward in the env's precision, flags as uint8.
struct StepBuffers {
  void* obs = nullptr;
  void* reward = nullptr;
  uint8_t* terminated = nullptr;
  uint8_t* truncated = nullptr;
  void* final_obs = nullptr;  // same_step mode
  uint8_t* has_final = nullptr;
  double* info = nullptr;  // num_envs x info_fields, or null
  double* final_info = nullptr;  // same_step mode: info of the step each ended episode ended in, or null
};

// One chunk of a trajectory-mode rollout, in host memory that is valid only during the callback.
// Step-major: entry [k][i] is env i (of this simulator) at batch step t0 + k. obs[k][i] is the
// observation action[k][i] was chosen from (after any autoreset of the previous step), so the next
// chunk's obs[0] follows this chunk's last step. reward/terminated/truncated are what step k returned;
// an episode that ended at step k restarts before step k + 1, exactly as in rollout().
// Multi-agent envs have num_agents rows per env, batch-major as in the step API: entry [k][i][a] is
// agent a of env i, its terminated flag the agent's own (dead) or the world's, as step() returns.
struct TrajectoryChunk {
  uint64_t t0 = 0;
  int steps = 0;              // steps in this chunk (the last chunk may be shorter)
  int64_t num_envs = 0;
  int num_agents = 1;         // rows per env
  const void* obs = nullptr;  // steps x num_envs x num_agents x obs_dim, EnvInfo::obs_dtype
  const void* reward = nullptr;  // steps x num_envs x num_agents, the env's precision
  const uint8_t* terminated = nullptr;  // steps x num_envs x num_agents, 0/1
  const uint8_t* truncated = nullptr;   // steps x num_envs x num_agents, 0/1
  const void* actions = nullptr;  // steps x num_envs x num_agents, int32 (discrete) or the env's precision
};
using TrajectoryCallback = std::function<void(const TrajectoryChunk&)>;

// Where the last step-API outputs live on a device (DLPack export); all null on the CPU backend,
// whose outputs are the caller's host buffers.
struct DeviceOutputs {
  int device_id = -1;
  void* obs = nullptr;
  void* reward = nullptr;
  uint8_t* terminated = nullptr;
  uint8_t* truncated = nullptr;
};

class Simulator {
 public:
  virtual ~Simulator() = default;
  virtual const EnvInfo& info() const = 0;
  virtual const SimConfig& config() const = 0;
  virtual std::string device_name() const = 0;
  // The vector instruction set the CPU kernels run with ("avx512", "avx2", "neon", "scalar"); ""
  // on CUDA.
  virtual std::string simd_target() const { return ""; }

  // Throughput mode: the built-in random policy for `steps` batch steps in chunks of `chunk`, ended
  // episodes restarting in the same step; only statistics leave the backend.
  virtual RolloutStats rollout(uint64_t steps, int chunk) = 0;
  // The same run as rollout() (same states, flags and statistics), also handing every chunk's
  // per-step observations, rewards, flags and actions to `on_chunk`, in order, on the calling thread.
  virtual RolloutStats rollout_trajectory(uint64_t steps, int chunk, const TrajectoryCallback& on_chunk) = 0;
  // Seconds the last rollout took on the device that ran it (CUDA: events on the working stream);
  // negative where the backend does not measure it (CPU: time it on the host).
  virtual double last_rollout_seconds() const { return -1; }

  // Step API. reset: the envs where mask is null or mask[i] != 0, then the observation of every env
  // into obs and, for envs with info fields, the info of every env into info (num_envs x
  // info_fields; either may be null). seeds: none (continue), one (every env), or one per env;
  // seeding restarts the clock.
  virtual void reset(const std::vector<uint64_t>& seeds, const uint8_t* mask, void* obs, double* info = nullptr) = 0;
  virtual void step(const void* actions, const StepBuffers& out) = 0;

  // Device-resident copies of the last step()'s outputs, valid until the next step or reset; only
  // those a kernel has written (obs after a reset that returned them, the rest after a step).
  virtual DeviceOutputs device_outputs() const { return {}; }
  // Work queued on the consumer's CUDA stream (a cudaStream_t) after this call waits until the
  // kernel that wrote device_outputs() is done; nothing to wait for on the CPU.
  virtual void make_stream_wait(uintptr_t /*consumer_stream*/) const {}

  // State as float64, num_envs x state_fields (exact for every field type used by envs).

  // Env parameters by name (EnvInfo::param_names), merged into the current ones; takes effect from
  // the next reset or step. ConfigError for an unknown name.
  virtual void set_params(const std::map<std::string, double>& params) = 0;

  virtual void get_state(double* out) const = 0;
  virtual void set_state(const double* in) = 0;
  // Episode bookkeeping: steps taken in the current episode, per env.
  virtual void get_elapsed(uint32_t* out) const = 0;
  virtual void set_elapsed(const uint32_t* in) = 0;
};

// Registry queries (envs.def).
std::vector<std::string> env_ids();
// params: overrides by name (they set the agents per env of multi-agent envs).
EnvInfo describe_env(const std::string& env_id, Precision precision, const std::map<std::string, double>& params = {});
// ConfigError naming the first parameter the env does not have or whose value it cannot take.
void check_params(const std::string& env_id, Precision precision, const std::map<std::string, double>& params);
// Throws ConfigError naming the unknown id and listing the known ones.
void check_env_id(const std::string& env_id);

std::unique_ptr<Simulator> make_cpu_simulator(const SimConfig& config);
// Throws ConfigError when this build has no CUDA backend or no usable device is present.
std::unique_ptr<Simulator> make_cuda_simulator(const SimConfig& config);
std::unique_ptr<Simulator> make_simulator(const SimConfig& config, Device device);

const char* to_string(Device d);
const char* to_string(Precision p);
Precision parse_precision(const std::string& s);  // "float32" | "float64"
AutoresetMode parse_autoreset(const std::string& s);  // "next_step" | "same_step" | "disabled"

}  // namespace simkit
