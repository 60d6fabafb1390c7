// SPDX-License-Identifier: Apache-2.0
// The engine's per-env logic over lane types, written once for the CPU tile loop (SIMD lanes), the
// CPU reference path (scalar lanes) and the CUDA kernels (one thread, scalar lanes): step with
// truncation and episode bookkeeping, reset, the built-in random policy, the per-step rollout
// sequence, and the Gymnasium step-API transition with its three autoreset modes.
#pragma once

#include <cstdint>
#include <type_traits>

#include "simkit/env.hpp"
#include "simkit/soa.hpp"

namespace simkit {

// Settings the engine applies to every env of a batch.
struct EngineParams {
  Seeds seeds;
  uint32_t max_episode_steps = 0;  // truncate after this many steps; 0 = never
};

template <class V>
struct StepOutcome {
  V reward;
  lanes::Mask<V> terminated;
  lanes::Mask<V> truncated;
  SIMKIT_HD lanes::Mask<V> done() const { return terminated | truncated; }
};

// Episodes completed during a rollout, summed over one tile (CPU) or block (CUDA) in a fixed order.
struct EpisodeStats {
  uint64_t episodes = 0;
  uint64_t length_sum = 0;
  double return_sum = 0;   // multi-agent envs: the sum over the env's agents
  uint64_t alive_sum = 0;  // multi-agent envs: agents alive at the episode's end

