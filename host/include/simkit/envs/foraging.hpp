// SPDX-License-Identifier: Apache-2.0
// Foraging-v0: AgentFarm's multi-agent foraging world (https://github.com/Dooders/AgentFarm), the
// semantics fixed in shared/specs/envs.md ("Foraging-v0"). Units: grid cells; energy and resources in
// units. A world is one env with Params::num_agents agents (the engine stores agents [0, num_agents)
// only: visit_state takes the count) and kNodes resource nodes on a kSize x kSize grid.
//
// One step, every agent at once: alive agents move one cell (clamped to the world) or gather; gathers
// are served in agent index order, so of two agents at one node the lower index takes first. Gather
// takes min(3, amount) from the nearest non-empty node within 3 cells (squared Euclidean distance
// <= 9; equal distances go to the lower node index). Then every alive agent pays 0.15, counts its
// consecutive steps at or below 0 and dies at the 10th; then each node regrows +2 (capped at 30) with
// probability 0.1. Reward per agent: its change in units + 0.1 while alive, or the change - 10 on the
// step it dies; 0 once dead. Terminated when no agent is alive.
//
// Observation per agent (4, 13, 13), centred on the agent, rows y and columns x: self (1 at the centre
// while alive), other alive agents (1 where any), resources (the cell's largest node amount / 30),
// outside the world (1). Built through a cell grid painted once per world (cell -> resource amount and
// agent count), so a step's observations cost O(N x 169 + kNodes), never O(N^2).
#pragma once

#include "simkit/env.hpp"

namespace simkit::envs {

namespace detail {
// "stem[i]" for i in [0, N): state field names of per-agent arrays, built at compile time.
template <int N>
struct IndexedNames {
  char text[N][16] = {};
  constexpr explicit IndexedNames(const char* stem) {
    for (int i = 0; i < N; ++i) {
      int k = 0;
      for (const char* c = stem; *c; ++c) text[i][k++] = *c;
      text[i][k++] = '[';
      char digits[8] = {};
      int n = 0;
      for (int v = i; n == 0 || v > 0; v /= 10) digits[n++] = static_cast<char>('0' + v % 10);
      while (n > 0) text[i][k++] = digits[--n];
      text[i][k++] = ']';
    }
  }
};
// Every element the same (observation bounds of 676 values).
struct AllEqual {
  float value;
  constexpr float operator[](int) const { return value; }
};
}  // namespace detail

template <class R>
struct Foraging {
  using Real = R;
  using Obs = float;
  static constexpr bool kDiscrete = true;

  static constexpr const char* kId = "Foraging-v0";
  static constexpr int kMaxEpisodeSteps = 1000;
  static constexpr int kNumActions = 6;  // stay, up (y - 1), down (y + 1), left (x - 1), right (x + 1), gather
  static constexpr int kMaxAgents = 512;  // limit of Params::num_agents
  static constexpr int kSize = 100;       // cells per side
  static constexpr int kNodes = 20;
  static constexpr int kRadius = 6;  // the window is (2 kRadius + 1)^2 cells
  static constexpr int kView = 2 * kRadius + 1;
  static constexpr int kWindow = kView * kView;
  static constexpr int kObsDim = 4 * kWindow;  // per agent: channels self, agents, resources, outside
  static constexpr int kObsShape[3] = {4, kView, kView};
  static constexpr int kGridCells = kSize * kSize;

  static constexpr int kNodeMin = 3, kNodeMax = 8, kNodeCap = 30;  // units
  static constexpr int kRegrow = 2;                                // units per regrowth
  static constexpr Real kRegrowProbability = Real(0.1);
  static constexpr int kGatherTake = 3;      // units per gather
  static constexpr int kGatherRange2 = 9;    // squared cells
  static constexpr Real kStartEnergy = 5;    // units
  static constexpr Real kStepCost = Real(0.15);  // units per step
  static constexpr int kStarveSteps = 10;    // consecutive steps at or below 0 that kill
  static constexpr Real kAliveBonus = Real(0.1);
  static constexpr Real kDeathPenalty = 10;

  static constexpr detail::AllEqual kObsLow{0.0f};
  static constexpr detail::AllEqual kObsHigh{1.0f};

  struct Params {
    int32_t num_agents = 30;  // agents per world, [1, kMaxAgents]
  };

