// SPDX-License-Identifier: Apache-2.0
// Env state <-> float64 rows (num_envs x state fields), through each env's visit_state.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>
#include <type_traits>

#include "simkit/simulator.hpp"
#include "simkit/soa.hpp"

namespace simkit {

template <class Env>
void states_to_doubles(const StateColumns<Env>& cols, int64_t n, double* out) {
  for (int64_t i = 0; i < n; ++i) {
    const typename Env::State s = cols.template load<typename Env::Real>(static_cast<size_t>(i));
    StateColumns<Env>::visit(s, cols.agents, [&](const char*, const auto& v) { *out++ = static_cast<double>(v); });
  }
}

namespace detail {
inline std::string state_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}
}  // namespace detail

// Rows a State holds as given, checked before any conversion (a cast would wrap TicTacToe's cell 300
// to 44, turn GeneCircuit's 1e10 into INT_MIN, or be undefined): integer fields take whole values of
// their type, floating fields finite values of their type. A state made of integers only (board
// cells, molecule counts) must also observe inside the observation space, the range such an env
// documents (cells in [0, 2], counts >= 0), with the default parameters, which no registered env's
// observation range depends on. Continuous states may leave it: a CartPole past its threshold is a
// state Gymnasium can be put in too, and the parity tests probe such states.
// ConfigError naming the row, the field and the value.
template <class Env>
void check_state_values(const double* in, int64_t n, int agents = 1) {
  const typename Env::Params params{};
  bool discrete = true;
  const typename Env::State probe{};
  Env::visit_state(probe, [&](const char*, const auto& field) {
    discrete = discrete && std::is_integral_v<std::remove_cv_t<std::remove_reference_t<decltype(field)>>>;
  });
  const auto fail = [](int64_t row, const std::string& what) {
    throw ConfigError("state row " + std::to_string(row) + " of " + Env::kId + ": " + what);
  };
  for (int64_t i = 0; i < n; ++i) {
    typename Env::State s{};
    StateColumns<Env>::visit(s, agents, [&](const char* name, auto& field) {
      using Field = std::remove_reference_t<decltype(field)>;
      const double v = *in++;
      constexpr bool kIntegral = std::is_integral_v<Field>;
      const double lo = static_cast<double>(std::numeric_limits<Field>::lowest());
      const double hi = static_cast<double>(std::numeric_limits<Field>::max());
      // Integers: whole and below 2^digits, which (unlike max() rounded to a double) is exact.
      const double end = std::ldexp(1.0, std::numeric_limits<Field>::digits);
      const bool fits = kIntegral ? v >= lo && v < end && v == std::floor(v) : v >= lo && v <= hi;
      if (!fits) {
        fail(i, std::string(name) + " = " + detail::state_number(v) + " does not fit its type (" +
                    (kIntegral ? "whole" : "finite") + " values in [" + detail::state_number(lo) + ", " +
                    detail::state_number(hi) + "])");
      }
      field = static_cast<Field>(v);
    });
    if constexpr (kMultiAgent<Env>) {
      // Cells and counts the grid indexes by: checked by the env, field by field.
      if (const char* problem = Env::state_problem(s, agents)) fail(i, problem);
    } else if (discrete) {
      typename Env::Obs obs[Env::kObsDim];
      Env::observe(params, s, obs);
      for (int k = 0; k < Env::kObsDim; ++k) {
        const double o = static_cast<double>(obs[k]);
        if (!(o >= Env::kObsLow[k] && o <= Env::kObsHigh[k])) {
          fail(i, "its observation[" + std::to_string(k) + "] = " + detail::state_number(o) +
                      " is outside the observation space [" + detail::state_number(Env::kObsLow[k]) + ", " +
                      detail::state_number(Env::kObsHigh[k]) + "]");
        }
      }
    }
  }
}

template <class Env>
void doubles_to_states(const double* in, int64_t n, const StateColumns<Env>& cols) {
  check_state_values<Env>(in, n, cols.agents);
  for (int64_t i = 0; i < n; ++i) {
    typename Env::State s;
    StateColumns<Env>::visit(s, cols.agents,
                             [&](const char*, auto& v) { v = static_cast<std::remove_reference_t<decltype(v)>>(*in++); });
    cols.store(static_cast<size_t>(i), s);
  }
}

}  // namespace simkit