  SIMKIT_HD void add(const EpisodeStats& o) {
    episodes += o.episodes;
    length_sum += o.length_sum;
    return_sum += o.return_sum;
    alive_sum += o.alive_sum;
  }
  // One ended episode of one env.
  template <class Real>
  SIMKIT_HD void count(uint32_t elapsed, Real episode_return) {
    episodes += 1;
    length_sum += elapsed;
    return_sum += static_cast<double>(episode_return);
  }
};

// An episode's first state, drawn at counter step `step`.
template <class Env, class V>
SIMKIT_HD void draw_reset(const typename Env::Params& p, const EngineParams& e, const lanes::UInt<V>& env,
                          const StepWords<lanes::UInt<V>>& step, typename Env::template StateOf<V>& s) {
  RandomStream<V> rng(e.seeds, env, step);
  Env::reset(p, s, rng);
}

// A reset the caller asks for before step t of the batch's clock: draws from (seed, env, kReset, t).
template <class Env, class V>
SIMKIT_HD void reset_one(const typename Env::Params& p, const EngineParams& e, const lanes::UInt<V>& env, uint64_t t,
                         typename Env::template StateOf<V>& s, lanes::UInt<V>& elapsed, V& episode_return) {
  draw_reset<Env>(p, e, env, step_words<lanes::UInt<V>>(Stream::kReset, t), s);
  elapsed = 0u;
  episode_return = V(0);
}

// The step an autoreset before batch step t draws at: t - elapsed, where the ended episode
// started (later by the batch steps that reset calls took while it ran). It is fixed from the
// episode's first step on, so a CUDA warp can draw its lanes' next episodes ahead of time and
// together (rollout_kernel); each of an env's episodes starts after the previous one's start, so
// no two autoresets of an env draw the same numbers.
template <class U>
SIMKIT_HD StepWords<U> autoreset_step(uint64_t t, const U& elapsed) {
  return step_words_before<U>(Stream::kAutoreset, t, elapsed);
}

// The reset that follows an ended episode before batch step t (in a rollout or a step-API call,
// or pending from one): draws from (seed, env, kAutoreset, autoreset_step(t, elapsed)).
template <class Env, class V>
SIMKIT_HD void autoreset_one(const typename Env::Params& p, const EngineParams& e, const lanes::UInt<V>& env,
                             uint64_t t, typename Env::template StateOf<V>& s, lanes::UInt<V>& elapsed,
                             V& episode_return) {
  draw_reset<Env>(p, e, env, autoreset_step(t, elapsed), s);
  elapsed = 0u;
  episode_return = V(0);
}

// A reset before batch step t outside the step loop: of an env a step-API call left pending, which
// follows its ended episode (autoreset_one), or of one the caller asks for (reset_one).
template <class Env, class V>
SIMKIT_HD void reset_pending_or_asked(bool pending, const typename Env::Params& p, const EngineParams& e,
                                      const lanes::UInt<V>& env, uint64_t t, typename Env::template StateOf<V>& s,
                                      lanes::UInt<V>& elapsed, V& episode_return) {
  if (pending) {
    autoreset_one<Env>(p, e, env, t, s, elapsed, episode_return);
  } else {
    reset_one<Env>(p, e, env, t, s, elapsed, episode_return);
  }
}

// One transition at batch step t. Gymnasium's TimeLimit rule: truncated once the episode has taken
// max_episode_steps steps, ORed with a natural termination on the same step.
// action: ActionOf<Env, V>, or for multi-agent envs the agents' actions (action(a)).
template <class Env, class V, class A>
SIMKIT_HD StepOutcome<V> step_one(const typename Env::Params& p, const EngineParams& e, const lanes::UInt<V>& env,
                                  uint64_t t, typename Env::template StateOf<V>& s, lanes::UInt<V>& elapsed,
                                  V& episode_return, A& action) {
  RandomStream<V> rng(e.seeds, env, Stream::kStep, t);
  const Transition<V> tr = Env::step(p, s, action, rng);
  elapsed += 1u;
  episode_return += tr.reward;
  // One signed compare, no branch: both counts stay below 2^31 (SimConfig and set_elapsed check
  // the limit), and "never" compares against the largest int32.
  const int32_t last_step = e.max_episode_steps != 0 ? static_cast<int32_t>(e.max_episode_steps - 1) : INT32_MAX;
  const lanes::Mask<V> truncated = lanes::cast<int32_t>(elapsed) > lanes::Int<V>(last_step);
  return {tr.reward, tr.terminated, truncated};
}

// The built-in policy: actions uniform over the action space, drawn from
// (seed, env, kPolicy, t / kStepsPerBlock). Discrete spaces of 2^k actions use k bits per step
// (exactly uniform, 128 / k steps per Philox block); others use one 32-bit word per step.
template <class Env, bool kDiscrete = Env::kDiscrete>
struct RandomPolicy;

namespace detail {
constexpr int log2_if_pow2(int n) {
  int bits = 0;
  while ((1 << bits) < n) ++bits;
  // k bits per step only where they tile a 32-bit word: 8 actions' 3 bits would straddle words
  return (1 << bits) == n && bits > 0 && 32 % bits == 0 ? bits : 32;
}
// w.w[i] without a dynamic index, which would move the words to local memory on the GPU.
template <class U>
SIMKIT_HD U pick_word(const Words4<U>& w, uint32_t i) {
  return i == 0 ? w.w[0] : (i == 1 ? w.w[1] : (i == 2 ? w.w[2] : w.w[3]));
}
}  // namespace detail

template <class Env>
struct RandomPolicy<Env, true> {
  static constexpr int kBits = detail::log2_if_pow2(Env::kNumActions);
  static constexpr uint32_t kStepsPerBlock = 128 / kBits;
  static constexpr uint32_t kStepsPerWord = 32 / kBits;  // word_index changes every kStepsPerWord steps

  template <class U>
  SIMKIT_HD static Words4<U> draw(const SeedKey<U>& key, const U& env, uint64_t t) {
    return philox_block(key, env, Stream::kPolicy, t / kStepsPerBlock, 0);
  }
  // Which of the block's four words step t reads: the same for every env.
  SIMKIT_HD static uint32_t word_index(uint64_t t) { return static_cast<uint32_t>(t % kStepsPerBlock) * kBits >> 5; }
  template <class V>
  SIMKIT_HD static lanes::Int<V> action_from_word(const lanes::UInt<V>& word, uint64_t t) {
    if constexpr (kBits == 32) {
      return lanes::cast<int32_t>(lanes::mul_high(word, lanes::UInt<V>(Env::kNumActions)));
    } else {
      const int bit = static_cast<int>(static_cast<uint32_t>(t % kStepsPerBlock) * kBits) & 31;
      return lanes::cast<int32_t>((word >> bit) & ((1u << kBits) - 1));
    }
  }
};

template <class Env>
struct RandomPolicy<Env, false> {
  static constexpr uint32_t kStepsPerBlock = 4;
  static constexpr uint32_t kStepsPerWord = 1;

