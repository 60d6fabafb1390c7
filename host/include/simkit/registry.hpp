// SPDX-License-Identifier: Apache-2.0
// Expands envs.def: compile-time dispatch from an env id to its type, and EnvInfo from a header.
#pragma once

#include <cmath>
#include <string>
#include <type_traits>

#include "simkit/simulator.hpp"

// Pull in every env header once.
#define SIMKIT_ENV(Name)
#include "simkit/envs.def"
#undef SIMKIT_ENV

namespace simkit {

template <class T>
struct TypeTag {
  using type = T;
};

// Calls f(TypeTag<Name<Real>>{}) for the env registered under env_id; returns false if none is.
template <class Real, class F>
bool dispatch_env(const std::string& env_id, F&& f) {
#define SIMKIT_ENV(Name)                          \
  if (env_id == envs::Name<Real>::kId) {          \
    f(TypeTag<envs::Name<Real>>{});               \
    return true;                                  \
  }
#include "simkit/envs.def"
#undef SIMKIT_ENV
  return false;
}

template <class Env>
EnvInfo make_env_info() {
  using Real = typename Env::Real;
  EnvInfo info;
  info.id = Env::kId;
  info.precision = std::is_same_v<Real, double> ? Precision::kFloat64 : Precision::kFloat32;
  info.obs_dim = Env::kObsDim;
  info.obs_dtype = std::is_same_v<typename Env::Obs, float> ? "float32" : "int8";
  for (int i = 0; i < Env::kObsDim; ++i) {
    info.obs_low.push_back(Env::kObsLow[i]);
    info.obs_high.push_back(Env::kObsHigh[i]);
  }
  info.discrete = Env::kDiscrete;
  if constexpr (Env::kDiscrete) {
    info.num_actions = Env::kNumActions;
  } else {
    info.action_low = Env::kActionLow;
    info.action_high = Env::kActionHigh;
  }
  info.max_episode_steps = Env::kMaxEpisodeSteps;
  typename Env::State s{};
  Env::visit_state(s, [&](const char* name, auto&) { info.state_fields.push_back(name); });
  typename Env::Params p{};
  Env::visit_params(p, [&](const char* name, auto&) { info.param_names.push_back(name); });
  if constexpr (kHasInfo<Env>) {
    Env::visit_info(p, s, [&](const char* name, const auto&) { info.info_fields.push_back(name); });
  }
  info.state_bytes = StateColumns<Env>::bytes_per_env();
  info.env_bytes = info.state_bytes + sizeof(uint32_t) + sizeof(Real);  // + elapsed and episode return
  info.obs_bytes = sizeof(typename Env::Obs) * Env::kObsDim;
  info.action_bytes = sizeof(ActionScalar<Env>);
  info.reward_bytes = sizeof(Real);
  return info;
}

// Params from the env's defaults overridden by name; unknown names are a ConfigError.
template <class Env>
typename Env::Params make_params(const std::map<std::string, double>& values) {
  typename Env::Params p{};
  for (const auto& [name, value] : values) {
    bool found = false;
    Env::visit_params(p, [&, &name = name, &value = value](const char* field, auto& ref) {
      if (name == field) {
        ref = static_cast<std::remove_reference_t<decltype(ref)>>(value);
        found = true;
      }
    });
    if (!found) {
      std::string known;
      Env::visit_params(p, [&](const char* field, auto&) { known += std::string(known.empty() ? "" : ", ") + field; });
      throw ConfigError("unknown parameter '" + name + "' for " + Env::kId + " (known: " + known + ")");
    }
  }
  return p;
}

// Every action inside the action space (NaN is not), checked before any env state changes.
template <class Env>
void validate_actions(const ActionScalar<Env>* a, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    if constexpr (Env::kDiscrete) {
      if (a[i] < 0 || a[i] >= Env::kNumActions) {
        throw ConfigError("actions[" + std::to_string(i) + "] = " + std::to_string(a[i]) + " is outside [0, " +
                          std::to_string(Env::kNumActions) + ")");
      }
    } else if (!std::isfinite(a[i])) {
      // Finite values outside the Box are fine: the env clips them as its Gymnasium reference does.
      throw ConfigError("actions[" + std::to_string(i) + "] = " + std::to_string(a[i]) + " is not a finite number");
    }
  }
}

template <class Env>
EngineParams make_engine_params(const SimConfig& c) {
  EngineParams e;
  e.seeds.seed = c.seed;
  e.seeds.first_env = static_cast<uint32_t>(c.env_offset);
  e.max_episode_steps = static_cast<uint32_t>(c.max_episode_steps < 0 ? Env::kMaxEpisodeSteps : c.max_episode_steps);
  return e;
}

// num_envs in [1, 2^32): env indices are 32-bit in the random-number counters. ConfigError otherwise.
void check_batch_size(int64_t num_envs);

}  // namespace simkit