  template <class V>
  struct StateOf {
    lanes::Int8<V> node_x[kNodes], node_y[kNodes];  // cells, [0, kSize)
    lanes::Int8<V> node_amount[kNodes];             // units, [0, kNodeCap]
    lanes::Int8<V> x[kMaxAgents], y[kMaxAgents];    // cells, [0, kSize)
    V energy[kMaxAgents];                           // units
    lanes::Int8<V> hungry[kMaxAgents];              // consecutive steps at or below 0; kStarveSteps: dead
    V reward[kMaxAgents];                           // the agent's reward of the last step
  };
  using State = StateOf<Real>;

  // A mask of integer lanes: integer conditions stay in 32-bit lanes for float64 envs too.
  template <class V>
  SIMKIT_HD static auto alive(const StateOf<V>& s, int a) {
    return s.hungry[a] < lanes::Int8<V>(kStarveSteps);
  }

  template <class V>
  SIMKIT_HD static lanes::Int8<V> random_cell(RandomStream<V>& rng) {
    return lanes::cast<int8_t>(rng.below(lanes::UInt<V>(kSize)));
  }

  template <class V>
  SIMKIT_HD static void reset(const Params& p, StateOf<V>& s, RandomStream<V>& rng) {
    using I8 = lanes::Int8<V>;
    for (int n = 0; n < kNodes; ++n) {
      s.node_x[n] = random_cell(rng);
      s.node_y[n] = random_cell(rng);
      s.node_amount[n] = lanes::cast<int8_t>(rng.below(lanes::UInt<V>(kNodeMax - kNodeMin + 1)) + uint32_t{kNodeMin});
    }
    for (int a = 0; a < p.num_agents; ++a) {
      s.x[a] = random_cell(rng);
      s.y[a] = random_cell(rng);
      s.energy[a] = V(kStartEnergy);
      s.hungry[a] = I8(0);
      s.reward[a] = V(0);
    }
  }

  // action(a): agent a's action lanes (Int<V>), asked once per agent in index order.
  template <class V, class Actions>
  SIMKIT_HD static Transition<V> step(const Params& p, StateOf<V>& s, Actions& action, RandomStream<V>& rng) {
    using I = lanes::Int<V>;
    using M = lanes::Mask<V>;
    M any_alive = M(false);
    V total = V(0);
    for (int a = 0; a < p.num_agents; ++a) {
      const I act = action(a);
      const auto live = alive(s, a);
      const I x = lanes::cast<int32_t>(s.x[a]), y = lanes::cast<int32_t>(s.y[a]);
      const I dx = lanes::select(act == I(3), I(-1), lanes::select(act == I(4), I(1), I(0)));
      const I dy = lanes::select(act == I(1), I(-1), lanes::select(act == I(2), I(1), I(0)));
      const I nx = lanes::min(lanes::max(x + dx, I(0)), I(kSize - 1));
      const I ny = lanes::min(lanes::max(y + dy, I(0)), I(kSize - 1));
      s.x[a] = lanes::cast<int8_t>(lanes::select(live, nx, x));
      s.y[a] = lanes::cast<int8_t>(lanes::select(live, ny, y));
      // Gather: the nearest non-empty node in range, strict < keeping the lower node index on ties.
      const auto gathering = live & (act == I(5));
      I best = I(-1), best_d2 = I(kGatherRange2 + 1), best_amount = I(0);
      for (int n = 0; n < kNodes; ++n) {
        const I amount = lanes::cast<int32_t>(s.node_amount[n]);
        const I ex = lanes::cast<int32_t>(s.node_x[n]) - x, ey = lanes::cast<int32_t>(s.node_y[n]) - y;
        const I d2 = ex * ex + ey * ey;
        const auto closer = (amount > I(0)) & (d2 < best_d2);
        best = lanes::select(closer, I(n), best);
        best_d2 = lanes::select(closer, d2, best_d2);
        best_amount = lanes::select(closer, amount, best_amount);
      }
      const I taken = lanes::select(gathering, lanes::min(best_amount, I(kGatherTake)), I(0));
      for (int n = 0; n < kNodes; ++n) {
        const I amount = lanes::cast<int32_t>(s.node_amount[n]);
        s.node_amount[n] = lanes::cast<int8_t>(lanes::select(best == I(n), amount - taken, amount));
      }
      const V before = s.energy[a];
      const V after = before + lanes::cast<Real>(taken) - kStepCost;
      const I hungry = lanes::cast<int32_t>(s.hungry[a]);
      const I hungry_next = lanes::select(after <= V(0), hungry + 1, I(0));
      const auto died = live & (hungry_next >= I(kStarveSteps));
      s.energy[a] = lanes::select(live, after, before);
      s.hungry[a] = lanes::cast<int8_t>(lanes::select(live, hungry_next, hungry));
      const V bonus = lanes::select(died, V(-kDeathPenalty), V(kAliveBonus));
      s.reward[a] = lanes::select(live, (after - before) + bonus, V(0));
      total = total + s.reward[a];
      any_alive = any_alive | (live & !died);
    }
    for (int n = 0; n < kNodes; ++n) {
      const M grow = rng.uniform01() < V(kRegrowProbability);
      const I amount = lanes::cast<int32_t>(s.node_amount[n]);
      s.node_amount[n] = lanes::cast<int8_t>(lanes::select(grow, lanes::min(amount + kRegrow, I(kNodeCap)), amount));
    }
    return {total, !any_alive};
  }

