// SPDX-License-Identifier: Apache-2.0
// Env state <-> float64 rows (num_envs x state fields), through each env's visit_state.
#pragma once

#include <cstdint>
#include <type_traits>

#include "simkit/soa.hpp"

namespace simkit {

template <class Env>
void states_to_doubles(const StateColumns<Env>& cols, int64_t n, double* out) {
  for (int64_t i = 0; i < n; ++i) {
    const typename Env::State s = cols.template load<typename Env::Real>(static_cast<size_t>(i));
    Env::visit_state(s, [&](const char*, const auto& v) { *out++ = static_cast<double>(v); });
  }
}

template <class Env>
void doubles_to_states(const double* in, int64_t n, const StateColumns<Env>& cols) {
  for (int64_t i = 0; i < n; ++i) {
    typename Env::State s;
    Env::visit_state(s, [&](const char*, auto& v) { v = static_cast<std::remove_reference_t<decltype(v)>>(*in++); });
    cols.store(static_cast<size_t>(i), s);
  }
}

}  // namespace simkit
