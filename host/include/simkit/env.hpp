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
//     // optional: values reported in the step API's info after every step, read from the state the
//     // step left (before any autoreset). Scalars only; "name[i]" entries are grouped into arrays.
//     template <class F> SIMKIT_HD static void visit_info(const Params&, const State&, F&&);  // f(name, double)
//   };
//
// plus one line in envs.def. For the CPU backend to vectorize across envs, step() must be free of
// control flow that gcc cannot if-convert: combine conditions with | and & (not || and &&), and choose
// between values with ?: rather than if/else blocks that assign state; loops need fixed trip counts;
// Params flags are int32_t, not bool, and a choice on a Params flag goes through math::select_uniform
// (gcc 12 does not vectorize a select whose condition is the same for every lane); flags in returned
// structs are int32_t too (a struct of bools stays in memory). Check with -fopt-info-vec-missed.
// Check with -fopt-info-vec on host/src/cpu_precision.cpp. Truncation, autoreset, statistics, policies and batching belong to the
// engine (rollout.hpp), never to an env.
#pragma once

#include <cstdint>
#include <type_traits>
#include <utility>

#include "simkit/hd.hpp"
#include "simkit/math.hpp"
#include "simkit/rng.hpp"

namespace simkit {

template <class Real>
struct Transition {
  Real reward;
  int32_t terminated;  // 1: natural end of the episode (the engine adds truncation)
};

template <class Env>
constexpr bool kDiscreteActions = std::is_integral_v<typename Env::Action>;

enum class Precision { kFloat32, kFloat64 };

namespace detail {
struct InfoProbe {
  SIMKIT_HD void operator()(const char*, double) const {}
};
}  // namespace detail

template <class Env, class = void>
struct HasInfo : std::false_type {};
template <class Env>
struct HasInfo<Env, std::void_t<decltype(Env::visit_info(std::declval<const typename Env::Params&>(),
                                                         std::declval<const typename Env::State&>(),
                                                         detail::InfoProbe{}))>> : std::true_type {};
template <class Env>
constexpr bool kHasInfo = HasInfo<Env>::value;

}  // namespace simkit
