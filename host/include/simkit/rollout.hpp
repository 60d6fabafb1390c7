// SPDX-License-Identifier: Apache-2.0
// The engine's per-env logic, written once for the CPU thread loop and the CUDA kernel:
// step (with truncation and episode bookkeeping), reset, the built-in random policy, and the
// Gymnasium step-API transition with its three autoreset modes.
#pragma once

#include <cstdint>
#include <type_traits>

#include "simkit/env.hpp"

namespace simkit {

// Settings the engine applies to every env of a batch.
struct EngineParams {
  uint64_t seed = 0;
  const uint64_t* env_seeds = nullptr;  // per-env seeds by global env index (reset(seed=[...])), else null
  uint32_t max_episode_steps = 0;       // truncate after this many steps; 0 = never

  SIMKIT_HD uint64_t seed_for(uint32_t env) const { return env_seeds ? env_seeds[env] : seed; }
};

// Per-env engine data, structure of arrays, owned by a backend.
template <class Env>
struct BatchView {
  typename Env::State* state;
  uint32_t* elapsed;                    // steps taken in the current episode
  typename Env::Real* episode_return;  // reward summed over the current episode
};

template <class Real>
struct StepOutcome {
  Real reward;
  int32_t terminated;  // 0/1: int32_t, as bools would keep the struct in memory and the loop scalar
  int32_t truncated;
  SIMKIT_HD int32_t done() const { return terminated | truncated; }
};

// Episodes completed during a rollout. Integer fields are exact; return_sum is summed per tile or
// block in a fixed order, so it does not depend on the thread count.
struct EpisodeStats {
  uint64_t episodes = 0;
  uint64_t length_sum = 0;
  double return_sum = 0;

  SIMKIT_HD void add(const EpisodeStats& o) {
    episodes += o.episodes;
    length_sum += o.length_sum;
    return_sum += o.return_sum;
  }
};

// The reset that happens before step t of the batch's clock draws from (seed, env, kReset, t).
template <class Env>
SIMKIT_HD void reset_one(const typename Env::Params& p, const EngineParams& e, uint32_t env, uint64_t t,
                         typename Env::State& s, uint32_t& elapsed, typename Env::Real& episode_return) {
  RandomStream rng(e.env_seeds, e.seed, env, Stream::kReset, t);
  Env::reset(p, s, rng);
  elapsed = 0;
  episode_return = 0;
}

// One transition of one env at batch step t. Gymnasium's TimeLimit rule: truncated once the episode
// has taken max_episode_steps steps, ORed with a natural termination on the same step.
template <class Env>
SIMKIT_HD StepOutcome<typename Env::Real> step_one(const typename Env::Params& p, const EngineParams& e, uint32_t env,
                                                   uint64_t t, typename Env::State& s, uint32_t& elapsed,
                                                   typename Env::Real& episode_return,
                                                   typename Env::Action action) {
  RandomStream rng(e.env_seeds, e.seed, env, Stream::kStep, t);
  const Transition<typename Env::Real> tr = Env::step(p, s, action, rng);
  elapsed += 1;
  episode_return += tr.reward;
  const int32_t truncated = (e.max_episode_steps != 0) & (elapsed >= e.max_episode_steps);
  return {tr.reward, tr.terminated, truncated};
}

template <class Real>
SIMKIT_HD void count_episode(EpisodeStats& stats, bool done, uint32_t elapsed, Real episode_return) {
  stats.episodes += done ? 1 : 0;
  stats.length_sum += done ? elapsed : 0;
  stats.return_sum += done ? static_cast<double>(episode_return) : 0.0;
}

// The built-in policy: actions uniform over the action space, drawn on the device from
// (seed, env, kPolicy, t / kStepsPerBlock). Discrete spaces of 2^k actions use k bits per step
// (exactly uniform, 128 / k steps per Philox block); others use 32 bits per step.
template <class Env, bool kDiscrete = kDiscreteActions<Env>>
struct RandomPolicy;

namespace detail {
constexpr int log2_if_pow2(int n) {
  int bits = 0;
  while ((1 << bits) < n) ++bits;
  return (1 << bits) == n && bits > 0 ? bits : 32;
}
SIMKIT_HD uint32_t pick_word(const Words4& w, uint32_t i) {
  // Ternaries rather than w.w[i]: a dynamic index would move the words to local memory on the GPU.
  return i == 0 ? w.w[0] : (i == 1 ? w.w[1] : (i == 2 ? w.w[2] : w.w[3]));
}
}  // namespace detail

template <class Env>
struct RandomPolicy<Env, true> {
  static constexpr int kBits = detail::log2_if_pow2(Env::kNumActions);
  static constexpr uint32_t kStepsPerBlock = 128 / kBits;

