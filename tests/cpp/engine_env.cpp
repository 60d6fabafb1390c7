// SPDX-License-Identifier: Apache-2.0
#include "engine_env.hpp"

#include <cstring>

namespace simkit::testing {

EngineEnvs::EngineEnvs(const std::string& id, Precision precision, int64_t num_envs, std::map<std::string, double> params,
                       int64_t max_episode_steps, AutoresetMode mode, uint64_t seed)
    : n_(num_envs) {
  SimConfig c;
  c.env_id = id;
  c.precision = precision;
  c.num_envs = num_envs;
  c.params = std::move(params);
  c.max_episode_steps = max_episode_steps;
  c.autoreset = mode;
  c.seed = seed;
  sim_ = make_cpu_simulator(c);
  const EnvInfo& i = sim_->info();
  const size_t n = static_cast<size_t>(num_envs) * static_cast<size_t>(i.num_agents);  // rows
  obs_raw_.resize(n * i.obs_bytes);
  reward_raw_.resize(n * i.reward_bytes);
  action_raw_.resize(n * i.action_bytes);
  out_.terminated.resize(n);
  out_.truncated.resize(n);
  out_.info.resize(static_cast<size_t>(num_envs) * i.info_fields.size());
}

void EngineEnvs::set_state(const std::vector<double>& rows, const std::vector<uint32_t>& elapsed) {
  sim_->set_state(rows.data());
  if (!elapsed.empty()) sim_->set_elapsed(elapsed.data());
}

std::vector<double> EngineEnvs::state() const {
  std::vector<double> s(static_cast<size_t>(n_) * sim_->info().state_fields.size());
  sim_->get_state(s.data());
  return s;
}

std::vector<double> EngineEnvs::read_obs() const {
  const EnvInfo& i = sim_->info();
  std::vector<double> obs(rows() * static_cast<size_t>(i.obs_dim));
  for (size_t k = 0; k < obs.size(); ++k) {
    obs[k] = i.obs_dtype == "int8" ? static_cast<double>(reinterpret_cast<const int8_t*>(obs_raw_.data())[k])
                                   : static_cast<double>(reinterpret_cast<const float*>(obs_raw_.data())[k]);
  }
  return obs;
}

std::vector<double> EngineEnvs::observe() {
  const std::vector<uint8_t> none(static_cast<size_t>(n_), 0);
  sim_->reset({}, none.data(), obs_raw_.data(), out_.info.empty() ? nullptr : out_.info.data());
  return read_obs();
}

std::vector<double> EngineEnvs::reset(const std::vector<uint64_t>& seeds) {
  sim_->reset(seeds, nullptr, obs_raw_.data(), out_.info.empty() ? nullptr : out_.info.data());
  return read_obs();
}

const EngineEnvs::Out& EngineEnvs::step(const std::vector<double>& actions) {
  const EnvInfo& i = sim_->info();
  for (size_t k = 0; k < actions.size(); ++k) {
    if (i.discrete) {
      reinterpret_cast<int32_t*>(action_raw_.data())[k] = static_cast<int32_t>(actions[k]);
    } else if (i.precision == Precision::kFloat32) {
      reinterpret_cast<float*>(action_raw_.data())[k] = static_cast<float>(actions[k]);
    } else {
      reinterpret_cast<double*>(action_raw_.data())[k] = actions[k];
    }
  }
  StepBuffers b;
  b.obs = obs_raw_.data();
  b.reward = reward_raw_.data();
  b.terminated = out_.terminated.data();
  b.truncated = out_.truncated.data();
  b.info = out_.info.empty() ? nullptr : out_.info.data();
  sim_->step(action_raw_.data(), b);
  out_.obs = read_obs();
  out_.reward.resize(rows());
  for (size_t k = 0; k < out_.reward.size(); ++k) {
    out_.reward[k] = i.precision == Precision::kFloat32 ? reinterpret_cast<const float*>(reward_raw_.data())[k]
                                                        : reinterpret_cast<const double*>(reward_raw_.data())[k];
  }
  return out_;
}

EngineStep engine_step(const std::string& id, const std::vector<double>& state, uint32_t elapsed, double action,
                       const std::map<std::string, double>& params, Precision precision) {
  EngineEnvs envs(id, precision, 1, params);
  envs.set_state(state, {elapsed});
  const EngineEnvs::Out& o = envs.step({action});
  return {envs.state(), o.reward[0], o.terminated[0] != 0, o.truncated[0] != 0, o.obs, o.info};
}

}  // namespace simkit::testing
