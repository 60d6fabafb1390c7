// SPDX-License-Identifier: Apache-2.0
// The environment contract. An environment is one header under simkit/envs/ declaring
//
//   template <class Real> struct Name {
//     using Real;
//     static constexpr bool kDiscrete;       // Discrete(kNumActions) actions, else one value in
//                                            // [kActionLow, kActionHigh]
//     static constexpr const char* kId;  kMaxEpisodeSteps;  kObsDim;  kObsLow[] / kObsHigh[];
//     using Obs;                             // float or int8_t: the observation's element type
//     struct Params { ... defaults ... };    // per batch, the same for every env
//     template <class V> struct StateOf { ... };  // per env, over lane type V (simkit/lanes.hpp)
//     using State = StateOf<Real>;           // the stored state: trivially copyable
//     template <class V> SIMKIT_HD static void reset(const Params&, StateOf<V>&, RandomStream<V>&);
//                                            // writes every field and reads none: the CUDA kernel
//                                            // draws an env's next episode before this one ends
//     template <class V> SIMKIT_HD static Transition<V> step(const Params&, StateOf<V>&, ActionOf<Name, V>,
//                                                            RandomStream<V>&);
//     template <class V> SIMKIT_HD static void observe(const Params&, const StateOf<V>&, ObsOf<Name, V>* out);
//     template <class P, class F> static void visit_params(P&, F&&);  // f(name, field&)
//     template <class S, class F> SIMKIT_HD static void visit_state(S&, F&&);   // f(name, field&)
//     // optional: values reported in the step API's info after every step, read from the state the
//     // step left (before any autoreset). "name[i]" entries are grouped into arrays.
//     template <class V, class F> SIMKIT_HD static void visit_info(const Params&, const StateOf<V>&, F&&);
//   };
//
// Multi-agent envs (Foraging-v0) add kMaxAgents and Params::num_agents (agents per env, the same
// for every env of a batch) and change four hooks (see envs/foraging.hpp):
//   step(p, s, Actions& action, rng)       // action(a): agent a's Int<V> lanes, asked in index order
//   observe(p, s, int8_t* grid, lane, emit) // emit(a, cols[kObsDim]) per agent; grid: zeroed scratch
//   visit_state(s, f, agents)              // nodes first, then agents [0, agents): the stored prefix
//   agent_reward(s, a), agent_terminated(s, a), agents_alive(p, s)
// Their actions, rewards, flags and observations are batch-major rows env * num_agents + agent;
// kObsDim is one agent's observation.
//
// plus one line in envs.def. V is float/double for one env (CUDA threads, the CPU reference path)
// or a SIMD batch of envs (the CPU tile loop): write conditions as masks and choices as
// lanes::select, loops over per-env conditions as "while any lane is still going" under a mask.
// State fields are V (reals), lanes::Int<V> / lanes::Int8<V> (integers, stored as int32 / int8).
// Truncation, autoreset, statistics, policies and batching belong to the engine (rollout.hpp).
#pragma once

#include <cstdint>
#include <type_traits>
#include <utility>

#include "simkit/hd.hpp"
#include "simkit/lanes.hpp"
#include "simkit/math.hpp"
#include "simkit/rng.hpp"

namespace simkit {

template <class V>
struct Transition {
  V reward;
  lanes::Mask<V> terminated;  // natural end of the episode (the engine adds truncation)
};

// An env's action for lane type V: Int<V> (discrete) or V (continuous).
template <class Env, class V>
using ActionOf = std::conditional_t<Env::kDiscrete, lanes::Int<V>, V>;
// An observation element for lane type V.
template <class Env, class V>
using ObsOf = lanes::Rebind<typename Env::Obs, V>;

// The scalar action type of Env (what callers pass).
template <class Env>
using ActionScalar = std::conditional_t<Env::kDiscrete, int32_t, typename Env::Real>;

enum class Precision { kFloat32, kFloat64 };

namespace detail {
struct InfoProbe {
  template <class T>
  SIMKIT_HD void operator()(const char*, const T&) const {}
};
}  // namespace detail

template <class Env, class = void>
struct IsMultiAgent : std::false_type {};
template <class Env>
struct IsMultiAgent<Env, std::void_t<decltype(Env::kMaxAgents)>> : std::true_type {};
template <class Env>
constexpr bool kMultiAgent = IsMultiAgent<Env>::value;

// Agents per env of a batch: Params::num_agents, or 1.
template <class Env>
SIMKIT_HD int agent_count(const typename Env::Params& p) {
  if constexpr (kMultiAgent<Env>) {
    return p.num_agents;
  } else {
    (void)p;
    return 1;
  }
}

template <class Env, class = void>
struct HasInfo : std::false_type {};
template <class Env>
struct HasInfo<Env, std::void_t<decltype(Env::visit_info(std::declval<const typename Env::Params&>(),
                                                         std::declval<const typename Env::State&>(),
                                                         detail::InfoProbe{}))>> : std::true_type {};
template <class Env>
constexpr bool kHasInfo = HasInfo<Env>::value;

}  // namespace simkit