  SIMKIT_HD static Words4 draw(uint64_t seed, uint32_t env, uint64_t t) {
    return philox_block(seed, env, Stream::kPolicy, t / kStepsPerBlock, 0);
  }
  // Which of the block's four words step t reads: the same for every env, so the CPU picks the word
  // row outside its loop over envs (a per-lane select on it would not vectorize).
  SIMKIT_HD static uint32_t word_index(uint64_t t) { return static_cast<uint32_t>(t % kStepsPerBlock) * kBits >> 5; }
  SIMKIT_HD static typename Env::Action action_from_word(uint32_t word, uint64_t t) {
    if constexpr (kBits == 32) {
      return static_cast<typename Env::Action>((static_cast<uint64_t>(word) * Env::kNumActions) >> 32);
    } else {
      const uint32_t bit = static_cast<uint32_t>(t % kStepsPerBlock) * kBits;
      return static_cast<typename Env::Action>((word >> (bit & 31)) & ((1u << kBits) - 1));
    }
  }
  SIMKIT_HD static typename Env::Action action(const Words4& w, uint64_t t) {
    return action_from_word(detail::pick_word(w, word_index(t)), t);
  }
};

template <class Env>
struct RandomPolicy<Env, false> {
  static constexpr uint32_t kStepsPerBlock = 4;

