// SPDX-License-Identifier: Apache-2.0
// The control logic every backend shares, written once: argument checks, seeding and the batch
// clock, pending resets, parameters, action validation. A backend (cpu::CpuSimulator,
// cuda::CudaSimulator) owns the memory and implements the run_* hooks, which run at clock t_.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "simkit/registry.hpp"

namespace simkit {

template <class Env>
class SimulatorBase : public Simulator {
 public:
  using Real = typename Env::Real;
  using Action = ActionScalar<Env>;

  explicit SimulatorBase(const SimConfig& c)
      : config_(c),
        info_(make_env_info<Env>(agent_count<Env>(make_params<Env>(c.params)))),
        params_(make_params<Env>(c.params)),
        engine_(make_engine_params<Env>(c)) {
    check_batch_size(c.num_envs);
    // Agent rows env * num_agents + agent are int32 lanes in the kernels.
    const int64_t rows = c.num_envs * agent_count<Env>(params_);
    if (kMultiAgent<Env> && rows > INT32_MAX) {
      throw ConfigError("num_envs x num_agents must be below 2^31 (got " + std::to_string(c.num_envs) + " x " +
                        std::to_string(agent_count<Env>(params_)) + ")");
    }
  }

  const EnvInfo& info() const override { return info_; }
  const SimConfig& config() const override { return config_; }

  RolloutStats rollout(uint64_t steps, int chunk) final { return rollout_with(steps, chunk, nullptr); }
  RolloutStats rollout_trajectory(uint64_t steps, int chunk, const TrajectoryCallback& on_chunk) final {
    return rollout_with(steps, chunk, &on_chunk);
  }

  void reset(const std::vector<uint64_t>& seeds, const uint8_t* mask, void* obs, double* info) final {
    const int64_t n = num_envs();
    if (!seeds.empty() && seeds.size() != 1 && static_cast<int64_t>(seeds.size()) != n) {
      throw ConfigError("seed: expected one seed or num_envs=" + std::to_string(n) + " seeds, got " +
                        std::to_string(seeds.size()));
    }
    if (seeds.size() == 1) {
      engine_.seeds.seed = seeds[0];
      engine_.seeds.env_seeds = nullptr;
      t_ = 0;
    } else if (!seeds.empty()) {
      engine_.seeds.env_seeds = store_env_seeds(seeds);
      t_ = 0;
    }
    run_reset(mask, obs, info);
    t_ += 1;  // two resets in a row draw different states
  }

  void step(const void* actions, const StepBuffers& out) final {
    const Action* a = static_cast<const Action*>(actions);
    validate_actions<Env>(a, num_envs() * agent_count<Env>(params_));  // before any env state changes
    run_step(a, out);
    // next_step leaves ended envs waiting for a reset; disabled leaves them ended until the caller
    // resets them. A rollout starts them afresh either way.
    if (config_.autoreset != AutoresetMode::kSameStep) pending_resets_ = true;
    t_ += 1;
  }

  void set_elapsed(const uint32_t* in) final {
    for (int64_t i = 0; i < num_envs(); ++i) {
      if (in[i] > static_cast<uint32_t>(kEpisodeStepLimit)) {
        throw ConfigError("elapsed[" + std::to_string(i) + "] = " + std::to_string(in[i]) + " is above 2^31 - 1");
      }
    }
    write_elapsed(in);
  }

  void set_params(const std::map<std::string, double>& params) final {
    std::map<std::string, double> merged = config_.params;
    for (const auto& [name, value] : params) merged[name] = value;
    const typename Env::Params next = make_params<Env>(merged);  // validates every name and value first
    if (agent_count<Env>(next) != agent_count<Env>(params_)) {
      throw ConfigError("num_agents is fixed when the batch is made (" + std::to_string(agent_count<Env>(params_)) +
                        "): its buffers are sized by it");
    }
    params_ = next;
    config_.params = std::move(merged);
  }

 protected:
  // Allocates what a rollout of `steps` batch steps in chunks of `chunk` needs (trajectory: its
  // chunk buffers), before the rollout changes anything: on failure the simulator is as it was.
  virtual void reserve_rollout(uint64_t steps, int chunk, bool trajectory) = 0;
  // A rollout of `steps` batch steps from t_ in chunks of `chunk` (on_chunk: trajectory mode).
  virtual RolloutStats run_rollout(uint64_t steps, int chunk, const TrajectoryCallback* on_chunk) = 0;
  virtual void run_reset(const uint8_t* mask, void* obs, double* info) = 0;
  virtual void run_step(const Action* actions, const StepBuffers& out) = 0;
  // Resets, at t_, the envs a step-API call left waiting (needs_reset).
  virtual void run_pending_resets() = 0;
  virtual void write_elapsed(const uint32_t* in) = 0;
  // Keeps per-env seeds where the backend's kernels read them; returns the table (env_seeds[i]: the
  // batch's env i), valid until the next call.
  virtual const uint64_t* store_env_seeds(const std::vector<uint64_t>& seeds) = 0;

  int64_t num_envs() const { return config_.num_envs; }
  uint32_t first_env() const { return static_cast<uint32_t>(config_.env_offset); }
  int n_info() const { return static_cast<int>(info_.info_fields.size()); }
  // The caller's step-API buffers as the kernels see them.
  StepBuffersView<Env> step_view(const StepBuffers& b) const {
    return {static_cast<typename Env::Obs*>(b.obs), static_cast<Real*>(b.reward), b.terminated, b.truncated,
            static_cast<typename Env::Obs*>(b.final_obs), b.has_final, b.info, n_info(), b.final_info};
  }

  SimConfig config_;
  EnvInfo info_;
  typename Env::Params params_;
  EngineParams engine_;
  uint64_t t_ = 0;  // the batch clock: index of the next step

 private:
  RolloutStats rollout_with(uint64_t steps, int chunk, const TrajectoryCallback* on_chunk) {
    if (chunk < 1) throw ConfigError("chunk must be at least 1 (got " + std::to_string(chunk) + ")");
    reserve_rollout(steps, chunk, on_chunk != nullptr);
    if (pending_resets_) {
      run_pending_resets();
      pending_resets_ = false;
    }
    RolloutStats s = run_rollout(steps, chunk, on_chunk);
    t_ += steps;
    return s;
  }

  bool pending_resets_ = false;  // a step-API call may have left envs waiting for a reset
};

}  // namespace simkit