  template <class U>
  SIMKIT_HD static Words4<U> draw(const SeedKey<U>& key, const U& env, uint64_t t) {
    return philox_block(key, env, Stream::kPolicy, t / kStepsPerBlock, 0);
  }
  SIMKIT_HD static uint32_t word_index(uint64_t t) { return static_cast<uint32_t>(t % kStepsPerBlock); }
  template <class V>
  SIMKIT_HD static V action_from_word(const lanes::UInt<V>& word, uint64_t) {
    using Real = typename Env::Real;
    return V(static_cast<Real>(Env::kActionLow)) +
           V(static_cast<Real>(Env::kActionHigh - Env::kActionLow)) * lanes::cast<Real>(u01_float(word));
  }
};

// Multi-agent envs: agent a's action at batch step t is word a % 4 of Philox block a / 4 of
// (seed, env, kPolicy, t), mapped to [0, kNumActions) by multiply-shift; asked in agent order, so
// one block serves four agents.
template <class Env, class V>
struct AgentPolicy {
  using U = lanes::UInt<V>;
  SeedKey<U> key;
  U env;
  uint64_t t;
  int block = -1;
  Words4<U> words{};

  SIMKIT_HD lanes::Int<V> operator()(int a) {
    if (a / 4 != block) {
      block = a / 4;
      words = philox_block(key, env, Stream::kPolicy, t, static_cast<uint32_t>(block));
    }
    return lanes::cast<int32_t>(lanes::mul_high(detail::pick_word(words, static_cast<uint32_t>(a % 4)),
                                                U(static_cast<uint32_t>(Env::kNumActions))));
  }
};

// Multi-agent envs: the step-API caller's actions, row env * agents + a; lanes past the batch's
// last env (padding) repeat its actions.
template <class V>
struct AgentActions {
  const int32_t* actions;
  lanes::Int<V> first;  // env row * agents, per lane

