// SPDX-License-Identifier: Apache-2.0
// Expands envs.def: compile-time dispatch from an env id to its type, and EnvInfo from a header.
#pragma once

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <optional>
#include <string>
#include <type_traits>

#include "simkit/simulator.hpp"

// Pull in every env header once.
#define SIMKIT_ENV(Name)
#include "simkit/envs.def"
#undef SIMKIT_ENV

namespace simkit {

// Episode step counts are compared as int32 in the kernels (one instruction per vector).
constexpr int64_t kEpisodeStepLimit = (int64_t{1} << 31) - 1;

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

namespace detail {
// numpy's name for an info value's type (its engine type: the mask is int8, counts int32).
template <class T>
constexpr const char* numpy_name() {
  static_assert(std::is_arithmetic_v<T>, "info values are scalars of an arithmetic type");
  if constexpr (std::is_floating_point_v<T>) {
    return sizeof(T) == 4 ? "float32" : "float64";
  } else if constexpr (std::is_signed_v<T>) {
    return sizeof(T) == 1 ? "int8" : sizeof(T) == 2 ? "int16" : sizeof(T) == 4 ? "int32" : "int64";
  } else {
    return sizeof(T) == 1 ? "uint8" : sizeof(T) == 2 ? "uint16" : sizeof(T) == 4 ? "uint32" : "uint64";
  }
}
}  // namespace detail

template <class Env, class = void>
struct HasObsShape : std::false_type {};
template <class Env>
struct HasObsShape<Env, std::void_t<decltype(Env::kObsShape)>> : std::true_type {};

// agents: per env (multi-agent envs; -1 = the Params default).
template <class Env>
EnvInfo make_env_info(int agents = -1) {
  using Real = typename Env::Real;
  if (agents < 0) agents = agent_count<Env>(typename Env::Params{});
  EnvInfo info;
  info.num_agents = agents;
  if constexpr (kMultiAgent<Env>) info.max_agents = Env::kMaxAgents;
  info.id = Env::kId;
  info.precision = std::is_same_v<Real, double> ? Precision::kFloat64 : Precision::kFloat32;
  info.obs_dim = Env::kObsDim;
  if constexpr (HasObsShape<Env>::value) {
    for (int extent : Env::kObsShape) info.obs_shape.push_back(extent);
  } else {
    info.obs_shape = {Env::kObsDim};
  }
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
  StateColumns<Env>::visit(s, agents, [&](const char* name, auto&) { info.state_fields.push_back(name); });
  typename Env::Params p{};
  Env::visit_params(p, [&](const char* name, auto& value) {
    info.param_names.push_back(name);
    info.param_defaults.push_back(static_cast<double>(value));
  });
  if constexpr (kHasInfo<Env>) {
    Env::visit_info(p, s, [&](const char* name, const auto& value) {
      info.info_fields.push_back(name);
      using T = std::remove_cv_t<std::remove_reference_t<decltype(value)>>;
      info.info_dtypes.push_back(detail::numpy_name<T>());
      info.info_bytes += sizeof(T);
    });
  }
  info.state_bytes = StateColumns<Env>::bytes_per_env(agents);
  info.env_bytes = info.state_bytes + sizeof(uint32_t) + sizeof(Real);  // + elapsed and episode return
  info.obs_bytes = sizeof(typename Env::Obs) * Env::kObsDim;
  info.action_bytes = sizeof(ActionScalar<Env>);
  info.reward_bytes = sizeof(Real);
  if constexpr (kMultiAgent<Env>) info.grid_bytes = Env::kGridCells;
  return info;
}

namespace detail {
// Few digits that read back as v in its own type: "0.9" and 0.05f as "0.05", not "0.900000".
template <class T>
std::string number_text(T v) {
  const bool single = std::is_same_v<T, float>;
  char buf[32];
  std::snprintf(buf, sizeof buf, single ? "%.7g" : "%.15g", static_cast<double>(v));
  if (static_cast<T>(std::strtod(buf, nullptr)) != v) {
    std::snprintf(buf, sizeof buf, single ? "%.9g" : "%.17g", static_cast<double>(v));
  }
  return buf;
}

// A parameter value that fits its field: integer and bool fields are 0/1 switches in every registered
// env (euler, sutton_barto_reward, book, safety, target), floating fields take finite values of their
// type. Checked before the cast, which would truncate 0.9 to 0 or be undefined for 1e300.
template <class Env, class Field>
void check_param_value(const char* env_id, const std::string& name, double value) {
  if constexpr (kMultiAgent<Env>) {
    if (name == "num_agents") {
      if (!(value >= 1 && value <= Env::kMaxAgents && value == std::floor(value))) {
        throw ConfigError("num_agents of " + std::string(env_id) + " must be a whole number in [1, " +
                          std::to_string(Env::kMaxAgents) + "] (got " + number_text(value) + ")");
      }
      return;
    }
  }
  if constexpr (std::is_floating_point_v<Field>) {
    if (!(std::fabs(value) <= static_cast<double>(std::numeric_limits<Field>::max()))) {
      throw ConfigError("parameter '" + name + "' of " + env_id + " must be a finite number (got " +
                        number_text(value) + ")");
    }
  } else if (!(value == 0 || value == 1)) {
    throw ConfigError("parameter '" + name + "' of " + env_id + " must be 0 or 1 (got " + number_text(value) + ")");
  }
}

// Parameters that bound one interval: low <= high once every override is applied.
template <class Env>
void check_param_pairs(const typename Env::Params& p) {
  using Real = typename Env::Real;
  std::optional<Real> low, high;
  Env::visit_params(p, [&](const char* field, const auto& ref) {
    if (std::string(field) == "reset_low") low = static_cast<Real>(ref);
    if (std::string(field) == "reset_high") high = static_cast<Real>(ref);
  });
  if (low && high && *low > *high) {
    throw ConfigError("parameter reset_low=" + number_text(*low) + " of " + Env::kId +
                      " is greater than reset_high=" + number_text(*high));
  }
}
}  // namespace detail

// Params from the env's defaults overridden by name; unknown names and values the field cannot hold
// are a ConfigError naming the parameter.
template <class Env>
typename Env::Params make_params(const std::map<std::string, double>& values) {
  typename Env::Params p{};
  for (const auto& [name, value] : values) {
    bool found = false;
    Env::visit_params(p, [&, &name = name, &value = value](const char* field, auto& ref) {
      using Field = std::remove_reference_t<decltype(ref)>;
      if (name == field) {
        detail::check_param_value<Env, Field>(Env::kId, name, value);
        ref = static_cast<Field>(value);
        found = true;
      }
    });
    if (!found) {
      std::string known;
      Env::visit_params(p, [&](const char* field, auto&) { known += std::string(known.empty() ? "" : ", ") + field; });
      throw ConfigError("unknown parameter '" + name + "' for " + Env::kId + " (known: " +
                        (known.empty() ? "none" : known) + ")");
    }
  }
  detail::check_param_pairs<Env>(p);
  return p;
}

// Every action inside the action space (NaN is not), checked before any env state changes; n actions
// (num_envs x agents).
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
  if (c.max_episode_steps < -1 || c.max_episode_steps > kEpisodeStepLimit) {
    throw ConfigError("max_episode_steps must be in [0, " + std::to_string(kEpisodeStepLimit) +
                      "] (-1: the env's default), got " + std::to_string(c.max_episode_steps));
  }
  EngineParams e;
  e.seeds.seed = c.seed;
  e.seeds.first_env = static_cast<uint32_t>(c.env_offset);
  e.max_episode_steps = static_cast<uint32_t>(c.max_episode_steps < 0 ? Env::kMaxEpisodeSteps : c.max_episode_steps);
  return e;
}

// num_envs in [1, 2^32): env indices are 32-bit in the random-number counters. ConfigError otherwise.
void check_batch_size(int64_t num_envs);

}  // namespace simkit
