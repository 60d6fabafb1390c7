// SPDX-License-Identifier: Apache-2.0
// Env states stored as structure of arrays, for both backends: field k of every env in column k, so
// W envs' field k are W consecutive values (one vector load on the CPU, coalesced on the GPU).
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "simkit/env.hpp"
#include "simkit/lanes.hpp"

namespace simkit {

template <class Env>
struct StateColumns {
  unsigned char* base = nullptr;
  size_t capacity = 0;  // envs per column; columns start at multiples of capacity x field size
  int agents = 1;       // multi-agent envs: the agents stored per env (a prefix of visit_state)

  // f(name, field) over the stored fields of s.
  template <class S, class F>
  SIMKIT_HD static void visit(S& s, int agents, F&& f) {
    if constexpr (kMultiAgent<Env>) {
      Env::visit_state(s, f, agents);
    } else {
      (void)agents;
      Env::visit_state(s, f);
    }
  }

  // Bytes of one env's state: the fields as stored (int8 fields take 1 byte).
  static size_t bytes_per_env(int agents = 1) {
    typename Env::State s{};
    size_t bytes = 0;
    visit(s, agents, [&](const char*, auto& field) { bytes += sizeof(field); });
    return bytes;
  }

  template <class V>
  SIMKIT_HD typename Env::template StateOf<V> load(size_t i) const {
    typename Env::template StateOf<V> s;
    size_t offset = 0;
    visit(s, agents, [&](const char*, auto& field) {
      using L = std::remove_reference_t<decltype(field)>;
      using T = lanes::Scalar<L>;
      field = lanes::load<L>(reinterpret_cast<const T*>(base + offset) + i);
      offset += sizeof(T) * capacity;
    });
    return s;
  }
  template <class V>
  SIMKIT_HD void store(size_t i, const typename Env::template StateOf<V>& s) const {
    size_t offset = 0;
    visit(s, agents, [&](const char*, const auto& field) {
      using L = std::remove_cv_t<std::remove_reference_t<decltype(field)>>;
      using T = lanes::Scalar<L>;
      lanes::store(field, reinterpret_cast<T*>(base + offset) + i);
      offset += sizeof(T) * capacity;
    });
  }
};

// Per-env engine data of a batch: state, steps taken and reward summed in the current episode, and
// whether a step-API call left the env waiting for a reset. Owned by a backend.
template <class Env>
struct BatchView {
  StateColumns<Env> state;
  uint32_t* elapsed;
  typename Env::Real* episode_return;
  uint8_t* needs_reset;
};

}  // namespace simkit
