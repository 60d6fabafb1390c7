// SPDX-License-Identifier: Apache-2.0
// The CPU kernels over one lane type V (Real for the scalar target, a SIMD batch of W envs for the
// others): a tile of the throughput/trajectory rollout, a block of a step-API call, and resets.
// Compiled once per SIMD target and precision (cpu/target.cpp); the simulator (cpu_backend.hpp)
// picks a target's table of these functions at run time.
//
// Layout: state in structure-of-arrays columns padded to a multiple of kTile envs, so every vector
// load and store of a tile is in bounds; the padding lanes are stepped like real ones and never
// counted or reported.
#pragma once

#include <cstdint>
#include <array>
#include <cstring>
#include <type_traits>
#include <vector>

#include "cpu/kernel_table.hpp"
#include "simkit/rollout.hpp"

namespace simkit::cpu {
// Internal linkage: each target's unit has its own copy of everything here, so the linker cannot
// merge one compiled for a wider ISA with the scalar unit's (tests/cpp/test_simd.cpp checks).
namespace {

template <class Env, class V>
struct TrajectoryRecord {
  static constexpr int W = lanes::kWidth<V>;
  const typename Env::Params& p;
  const TrajectoryOut<Env>& out;
  size_t slot;  // k x num_envs + env: the first lane's entry of this chunk step
  int valid;    // lanes that are envs of the batch (the rest pad the last tile and are not recorded)

  template <class S, class A>
  void before(const S& s, const A& a) {
    if (W == 1 || valid == W) {
      put_obs<Env>(p, s, out.obs, ContiguousRows{slot});
      put(a, out.actions, ContiguousRows{slot});
      return;
    }
    typename Env::Obs obs[W * Env::kObsDim];
    ActionScalar<Env> actions[W];
    put_obs<Env>(p, s, obs, ContiguousRows{0});
    put(a, actions, ContiguousRows{0});
    std::memcpy(out.obs + slot * Env::kObsDim, obs, sizeof(obs[0]) * Env::kObsDim * static_cast<size_t>(valid));
    std::memcpy(out.actions + slot, actions, sizeof(actions[0]) * static_cast<size_t>(valid));
  }
  template <class O>
  void after(const O& o) {
    if (W == 1 || valid == W) {
      put(o.reward, out.reward, ContiguousRows{slot});
      put_flags<V>(o.terminated, out.terminated, ContiguousRows{slot});
      put_flags<V>(o.truncated, out.truncated, ContiguousRows{slot});
      return;
    }
    typename Env::Real reward[W];
    uint8_t terminated[W], truncated[W];
    put(o.reward, reward, ContiguousRows{0});
    put_flags<V>(o.terminated, terminated, ContiguousRows{0});
    put_flags<V>(o.truncated, truncated, ContiguousRows{0});
    std::memcpy(out.reward + slot, reward, sizeof(reward[0]) * static_cast<size_t>(valid));
    std::memcpy(out.terminated + slot, terminated, static_cast<size_t>(valid));
    std::memcpy(out.truncated + slot, truncated, static_cast<size_t>(valid));
  }