  // Agents alive, per lane (the episode statistics' "agents alive" at an episode's end).
  template <class V>
  SIMKIT_HD static lanes::Int<V> agents_alive(const Params& p, const StateOf<V>& s) {
    using I = lanes::Int<V>;
    I n = I(0);
    for (int a = 0; a < p.num_agents; ++a) n = n + lanes::select(alive(s, a), I(1), I(0));
    return n;
  }
  // Agent a's reward of the last step and whether it is out of the episode (dead).
  template <class V>
  SIMKIT_HD static V agent_reward(const StateOf<V>& s, int a) {
    return s.reward[a];
  }
  template <class V>
  SIMKIT_HD static lanes::Mask<V> agent_terminated(const StateOf<V>& s, int a) {
    return lanes::Mask<V>(!alive(s, a));
  }

  // Every agent's observation: emit(a, cols) with cols[kObsDim] for agent a. grid: kGridCells x W
  // zero bytes (cell c of lane l at c * W + l), left zero again; lane: 0 .. W - 1.
  // A grid byte holds the cell's largest node amount (bits 0-4) and its alive agents (bits 5-6,
  // saturating at 3: "any other agent" needs only 0, 1 or more than one).
  template <class V, class Emit>
  SIMKIT_HD static void observe(const Params& p, const StateOf<V>& s, int8_t* grid, const lanes::Int<V>& lane,
                                Emit&& emit) {
    using I = lanes::Int<V>;
    using F = lanes::Float<V>;
    constexpr int W = lanes::kWidth<V>;
    const auto cell_index = [&](const I& x, const I& y) { return (y * kSize + x) * W + lane; };
    const auto write = [&](const I& index, const I& value) {
      alignas(64) uint32_t rows[W];
      lanes::store(lanes::cast<uint32_t>(index), rows);
      lanes::scatter(lanes::cast<int8_t>(value), grid, rows);
    };
    for (int n = 0; n < kNodes; ++n) {
      const I index = cell_index(lanes::cast<int32_t>(s.node_x[n]), lanes::cast<int32_t>(s.node_y[n]));
      const I old = lanes::cast<int32_t>(lanes::gather(grid, index));
      write(index, lanes::max(old, lanes::cast<int32_t>(s.node_amount[n])));
    }
    for (int a = 0; a < p.num_agents; ++a) {
      const I index = cell_index(lanes::cast<int32_t>(s.x[a]), lanes::cast<int32_t>(s.y[a]));
      const I old = lanes::cast<int32_t>(lanes::gather(grid, index));
      const I count = lanes::min((old >> 5) + 1, I(3));
      write(index, lanes::select(alive(s, a), (old & I(31)) | (count << 5), old));
    }
    F cols[kObsDim];
    for (int a = 0; a < p.num_agents; ++a) {
      const I x = lanes::cast<int32_t>(s.x[a]), y = lanes::cast<int32_t>(s.y[a]);
      const I self = lanes::select(alive(s, a), I(1), I(0));
      for (int dy = -kRadius; dy <= kRadius; ++dy) {
        for (int dx = -kRadius; dx <= kRadius; ++dx) {
          const int k = (dy + kRadius) * kView + (dx + kRadius);
          const I cx = x + dx, cy = y + dy;
          const lanes::Mask<V> inside = (cx >= I(0)) & (cx < I(kSize)) & (cy >= I(0)) & (cy < I(kSize));
          const I g = lanes::cast<int32_t>(lanes::gather(grid, lanes::select(inside, cell_index(cx, cy), lane)));
          const I others = (g >> 5) - (k == kWindow / 2 ? self : I(0));
          cols[k] = k == kWindow / 2 ? lanes::cast<float>(self) : F(0.0f);
          cols[kWindow + k] = lanes::select(inside & (others > I(0)), F(1.0f), F(0.0f));
          cols[2 * kWindow + k] = lanes::select(inside, lanes::cast<float>(g & I(31)) / F(float(kNodeCap)), F(0.0f));
          cols[3 * kWindow + k] = lanes::select(inside, F(0.0f), F(1.0f));
        }
      }
      emit(a, cols);
    }
    for (int n = 0; n < kNodes; ++n) {
      write(cell_index(lanes::cast<int32_t>(s.node_x[n]), lanes::cast<int32_t>(s.node_y[n])), I(0));
    }
    for (int a = 0; a < p.num_agents; ++a) {
      write(cell_index(lanes::cast<int32_t>(s.x[a]), lanes::cast<int32_t>(s.y[a])), I(0));
    }
  }