  SIMKIT_HD lanes::Int<V> operator()(int a) const { return lanes::gather(actions, first + a); }
};

// 0, 1, ..., W - 1: the lane ids a multi-agent env's observation grid is interleaved by.
template <class V>
SIMKIT_HD lanes::Int<V> lane_ids() {
  if constexpr (lanes::kWidth<V> == 1) {
    return lanes::Int<V>(0);
  } else {
    alignas(64) int32_t ids[lanes::kWidth<V>];
    for (int l = 0; l < lanes::kWidth<V>; ++l) ids[l] = l;
    return lanes::load<lanes::Int<V>>(ids);
  }
}

// What a rollout step records: nothing (throughput), or its trajectory (see TrajectoryChunk).
// Single-agent envs: before(state, action), after(outcome). Multi-agent envs: observe_agents(state)
// before the step, action(a, lanes) as the step asks for agent a's action, after_agents(state,
// outcome).
struct NoRecord {
  template <class S, class A>
  SIMKIT_HD void before(const S&, const A&) {}
  template <class O>
  SIMKIT_HD void after(const O&) {}
  template <class S>
  SIMKIT_HD void observe_agents(const S&) {}
  template <class A>
  SIMKIT_HD void action(int, const A&) {}
  template <class S, class O>
  SIMKIT_HD void after_agents(const S&, const O&) {}
};

// Multi-agent envs: the policy's actions, each also handed to the record as the step asks for it.
template <class Policy, class Record>
struct RecordedPolicy {
  Policy& policy;
  Record& record;
  SIMKIT_HD auto operator()(int a) {
    const auto act = policy(a);
    record.action(a, act);
    return act;
  }
};

// The per-step sequence of a rollout, for the envs of lanes `env` at batch step t: the policy's
// action from this step's word, the record of what the step saw, the transition with truncation and
// bookkeeping. Returns the lanes whose episode ended; the caller counts those (EpisodeStats::count)
// and resets them with autoreset_one at t + 1 before their next step.
template <class Env, class V, class Record>
SIMKIT_HD lanes::Mask<V> rollout_step(const typename Env::Params& p, const EngineParams& e, const lanes::UInt<V>& env,
                                      uint64_t t, const lanes::UInt<V>& word, typename Env::template StateOf<V>& s,
                                      lanes::UInt<V>& elapsed, V& episode_return, Record& record) {
  if constexpr (kMultiAgent<Env>) {
    AgentPolicy<Env, V> policy{seed_key(e.seeds, env), env, t};
    RecordedPolicy<AgentPolicy<Env, V>, Record> actions{policy, record};
    record.observe_agents(s);
    const StepOutcome<V> o = step_one<Env>(p, e, env, t, s, elapsed, episode_return, actions);
    record.after_agents(s, o);
    return o.done();
  } else {
    const ActionOf<Env, V> a = RandomPolicy<Env>::template action_from_word<V>(word, t);
    record.before(s, a);
    const StepOutcome<V> o = step_one<Env>(p, e, env, t, s, elapsed, episode_return, a);
    record.after(o);
    return o.done();
  }
}

// ---- Gymnasium step API -------------------------------------------------------------------------

enum class AutoresetMode : int { kNextStep = 0, kSameStep = 1, kDisabled = 2 };

// The caller's step-API buffers, env-major (obs row i at obs + i * kObsDim). final_obs/has_final/
// final_info: same_step mode only; info and final_info: num_envs x n_info, for envs with visit_info.
template <class Env>
struct StepBuffersView {
  typename Env::Obs* obs;
  typename Env::Real* reward;
  uint8_t* terminated;
  uint8_t* truncated;
  typename Env::Obs* final_obs;
  uint8_t* has_final;
  double* info;
  int n_info;
  double* final_info;  // may be null: then the ended episodes' info is not kept
  // Multi-agent envs: rows of the batch (lanes at or past it are padding and write nothing) and the
  // observation grid scratch (Env::kGridCells x lanes zero bytes).
  int64_t num_envs = 0;
  int8_t* grid = nullptr;
};

// Which buffer row each lane writes: consecutive rows from `first` (a vector of neighbouring envs),
// or the rows listed in `index` (envs collected from across a block; a list padded by repeating
// its last entry writes that row twice, with the same values).
struct ContiguousRows {
  size_t first;
  SIMKIT_HD size_t operator()(int lane) const { return first + static_cast<size_t>(lane); }
};
struct ListedRows {
  const uint32_t* index;
  SIMKIT_HD size_t operator()(int lane) const { return index[lane]; }
};

template <class V, class Rows>
SIMKIT_HD void put(const V& v, lanes::Scalar<V>* base, const Rows& rows) {
  if constexpr (std::is_same_v<Rows, ContiguousRows>) {
    lanes::store(v, base + rows.first);
  } else {
    lanes::scatter(v, base, rows.index);
  }
}
template <class V, class Rows>
SIMKIT_HD void put_flags(const lanes::Mask<V>& m, uint8_t* base, const Rows& rows) {
  if constexpr (std::is_same_v<Rows, ContiguousRows>) {
    lanes::store_flags(m, base + rows.first);
  } else {
    const uint32_t bits = lanes::bits(m);
    for (int l = 0; l < lanes::kWidth<V>; ++l) base[rows(l)] = static_cast<uint8_t>((bits >> l) & 1u);
  }
}
// The env's observation of every lane into its row of obs.
template <class Env, class V, class Rows>
SIMKIT_HD void put_obs(const typename Env::Params& p, const typename Env::template StateOf<V>& s,
                       typename Env::Obs* obs, const Rows& rows) {
  ObsOf<Env, V> cols[Env::kObsDim];
  Env::observe(p, s, cols);
  if constexpr (std::is_same_v<Rows, ContiguousRows>) {
    lanes::store_rows(cols, Env::kObsDim, obs + rows.first * Env::kObsDim);
  } else {
    for (int d = 0; d < Env::kObsDim; ++d) {
      typename Env::Obs tmp[lanes::kWidth<V>];
      lanes::store(cols[d], tmp);
      for (int l = 0; l < lanes::kWidth<V>; ++l) obs[rows(l) * Env::kObsDim + d] = tmp[l];
    }
  }
}
// ---- Multi-agent outputs: rows env * agents + a ----------------------------------------------

// Lane l writes when bit l of `write` is set and its row is inside the batch.
template <class V, class Rows>
SIMKIT_HD uint32_t rows_inside(uint32_t write, const Rows& rows, int64_t num_envs) {
  uint32_t out = 0;
  for (int l = 0; l < lanes::kWidth<V>; ++l) {
    if (((write >> l) & 1u) && static_cast<int64_t>(rows(l)) < num_envs) out |= 1u << l;
  }
  return out;
}
// v (agent a's lanes) into base[row * agents + a] of the lanes in `write`.
template <class V, class T>
SIMKIT_HD void put_agent(const V& v, T* base, int agents, int a, const size_t* row, uint32_t write) {
  lanes::Scalar<V> tmp[lanes::kWidth<V>];
  lanes::store(v, tmp);
  for (int l = 0; l < lanes::kWidth<V>; ++l) {
    if ((write >> l) & 1u) base[row[l] * static_cast<size_t>(agents) + static_cast<size_t>(a)] = static_cast<T>(tmp[l]);
  }
}
// Every agent's reward and flags (o null: reward 0 and both flags false, a reset step) into the
// rows of reward, terminated and truncated, for the lanes in `write`.
template <class Env, class V, class Rows>
SIMKIT_HD void put_agent_outcomes(const typename Env::Params& p, const typename Env::template StateOf<V>& s,
                                  const StepOutcome<V>* o, typename Env::Real* reward, uint8_t* terminated,
                                  uint8_t* truncated, const Rows& rows, uint32_t write) {
  const int agents = agent_count<Env>(p);
  size_t row[lanes::kWidth<V>];
  for (int l = 0; l < lanes::kWidth<V>; ++l) row[l] = rows(l);
  using I = lanes::Int<V>;
  for (int a = 0; a < agents; ++a) {
    if (o) {
      put_agent(Env::agent_reward(s, a), reward, agents, a, row, write);
      put_agent(lanes::select(Env::agent_terminated(s, a) | o->terminated, I(1), I(0)), terminated, agents, a, row, write);
      put_agent(lanes::select(o->truncated, I(1), I(0)), truncated, agents, a, row, write);
    } else {
      put_agent(V(0), reward, agents, a, row, write);
      put_agent(I(0), terminated, agents, a, row, write);
      put_agent(I(0), truncated, agents, a, row, write);
    }
  }
}
// One flag per agent row (has_final).
template <class Env, class V, class Rows>
SIMKIT_HD void put_agent_flags(const typename Env::Params& p, const lanes::Mask<V>& m, uint8_t* base,
                               const Rows& rows, uint32_t write) {
  const int agents = agent_count<Env>(p);
  const uint32_t bits = lanes::bits(m);
  for (int l = 0; l < lanes::kWidth<V>; ++l) {
    if (!((write >> l) & 1u)) continue;
    for (int a = 0; a < agents; ++a) base[rows(l) * static_cast<size_t>(agents) + static_cast<size_t>(a)] = (bits >> l) & 1u;
  }
}
// Every agent's observation into obs, for the lanes in `write`.
template <class Env, class V, class Rows>
SIMKIT_HD void put_agent_obs(const typename Env::Params& p, const typename Env::template StateOf<V>& s,
                             typename Env::Obs* obs, int8_t* grid, const Rows& rows, uint32_t write) {
  constexpr int W = lanes::kWidth<V>;
  const size_t agents = static_cast<size_t>(agent_count<Env>(p));
  Env::observe(p, s, grid, lane_ids<V>(), [&](int a, const ObsOf<Env, V>* cols) {
    // Lane by lane into the written rows only: one valid lane (a single world) costs one store per
    // value, not a transpose of every lane.
    typename Env::Obs* dst[W];
    int n = 0;
    int lane[W];
    for (int l = 0; l < W; ++l) {
      if (!((write >> l) & 1u)) continue;
      lane[n] = l;
      dst[n++] = obs + (rows(l) * agents + static_cast<size_t>(a)) * Env::kObsDim;
    }
    for (int d = 0; d < Env::kObsDim; ++d) {
      typename Env::Obs tmp[W];
      lanes::store(cols[d], tmp);
      for (int j = 0; j < n; ++j) dst[j][d] = tmp[lane[j]];
    }
  });
}

// The env's visit_info values of every lane into its row of info (num_envs x n_info).
template <class Env, class V, class Rows>
SIMKIT_HD void put_info(const typename Env::Params& p, const typename Env::template StateOf<V>& s, double* info,
                        int n_info, const Rows& rows) {
  int k = 0;
  Env::visit_info(p, s, [&](const char*, const auto& value) {
    using L = std::remove_cv_t<std::remove_reference_t<decltype(value)>>;
    lanes::Scalar<L> v[lanes::kWidth<L>];
    lanes::store(value, v);
    for (int l = 0; l < lanes::kWidth<L>; ++l) info[rows(l) * static_cast<size_t>(n_info) + k] = static_cast<double>(v[l]);
    ++k;
  });
}

// One step-API call for the envs of a set of lanes, with Gymnasium's autoreset semantics:
// next_step: the call after an episode ended resets that env, ignores its action and returns the
//            reset observation and info with reward 0 and both flags false;
// same_step: an ended episode's last observation and info go to final_obs and final_info, and the env
//            resets in the same call, returning the reset observation and info;
// disabled:  ended envs stay as they are until the caller resets them.
// In two parts: api_step_transition runs the transition for every lane and writes its outputs, and
// returns the lanes that need api_step_finish (a reset); the CPU collects those lanes from a block
// and finishes them together, a CUDA thread finishes its env when it needs it. needs_reset: the
// lanes an earlier call left waiting for a reset (next_step and disabled modes), updated here.
template <class Env, AutoresetMode kMode, class V>
SIMKIT_HD lanes::Mask<V> api_step_transition(const typename Env::Params& p, const EngineParams& e,
                                             const lanes::UInt<V>& env, uint64_t t,
                                             typename Env::template StateOf<V>& s, lanes::UInt<V>& elapsed,
                                             V& episode_return, lanes::Mask<V>& needs_reset,
                                             const ActionOf<Env, V>& action, const StepBuffersView<Env>& out,
                                             const ContiguousRows& rows) {
  const StepOutcome<V> o = step_one<Env>(p, e, env, t, s, elapsed, episode_return, action);
  if constexpr (kHasInfo<Env>) put_info<Env>(p, s, out.info, out.n_info, rows);
  put(o.reward, out.reward, rows);
  put_flags<V>(o.terminated, out.terminated, rows);
  put_flags<V>(o.truncated, out.truncated, rows);
  put_obs<Env>(p, s, out.obs, rows);
  if constexpr (kMode == AutoresetMode::kSameStep) {
    put_flags<V>(o.done(), out.has_final, rows);
    put_obs<Env>(p, s, out.final_obs, rows);  // meaningful where has_final is set
    if constexpr (kHasInfo<Env>) {
      if (out.final_info) put_info<Env>(p, s, out.final_info, out.n_info, rows);
    }
    return o.done();
  } else if constexpr (kMode == AutoresetMode::kNextStep) {
    const lanes::Mask<V> pending = needs_reset;
    needs_reset = (!pending) & o.done();
    return pending;
  } else {
    needs_reset = o.done();
    return lanes::Mask<V>(false);
  }
}

// The reset half, for lanes that all need it.
template <class Env, AutoresetMode kMode, class V, class Rows>
SIMKIT_HD void api_step_finish(const typename Env::Params& p, const EngineParams& e, const lanes::UInt<V>& env,
                               uint64_t t, typename Env::template StateOf<V>& s, lanes::UInt<V>& elapsed,
                               V& episode_return, const StepBuffersView<Env>& out, const Rows& rows) {
  // same_step: the next episode starts before step t + 1; next_step: this call is its reset step.
  autoreset_one<Env>(p, e, env, kMode == AutoresetMode::kSameStep ? t + 1 : t, s, elapsed, episode_return);
  put_obs<Env>(p, s, out.obs, rows);
  if constexpr (kHasInfo<Env>) put_info<Env>(p, s, out.info, out.n_info, rows);  // the new board's action mask
  if constexpr (kMode == AutoresetMode::kNextStep) {
    put(V(0), out.reward, rows);
    put_flags<V>(lanes::Mask<V>(false), out.terminated, rows);
    put_flags<V>(lanes::Mask<V>(false), out.truncated, rows);
  }
}

// Multi-agent envs: api_step_transition with every output per agent row, written for the lanes
// whose rows are inside the batch.
template <class Env, AutoresetMode kMode, class V, class Rows>
SIMKIT_HD lanes::Mask<V> api_step_transition_agents(const typename Env::Params& p, const EngineParams& e,
                                                    const lanes::UInt<V>& env, uint64_t t,
                                                    typename Env::template StateOf<V>& s, lanes::UInt<V>& elapsed,
                                                    V& episode_return, lanes::Mask<V>& needs_reset,
                                                    const AgentActions<V>& action, const StepBuffersView<Env>& out,
                                                    const Rows& rows) {
  const StepOutcome<V> o = step_one<Env>(p, e, env, t, s, elapsed, episode_return, action);
  const uint32_t write = rows_inside<V>(~0u, rows, out.num_envs);
  put_agent_outcomes<Env>(p, s, &o, out.reward, out.terminated, out.truncated, rows, write);
  put_agent_obs<Env>(p, s, out.obs, out.grid, rows, write);
  if constexpr (kMode == AutoresetMode::kSameStep) {
    put_agent_flags<Env, V>(p, o.done(), out.has_final, rows, write);
    put_agent_obs<Env>(p, s, out.final_obs, out.grid, rows, write & lanes::bits(o.done()));
    return o.done();
  } else if constexpr (kMode == AutoresetMode::kNextStep) {
    const lanes::Mask<V> pending = needs_reset;
    needs_reset = (!pending) & o.done();
    return pending;
  } else {
    needs_reset = o.done();
    return lanes::Mask<V>(false);
  }
}

// Multi-agent envs: the reset half, for lanes that all need it.
template <class Env, AutoresetMode kMode, class V, class Rows>
SIMKIT_HD void api_step_finish_agents(const typename Env::Params& p, const EngineParams& e, const lanes::UInt<V>& env,
                                      uint64_t t, typename Env::template StateOf<V>& s, lanes::UInt<V>& elapsed,
                                      V& episode_return, const StepBuffersView<Env>& out, const Rows& rows) {
  autoreset_one<Env>(p, e, env, kMode == AutoresetMode::kSameStep ? t + 1 : t, s, elapsed, episode_return);
  const uint32_t write = rows_inside<V>(~0u, rows, out.num_envs);
  put_agent_obs<Env>(p, s, out.obs, out.grid, rows, write);
  if constexpr (kMode == AutoresetMode::kNextStep) {
    put_agent_outcomes<Env, V>(p, s, nullptr, out.reward, out.terminated, out.truncated, rows, write);
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