  // Multi-agent envs: rows (k x num_envs + env) x agents + a, written for the valid lanes only.
  int8_t* grid = nullptr;  // the tile's observation grid scratch (Env::kGridCells x W zero bytes)
  uint32_t valid_lanes() const { return valid == W ? ~0u : (1u << valid) - 1u; }
  template <class S>
  void observe_agents(const S& s) {
    put_agent_obs<Env>(p, s, out.obs, grid, ContiguousRows{slot}, valid_lanes());
  }
  template <class A>
  void action(int a, const A& act) {
    size_t row[W];
    for (int l = 0; l < W; ++l) row[l] = slot + static_cast<size_t>(l);
    put_agent(act, out.actions, agent_count<Env>(p), a, row, valid_lanes());
  }
  template <class S, class O>
  void after_agents(const S& s, const O& o) {
    put_agent_outcomes<Env>(p, s, &o, out.reward, out.terminated, out.truncated, ContiguousRows{slot}, valid_lanes());
  }
};

// The lanes of `bits` (bit l: lane l) as offsets first + l, appended to list[m...]; returns the new m.
inline int append_lanes(uint32_t bits, uint32_t first, uint32_t* list, int m) {
  for (; bits != 0; bits &= bits - 1) list[m++] = first + static_cast<uint32_t>(__builtin_ctz(bits));
  return m;
}

// Pads list[0, m) with copies of its last entry up to a multiple of w (a repeated lane redoes the
// same work on the same env). m must be positive.
inline int pad_list(uint32_t* list, int m, int w) {
  const int padded = (m + w - 1) / w * w;
  for (int j = m; j < padded; ++j) list[j] = list[m - 1];
  return padded;
}

// State lanes into the listed envs' columns.
template <class Env, class V>
void put_state(const StateColumns<Env>& cols, const ListedRows& rows, const typename Env::template StateOf<V>& s) {
  size_t offset = 0;
  StateColumns<Env>::visit(s, cols.agents, [&](const char*, const auto& field) {
    using L = std::remove_cv_t<std::remove_reference_t<decltype(field)>>;
    using T = lanes::Scalar<L>;
    put(field, reinterpret_cast<T*>(cols.base + offset), rows);
    offset += sizeof(T) * cols.capacity;
  });
}

// The listed envs (rows of the batch), whose episodes ended, autoreset before batch step t.
template <class Env, class V>
void autoreset_listed(const typename Env::Params& p, const EngineParams& e, const BatchView<Env>& v,
                      uint64_t t, const uint32_t* list, int padded) {
  using U = lanes::UInt<V>;
  constexpr int W = lanes::kWidth<V>;
  for (int j = 0; j < padded; j += W) {
    const ListedRows rows{list + j};
    const U row = lanes::load<U>(list + j);
    const U env = row + e.seeds.first_env;
    typename Env::template StateOf<V> s;
    U elapsed = lanes::gather(v.elapsed, row);  // the ended episodes' lengths
    V ret;
    autoreset_one<Env>(p, e, env, t, s, elapsed, ret);
    put_state<Env, V>(v.state, rows, s);
    put(elapsed, v.elapsed, rows);
    put(ret, v.episode_return, rows);
  }
}

// `steps` steps of the random policy for envs [begin, begin + count) of the batch (a tile) from
// batch step t0; ended episodes are counted into stats (in step, then env order: the same on every
// target) and reset before the next step. With traj, every step is also recorded.
// The step loop over the tile's vectors has no data-dependent branch, so the CPU overlaps the long
// dependency chains of neighbouring vectors; which lanes ended is sorted out after it.
template <class Env, class V, bool kTrajectory>
void rollout_tile(const typename Env::Params& params, const EngineParams& engine, const BatchView<Env>& view,
                  int64_t begin, int count, uint64_t t0, uint64_t steps, EpisodeStats& tile_stats,
                  const TrajectoryOut<Env>* traj) {
  using U = lanes::UInt<V>;
  using Policy = RandomPolicy<Env>;
  constexpr int W = lanes::kWidth<V>;
  // Local copies: stores through the state columns could otherwise alias them for the compiler.
  const typename Env::Params p = params;
  const EngineParams e = engine;
  const BatchView<Env> v = view;
  EpisodeStats stats = tile_stats;
  alignas(64) uint32_t words[4][kTile];
  alignas(64) uint32_t done_bits[kTile];
  alignas(64) uint32_t ended[kTile];
  alignas(64) int32_t alive_at_end[kTile];  // multi-agent envs: agents alive in envs that just ended
  const uint32_t row0 = static_cast<uint32_t>(begin);
  const int groups = (count + W - 1) / W;
  const U lane_offsets = lanes::load<U>(kLaneOffsets);
  if constexpr (kMultiAgent<Env>) std::memset(words, 0, sizeof words);  // unused: the step draws
  std::vector<int8_t> grid;  // multi-agent trajectories: the observation grid scratch
  if constexpr (kMultiAgent<Env> && kTrajectory) grid.assign(static_cast<size_t>(Env::kGridCells) * W, 0);

  for (uint64_t k = 0; k < steps; ++k) {
    const uint64_t t = t0 + k;
    // Multi-agent envs draw their agents' actions inside the step (AgentPolicy).
    if (!kMultiAgent<Env> && (k == 0 || t % Policy::kStepsPerBlock == 0)) {
      for (int g = 0; g < groups; ++g) {
        const U env = lane_offsets + (e.seeds.first_env + row0 + static_cast<uint32_t>(g * W));
        const Words4<U> w = Policy::draw(seed_key(e.seeds, env), env, t);
        for (int q = 0; q < 4; ++q) lanes::store(w.w[q], words[q] + g * W);
      }
    }
    const uint32_t* word = words[Policy::word_index(t)];
    for (int g = 0; g < groups; ++g) {
      const size_t i = row0 + static_cast<size_t>(g * W);
      const U env = lane_offsets + (e.seeds.first_env + static_cast<uint32_t>(i));
      typename Env::template StateOf<V> s = v.state.template load<V>(i);
      U elapsed = lanes::load<U>(v.elapsed + i);
      V ret = lanes::load<V>(v.episode_return + i);
      lanes::Mask<V> done;
      if constexpr (kTrajectory) {
        const int valid = static_cast<int>(std::min<int64_t>(W, traj->num_envs - static_cast<int64_t>(i)));
        TrajectoryRecord<Env, V> record{p, *traj, static_cast<size_t>(k) * static_cast<size_t>(traj->num_envs) + i, valid,
                                        grid.data()};
        done = rollout_step<Env>(p, e, env, t, lanes::load<U>(word + g * W), s, elapsed, ret, record);
      } else {
        NoRecord record;
        done = rollout_step<Env>(p, e, env, t, lanes::load<U>(word + g * W), s, elapsed, ret, record);
      }
      v.state.store(i, s);
      lanes::store(elapsed, v.elapsed + i);
      lanes::store(ret, v.episode_return + i);
      done_bits[g] = lanes::bits(done);
      if constexpr (kMultiAgent<Env>) {
        if (done_bits[g] != 0) lanes::store(Env::agents_alive(p, s), alive_at_end + g * W);
      }
    }
    int m = 0;
    for (int g = 0; g < groups; ++g) m = append_lanes(done_bits[g], row0 + static_cast<uint32_t>(g * W), ended, m);
    if (m == 0) continue;
    // Lanes past the tile's envs (padding of the last tile) reset like the rest but are not counted.
    for (int j = 0; j < m; ++j) {
      if (ended[j] >= row0 + static_cast<uint32_t>(count)) continue;
      stats.count(v.elapsed[ended[j]], v.episode_return[ended[j]]);
      if constexpr (kMultiAgent<Env>) stats.alive_sum += static_cast<uint64_t>(alive_at_end[ended[j] - row0]);
    }
    autoreset_listed<Env, V>(p, e, v, t + 1, ended, pad_list(ended, m, W));
  }
  tile_stats = stats;
}

// a where m, else b, field by field.
template <class Env, class V>
void blend_state(const lanes::Mask<V>& m, const typename Env::template StateOf<V>& a,
                 typename Env::template StateOf<V>& b, int agents) {
  // Multi-agent states have thousands of fields: their list lives on the heap.
  std::conditional_t<kMultiAgent<Env>, std::vector<const void*>, std::array<const void*, 64>> from_a{};
  int n = 0;
  StateColumns<Env>::visit(a, agents, [&](const char*, const auto& field) {
    if constexpr (kMultiAgent<Env>) {
      from_a.push_back(&field);
    } else {
      from_a[n++] = &field;
    }
  });
  int k = 0;
  StateColumns<Env>::visit(b, agents, [&](const char*, auto& field) {
    using L = std::remove_reference_t<decltype(field)>;
    field = lanes::select(m, *static_cast<const L*>(from_a[k++]), field);
  });
}

// Outputs of the last, partial group of a batch: its lanes past num_envs would write past the
// caller's buffers, so the group writes W rows into this scratch and the valid rows are copied.
template <class Env, int W>
struct TailScratch {
  static constexpr int kMaxInfo = 64;  // EnvInfo checks every env's info field count against it
  typename Env::Obs obs[W * Env::kObsDim], final_obs[W * Env::kObsDim];
  typename Env::Real reward[W];
  uint8_t terminated[W], truncated[W], has_final[W];
  double info[W * kMaxInfo], final_info[W * kMaxInfo];

