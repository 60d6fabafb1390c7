// SPDX-License-Identifier: Apache-2.0
// Env state <-> float64 rows (num_envs x state fields), through each env's visit_state.
#pragma once

#include <cstdint>
#include <type_traits>

namespace simkit {

template <class Env>
void states_to_doubles(const typename Env::State* states, int64_t n, double* out) {
  for (int64_t i = 0; i < n; ++i) {
    Env::visit_state(states[i], [&](const char*, const auto& v) { *out++ = static_cast<double>(v); });
  }
}

template <class Env>
void doubles_to_states(const double* in, int64_t n, typename Env::State* states) {
  for (int64_t i = 0; i < n; ++i) {
    Env::visit_state(states[i], [&](const char*, auto& v) { v = static_cast<std::remove_reference_t<decltype(v)>>(*in++); });
  }
}

}  // namespace simkit