  SIMKIT_HD static Words4 draw(uint64_t seed, uint32_t env, uint64_t t) {
    return philox_block(seed, env, Stream::kPolicy, t / kStepsPerBlock, 0);
  }
  SIMKIT_HD static uint32_t word_index(uint64_t t) { return static_cast<uint32_t>(t % kStepsPerBlock); }
  SIMKIT_HD static typename Env::Action action_from_word(uint32_t word, uint64_t) {
    using Action = typename Env::Action;
    return static_cast<Action>(Env::kActionLow) +
           static_cast<Action>(Env::kActionHigh - Env::kActionLow) * static_cast<Action>(u01_float(word));
  }
  SIMKIT_HD static typename Env::Action action(const Words4& w, uint64_t t) {
    return action_from_word(detail::pick_word(w, word_index(t)), t);
  }
};

// ---- Gymnasium step API -------------------------------------------------------------------------

enum class AutoresetMode : int { kNextStep = 0, kSameStep = 1, kDisabled = 2 };

// Where one env's step-API results go. final_obs/has_final are used in same_step mode only.
template <class Env>
struct StepSlot {
  typename Env::Obs* obs;
  typename Env::Real* reward;
  uint8_t* terminated;
  uint8_t* truncated;
  typename Env::Obs* final_obs;
  uint8_t* has_final;
  double* info;  // the env's visit_info values (required when the env has info fields)
};

// One env's step through the public API, with Gymnasium's autoreset semantics:
// next_step: the call after an episode ended resets that env, ignores its action and returns the
//            reset observation with reward 0 and both flags false;
// same_step: an ended episode's last observation goes to final_obs and the env resets in the same call;
// disabled:  ended envs stay as they are until the caller resets them.
//
// It comes in two parts so the CPU can vectorize the first across envs: api_step_transition runs the
// transition and writes its outputs for every env (also for one whose pending reset will overwrite
// them), without branches; api_step_finish then handles the few envs that reset. api_step_one is the
// two together, for one env.

// Returns whether this env needs api_step_finish. kMode is a template parameter so the CPU loop over
// envs has no branch on it; info is written when the env has info fields (out.info must then be set).
template <class Env, AutoresetMode kMode>
SIMKIT_HD bool api_step_transition(const typename Env::Params& p, const EngineParams& e, uint32_t env, uint64_t t,
                                   typename Env::State& s, uint32_t& elapsed, typename Env::Real& episode_return,
                                   uint8_t& needs_reset, typename Env::Action action, const StepSlot<Env>& out) {
  const StepOutcome<typename Env::Real> o = step_one<Env>(p, e, env, t, s, elapsed, episode_return, action);
  if constexpr (kHasInfo<Env>) {
    int k = 0;
    Env::visit_info(p, s, [&](const char*, double v) { out.info[k++] = v; });
  }
  *out.reward = o.reward;
  *out.terminated = static_cast<uint8_t>(o.terminated);
  *out.truncated = static_cast<uint8_t>(o.truncated);
  Env::observe(p, s, out.obs);
  if constexpr (kMode == AutoresetMode::kSameStep) {
    *out.has_final = static_cast<uint8_t>(o.done());
    Env::observe(p, s, out.final_obs);  // meaningful where has_final is set
    return o.done() != 0;
  } else if constexpr (kMode == AutoresetMode::kNextStep) {
    const int32_t pending = needs_reset;
    needs_reset = static_cast<uint8_t>(pending ? 0 : o.done());
    return pending != 0;
  } else {
    needs_reset = static_cast<uint8_t>(o.done());
    return false;
  }
}

template <class Env, AutoresetMode kMode>
SIMKIT_HD void api_step_finish(const typename Env::Params& p, const EngineParams& e, uint32_t env, uint64_t t,
                               typename Env::State& s, uint32_t& elapsed, typename Env::Real& episode_return,
                               const StepSlot<Env>& out) {
  if constexpr (kMode == AutoresetMode::kSameStep) {
    reset_one<Env>(p, e, env, t + 1, s, elapsed, episode_return);
    Env::observe(p, s, out.obs);
  } else {
    // next_step: this call is the reset step of an episode that ended in the previous call.
    reset_one<Env>(p, e, env, t, s, elapsed, episode_return);
    Env::observe(p, s, out.obs);
    if constexpr (kHasInfo<Env>) {
      int k = 0;
      Env::visit_info(p, s, [&](const char*, double) { out.info[k++] = 0; });
    }
    *out.reward = 0;
    *out.terminated = 0;
    *out.truncated = 0;
  }
}

template <class Env, AutoresetMode kMode>
SIMKIT_HD void api_step_one(const typename Env::Params& p, const EngineParams& e, uint32_t env, uint64_t t,
                            typename Env::State& s, uint32_t& elapsed, typename Env::Real& episode_return,
                            uint8_t& needs_reset, typename Env::Action action, const StepSlot<Env>& out) {
  if (api_step_transition<Env, kMode>(p, e, env, t, s, elapsed, episode_return, needs_reset, action, out)) {
    api_step_finish<Env, kMode>(p, e, env, t, s, elapsed, episode_return, out);
  }
}

// Calls f(std::integral_constant<AutoresetMode, mode>{}) so callers instantiate one loop per mode.
template <class F>
SIMKIT_HD void with_autoreset_mode(AutoresetMode mode, F&& f) {
  switch (mode) {
    case AutoresetMode::kNextStep:
      f(std::integral_constant<AutoresetMode, AutoresetMode::kNextStep>{});
      break;
    case AutoresetMode::kSameStep:
      f(std::integral_constant<AutoresetMode, AutoresetMode::kSameStep>{});
      break;
    case AutoresetMode::kDisabled:
      f(std::integral_constant<AutoresetMode, AutoresetMode::kDisabled>{});
      break;
  }
}

}  // namespace simkit