  StepBuffersView<Env> view(const StepBuffersView<Env>& out) {
    return {out.obs ? obs : nullptr,          out.reward ? reward : nullptr,
            out.terminated ? terminated : nullptr, out.truncated ? truncated : nullptr,
            out.final_obs ? final_obs : nullptr,   out.has_final ? has_final : nullptr,
            out.info ? info : nullptr,             out.n_info,
            out.final_info ? final_info : nullptr};
  }
  void copy_to(const StepBuffersView<Env>& out, size_t row, int valid) const {
    const size_t n = static_cast<size_t>(valid);
    const auto copy = [&](auto* dst, const auto* src, size_t per_row) {
      if (dst) std::memcpy(dst + row * per_row, src, n * per_row * sizeof(*src));
    };
    copy(out.obs, obs, Env::kObsDim);
    copy(out.final_obs, final_obs, Env::kObsDim);
    copy(out.reward, reward, 1);
    copy(out.terminated, terminated, 1);
    copy(out.truncated, truncated, 1);
    copy(out.has_final, has_final, 1);
    copy(out.info, info, static_cast<size_t>(out.n_info));
    copy(out.final_info, final_info, static_cast<size_t>(out.n_info));
  }
};

// Runs write(view, rows) for the group of W envs at `row` of a batch of `end` envs: straight into
// out, or through TailScratch when the group runs past the end.
template <class Env, int W, class F>
void with_group_outputs(const StepBuffersView<Env>& out, size_t row, int64_t end, F&& write) {
  const int valid = static_cast<int>(std::min<int64_t>(W, end - static_cast<int64_t>(row)));
  if (valid == W) {
    write(out, ContiguousRows{row});
  } else {
    TailScratch<Env, W> scratch;
    write(scratch.view(out), ContiguousRows{0});
    scratch.copy_to(out, row, valid);
  }
}

// 0/1 flags of the group at `row` from a num_envs-long array (or all 1 for null), padded with 0.
template <int W>
void load_group_flags(const uint8_t* source, size_t row, int64_t end, uint8_t (&flags)[W]) {
  const int valid = static_cast<int>(std::min<int64_t>(W, end - static_cast<int64_t>(row)));
  for (int l = 0; l < W; ++l) flags[l] = l < valid ? (source ? source[row + static_cast<size_t>(l)] != 0 : 1) : 0;
}

// Resets before batch step t: the envs with mask[i] != 0 (every env when mask is null), or with a
// pending reset (only_pending); then every env's observation (and info) into out where given.
// Envs [begin, end) of a batch of `end` or more envs; begin a multiple of the lane count.
template <class Env, class V>
void reset_block(const typename Env::Params& p, const EngineParams& e, const BatchView<Env>& v,
                 int64_t begin, int64_t end, int64_t num_envs, uint64_t t, const uint8_t* mask, bool only_pending,
                 const StepBuffersView<Env>& out) {
  using U = lanes::UInt<V>;
  constexpr int W = lanes::kWidth<V>;
  const U lane_offsets = lanes::load<U>(kLaneOffsets);
  for (int64_t i = begin; i < end; i += W) {
    const size_t row = static_cast<size_t>(i);
    alignas(64) uint8_t flags[W];
    load_group_flags<W>(only_pending ? v.needs_reset : mask, row, num_envs, flags);
    const lanes::Mask<V> go = lanes::load_flags<V>(flags);
    typename Env::template StateOf<V> s = v.state.template load<V>(row);
    if (lanes::any(go)) {
      const U env = lane_offsets + (e.seeds.first_env + static_cast<uint32_t>(row));
      typename Env::template StateOf<V> fresh;
      U elapsed0 = lanes::load<U>(v.elapsed + row);
      V ret0;
      reset_pending_or_asked<Env>(only_pending, p, e, env, t, fresh, elapsed0, ret0);
      blend_state<Env, V>(go, fresh, s, v.state.agents);
      v.state.store(row, s);
      lanes::store(lanes::select(go, elapsed0, lanes::load<U>(v.elapsed + row)), v.elapsed + row);
      lanes::store(lanes::select(go, ret0, lanes::load<V>(v.episode_return + row)), v.episode_return + row);
      for (int l = 0; l < W; ++l) {
        if (flags[l]) v.needs_reset[row + static_cast<size_t>(l)] = 0;
      }
    }
    if constexpr (kMultiAgent<Env>) {
      if (out.obs) put_agent_obs<Env>(p, s, out.obs, out.grid, ContiguousRows{row}, rows_inside<V>(~0u, ContiguousRows{row}, num_envs));
    } else if (out.obs || out.info) {
      with_group_outputs<Env, W>(out, row, num_envs, [&](const StepBuffersView<Env>& o, const ContiguousRows& rows) {
        if (o.obs) put_obs<Env>(p, s, o.obs, rows);
        if constexpr (kHasInfo<Env>) {
          if (o.info) put_info<Env>(p, s, o.info, o.n_info, rows);
        }
      });
    }
  }
}

// One step-API call (batch step t) for envs [begin, end) of a batch of num_envs: the transition of
// every env, then the resets of the envs that need one, collected per block and done W at a time.
template <class Env, AutoresetMode kMode, class V>
void step_block(const typename Env::Params& p, const EngineParams& e, const BatchView<Env>& v,
                int64_t begin, int64_t end, int64_t num_envs, uint64_t t, const ActionScalar<Env>* actions,
                const StepBuffersView<Env>& out) {
  using U = lanes::UInt<V>;
  using A = ActionOf<Env, V>;
  constexpr int W = lanes::kWidth<V>;
  const U lane_offsets = lanes::load<U>(kLaneOffsets);
  alignas(64) uint32_t finish[kTile];
  for (int64_t block = begin; block < end; block += kTile) {
    const int64_t block_end = std::min<int64_t>(end, block + kTile);
    int m = 0;
    for (int64_t i = block; i < block_end; i += W) {
      const size_t row = static_cast<size_t>(i);
      const int valid = static_cast<int>(std::min<int64_t>(W, num_envs - i));
      alignas(64) lanes::Scalar<A> padded_actions[W] = {};
      alignas(64) uint8_t pending_flags[W];
      load_group_flags<W>(v.needs_reset, row, num_envs, pending_flags);
      lanes::Mask<V> needs_reset = lanes::load_flags<V>(pending_flags);
      const U env = lane_offsets + (e.seeds.first_env + static_cast<uint32_t>(row));
      typename Env::template StateOf<V> s = v.state.template load<V>(row);
      U elapsed = lanes::load<U>(v.elapsed + row);
      V ret = lanes::load<V>(v.episode_return + row);
      lanes::Mask<V> finishing;
      if constexpr (kMultiAgent<Env>) {
        const lanes::Int<V> lane = lanes::min(lane_ids<V>(), lanes::Int<V>(valid - 1));
        const AgentActions<V> agent_actions{actions, (lane + static_cast<int32_t>(row)) * p.num_agents};
        finishing = api_step_transition_agents<Env, kMode>(p, e, env, t, s, elapsed, ret, needs_reset, agent_actions,
                                                           out, ContiguousRows{row});
      } else {
        std::memcpy(padded_actions, actions + row, static_cast<size_t>(valid) * sizeof(padded_actions[0]));
        with_group_outputs<Env, W>(out, row, num_envs, [&](const StepBuffersView<Env>& o, const ContiguousRows& rows) {
          finishing = api_step_transition<Env, kMode>(p, e, env, t, s, elapsed, ret, needs_reset,
                                                      lanes::load<A>(padded_actions), o, rows);
        });
      }
      v.state.store(row, s);
      lanes::store(elapsed, v.elapsed + row);
      lanes::store(ret, v.episode_return + row);
      lanes::store_flags(needs_reset, pending_flags);
      std::memcpy(v.needs_reset + row, pending_flags, static_cast<size_t>(valid));
      const uint32_t valid_bits = (1u << valid) - 1u;  // valid <= W <= 16
      m = append_lanes(lanes::bits(finishing) & valid_bits, static_cast<uint32_t>(row), finish, m);
    }
    if (m == 0) continue;
    const int padded = pad_list(finish, m, W);
    for (int j = 0; j < padded; j += W) {
      const ListedRows rows{finish + j};
      const U row = lanes::load<U>(finish + j);
      const U env = row + e.seeds.first_env;
      typename Env::template StateOf<V> s;
      U elapsed = lanes::gather(v.elapsed, row);  // as the transition left it: the autoreset's draw needs it
      V ret;
      if constexpr (kMultiAgent<Env>) {
        api_step_finish_agents<Env, kMode>(p, e, env, t, s, elapsed, ret, out, rows);
      } else {
        api_step_finish<Env, kMode>(p, e, env, t, s, elapsed, ret, out, rows);
      }
      put_state<Env, V>(v.state, rows, s);
      put(elapsed, v.elapsed, rows);
      put(ret, v.episode_return, rows);
    }
  }
}

}  // namespace
}  // namespace simkit::cpu