  // Why a stored state is not one this env can reach (cells off the grid, amounts past the cap), or null.
  static const char* state_problem(const State& s, int agents) {
    const auto on_grid = [](int v) { return v >= 0 && v < kSize; };
    for (int n = 0; n < kNodes; ++n) {
      if (!on_grid(s.node_x[n]) || !on_grid(s.node_y[n])) return "a node lies outside the 100 x 100 grid";
      if (s.node_amount[n] < 0 || s.node_amount[n] > kNodeCap) return "a node amount is outside [0, 30]";
    }
    for (int a = 0; a < agents; ++a) {
      if (!on_grid(s.x[a]) || !on_grid(s.y[a])) return "an agent lies outside the 100 x 100 grid";
      if (s.hungry[a] < 0 || s.hungry[a] > kStarveSteps) return "a hungry count is outside [0, 10]";
    }
    return nullptr;
  }

  template <class P, class F>
  static void visit_params(P& p, F&& f) {
    f("num_agents", p.num_agents);
  }
  // Nodes, then agents [0, agents) agent by agent: the first fields of a world with that many agents.
  template <class S, class F>
  SIMKIT_HD static void visit_state(S& s, F&& f, int agents = kMaxAgents) {
    for (int n = 0; n < kNodes; ++n) {
      f(name<S>(kNodeX, n), s.node_x[n]);
      f(name<S>(kNodeY, n), s.node_y[n]);
      f(name<S>(kNodeAmount, n), s.node_amount[n]);
    }
    for (int a = 0; a < agents; ++a) {
      f(name<S>(kX, a), s.x[a]);
      f(name<S>(kY, a), s.y[a]);
      f(name<S>(kEnergy, a), s.energy[a]);
      f(name<S>(kHungry, a), s.hungry[a]);
      f(name<S>(kReward, a), s.reward[a]);
    }
  }

 private:
  enum Field { kNodeX, kNodeY, kNodeAmount, kX, kY, kEnergy, kHungry, kReward };
  // Names exist on the host only (state_fields, state rows); device code never reads them. A
  // template over the visited state type, so each SIMD target's unit has its own copy.
  template <class S>
  SIMKIT_HD static const char* name(Field field, int i) {
#if defined(__CUDA_ARCH__)
    (void)field;
    (void)i;
    return "";
#else
    static constexpr detail::IndexedNames<kNodes> kNodeXNames{"node_x"}, kNodeYNames{"node_y"},
        kNodeAmountNames{"node_amount"};
    static constexpr detail::IndexedNames<kMaxAgents> kXNames{"x"}, kYNames{"y"}, kEnergyNames{"energy"},
        kHungryNames{"hungry"}, kRewardNames{"reward"};
    switch (field) {
      case kNodeX: return kNodeXNames.text[i];
      case kNodeY: return kNodeYNames.text[i];
      case kNodeAmount: return kNodeAmountNames.text[i];
      case kX: return kXNames.text[i];
      case kY: return kYNames.text[i];
      case kEnergy: return kEnergyNames.text[i];
      case kHungry: return kHungryNames.text[i];
      default: return kRewardNames.text[i];
    }
#endif
  }
};

}  // namespace simkit::envs
