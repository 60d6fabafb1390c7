// SPDX-License-Identifier: Apache-2.0
// Envs stepped through the engine's step API, so env tests run the shipped CPU kernels of the SIMD
// target this process selects (ctest runs the suite once per target the machine has, with
// SIMKIT_SIMD set), from states the test chooses.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "simkit/simulator.hpp"

namespace simkit::testing {

class EngineEnvs {
 public:
  // Multi-agent envs: every per-env entry is num_agents rows, env * num_agents + agent.
  struct Out {
    std::vector<double> obs;     // num_envs x obs_dim
    std::vector<double> reward;  // num_envs
    std::vector<uint8_t> terminated, truncated;
    std::vector<double> info;  // num_envs x info fields
  };

  // Disabled autoreset by default: every step is the env's own transition.
  EngineEnvs(const std::string& id, Precision precision, int64_t num_envs, std::map<std::string, double> params = {},
             int64_t max_episode_steps = -1, AutoresetMode mode = AutoresetMode::kDisabled, uint64_t seed = 0);

  const EnvInfo& info() const { return sim_->info(); }
  Simulator& sim() { return *sim_; }
  int64_t num_envs() const { return n_; }
  size_t rows() const { return static_cast<size_t>(n_) * static_cast<size_t>(sim_->info().num_agents); }

  // num_envs x state fields; elapsed: steps taken in each env's episode (default unchanged).
  void set_state(const std::vector<double>& rows, const std::vector<uint32_t>& elapsed = {});
  std::vector<double> state() const;
  // Every env's observation of its current state (a reset of no env).
  std::vector<double> observe();
  // Resets every env (seed as Simulator::reset) and returns the observations.
  std::vector<double> reset(const std::vector<uint64_t>& seeds = {});
  // One step; actions converted to the env's action type (int32 or its precision).
  const Out& step(const std::vector<double>& actions);
  const Out& step_all(double action) { return step(std::vector<double>(static_cast<size_t>(n_), action)); }
  // The outputs of the last step, or the info of the last reset/observe.
  const Out& last() const { return out_; }

 private:
  std::vector<double> read_obs() const;

  std::unique_ptr<Simulator> sim_;
  int64_t n_;
  std::vector<unsigned char> obs_raw_, reward_raw_, action_raw_;
  Out out_;
};

// One env's step from `state`, with `elapsed` steps taken in its episode.
struct EngineStep {
  std::vector<double> state;
  double reward;
  bool terminated;
  bool truncated;
  std::vector<double> obs, info;
};
EngineStep engine_step(const std::string& id, const std::vector<double>& state, uint32_t elapsed, double action,
                       const std::map<std::string, double>& params = {}, Precision precision = Precision::kFloat64);

}  // namespace simkit::testing
