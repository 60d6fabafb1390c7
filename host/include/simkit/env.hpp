// SPDX-License-Identifier: Apache-2.0
// The environment contract. An environment is one header under simkit/envs/ declaring
//
//   template <class Real> struct Name {
//     using Real;  using Action (int32_t: discrete, Real: one continuous value);  using Obs;
//     static constexpr const char* kId;  kMaxEpisodeSteps;  kObsDim;  kObsLow[] / kObsHigh[];
//     kNumActions (discrete)  or  kActionLow / kActionHigh (continuous);
//     struct Params { ... defaults ... };   // per batch
//     struct State { ... };                 // per env, trivially copyable
//     SIMKIT_HD static void reset(const Params&, State&, RandomStream&);
//     SIMKIT_HD static Transition<Real> step(const Params&, State&, Action, RandomStream&);
//     SIMKIT_HD static void observe(const Params&, const State&, Obs* out);
//     template <class P, class F> static void visit_params(P&, F&&);  // f(name, field&)
//     template <class S, class F> static void visit_state(S&, F&&);   // f(name, field&)
//   };
//
// plus one line in envs.def. Truncation, autoreset, statistics, policies and batching belong to the
// engine (rollout.hpp), never to an env.
#pragma once

#include <cstdint>
#include <type_traits>

#include "simkit/hd.hpp"
#include "simkit/math.hpp"
#include "simkit/rng.hpp"

namespace simkit {

template <class Real>
struct Transition {
  Real reward;
  bool terminated;  // natural end of the episode (the engine adds truncation)
};

template <class Env>
constexpr bool kDiscreteActions = std::is_integral_v<typename Env::Action>;

enum class Precision { kFloat32, kFloat64 };

}  // namespace simkit
