// SPDX-License-Identifier: Apache-2.0
// TicTacToe-v0 against a uniformly random opponent, after dist_classicrl's tic-tac-toe env:
// https://github.com/j-moralejo-pinas/dist_classicrl (semantics fixed in shared/specs/envs.md).
// Units: none. Cells 0..8 (row * 3 + col) hold 0 (empty), 1 (whoever moved first) or 2 (the other).
// Never truncated: an episode has at most 5 agent moves, so kMaxEpisodeSteps is 0 (no limit).
#pragma once

#include "simkit/env.hpp"

namespace simkit::envs {

template <class R>
struct TicTacToe {
  using Real = R;
  using Obs = int8_t;
  static constexpr bool kDiscrete = true;  // the cell the agent marks

  static constexpr const char* kId = "TicTacToe-v0";
  static constexpr int kMaxEpisodeSteps = 0;  // never truncated
  static constexpr int kNumActions = 9;
  static constexpr int kObsDim = 9;  // the cells

  static constexpr float kObsLow[kObsDim] = {0, 0, 0, 0, 0, 0, 0, 0, 0};
  static constexpr float kObsHigh[kObsDim] = {2, 2, 2, 2, 2, 2, 2, 2, 2};

  struct Params {};

  template <class V>
  struct StateOf {
    lanes::Int8<V> cell[9];  // 0 empty, 1 first mover's mark, 2 second mover's mark
    lanes::Int8<V> agent;    // the agent's mark: 1 if it moved first, else 2
    lanes::Int8<V> illegal;  // 1 if the last step was an illegal move
  };
  using State = StateOf<Real>;

  // The mark that owns a full line, else 0.
  template <class V>
  SIMKIT_HD static lanes::Int8<V> winner(const StateOf<V>& s) {
    constexpr int kLines[8][3] = {{0, 1, 2}, {3, 4, 5}, {6, 7, 8}, {0, 3, 6}, {1, 4, 7}, {2, 5, 8}, {0, 4, 8}, {2, 4, 6}};
    using I8 = lanes::Int8<V>;
    I8 out = I8(0);
    for (int i = 0; i < 8; ++i) {
      const I8 a = s.cell[kLines[i][0]];
      const lanes::Mask<V> full = (a != I8(0)) & (a == s.cell[kLines[i][1]]) & (a == s.cell[kLines[i][2]]);
      out = lanes::select(full, a, out);
    }
    return out;
  }

  // Bit i set when cell i is empty. (The bit goes through a select into its own value: gcc 12
  // miscompiled `m |= (cell[i] == 0 ? 1u : 0u) << i` under -fsanitize=shift,bounds.)
  template <class V>
  SIMKIT_HD static lanes::UInt<V> legal_mask(const StateOf<V>& s) {
    using U = lanes::UInt<V>;
    U m = U(0u);
    for (int i = 0; i < 9; ++i) {
      const U bit = lanes::select(s.cell[i] == lanes::Int8<V>(0), U(1u << i), U(0u));
      m = m | bit;
    }
    return m;
  }

  template <class V>
  SIMKIT_HD static lanes::UInt<V> popcount9(const lanes::UInt<V>& m) {
    lanes::UInt<V> n = 0u;
    for (int i = 0; i < 9; ++i) n = n + ((m >> i) & 1u);
    return n;
  }

  // In the lanes of `move`, marks a uniformly random empty cell (those lanes' boards have one);
  // one draw from rng in every lane.
  template <class V>
  SIMKIT_HD static void random_move(StateOf<V>& s, const lanes::Int8<V>& mark, const lanes::Mask<V>& move,
                                    RandomStream<V>& rng) {
    using U = lanes::UInt<V>;
    const U empty = legal_mask(s);
    U k = rng.below(popcount9<V>(empty));  // the k-th empty cell
    for (int i = 0; i < 9; ++i) {
      const lanes::Mask<V> is_empty = ((empty >> i) & 1u) != U(0u);
      const lanes::Mask<V> hit = move & is_empty & (k == U(0u));
      s.cell[i] = lanes::select(hit, mark, s.cell[i]);
      k = lanes::select(is_empty, k - 1u, k);  // past the chosen cell k wraps and never hits again
    }
  }

  template <class V>
  SIMKIT_HD static void reset(const Params&, StateOf<V>& s, RandomStream<V>& rng) {
    using I8 = lanes::Int8<V>;
    for (int i = 0; i < 9; ++i) s.cell[i] = I8(0);
    s.illegal = I8(0);
    const lanes::Mask<V> agent_starts = (rng.next_u32() >> 31) != lanes::UInt<V>(0u);  // a fair coin
    s.agent = lanes::select(agent_starts, I8(1), I8(2));
    random_move(s, I8(1), !agent_starts, rng);
  }

  template <class V>
  SIMKIT_HD static Transition<V> step(const Params&, StateOf<V>& s, lanes::Int<V> action, RandomStream<V>& rng) {
    using I8 = lanes::Int8<V>;
    using M = lanes::Mask<V>;
    // The agent's move; an occupied (or out-of-range) cell ends the episode.
    M placed = M(false);
    for (int i = 0; i < 9; ++i) {
      const M here = (action == lanes::Int<V>(i)) & (s.cell[i] == I8(0));
      s.cell[i] = lanes::select(here, s.agent, s.cell[i]);
      placed = placed | here;
    }
    s.illegal = lanes::select(placed, I8(0), I8(1));
    const M agent_won = placed & (winner(s) == s.agent);
    const M agent_filled = placed & !agent_won & (legal_mask(s) == lanes::UInt<V>(0u));
    // The opponent's reply where the game goes on.
    const M reply = placed & !agent_won & !agent_filled;
    const I8 opponent = I8(3) - s.agent;
    random_move(s, opponent, reply, rng);
    const M opponent_won = reply & (winner(s) == opponent);
    const M opponent_filled = reply & !opponent_won & (legal_mask(s) == lanes::UInt<V>(0u));
    const M terminated = (!placed) | agent_won | agent_filled | opponent_won | opponent_filled;
    const V reward = lanes::select(agent_won, V(1), lanes::select((!placed) | opponent_won, V(-1), V(0)));
    return {reward, terminated};
  }

  template <class V>
  SIMKIT_HD static void observe(const Params&, const StateOf<V>& s, lanes::Int8<V>* obs) {
    for (int i = 0; i < 9; ++i) obs[i] = s.cell[i];
  }

  template <class V, class F>
  SIMKIT_HD static void visit_info(const Params&, const StateOf<V>& s, F&& f) {
    constexpr const char* kMaskNames[9] = {"action_mask[0]", "action_mask[1]", "action_mask[2]",
                                           "action_mask[3]", "action_mask[4]", "action_mask[5]",
                                           "action_mask[6]", "action_mask[7]", "action_mask[8]"};
    using I8 = lanes::Int8<V>;
    for (int i = 0; i < 9; ++i) f(kMaskNames[i], lanes::select(s.cell[i] == I8(0), I8(1), I8(0)));
    f("illegal", s.illegal);
  }
  template <class P, class F>
  static void visit_params(P&, F&&) {}
  template <class S, class F>
  SIMKIT_HD static void visit_state(S& s, F&& f) {
    f("cell[0]", s.cell[0]);
    f("cell[1]", s.cell[1]);
    f("cell[2]", s.cell[2]);
    f("cell[3]", s.cell[3]);
    f("cell[4]", s.cell[4]);
    f("cell[5]", s.cell[5]);
    f("cell[6]", s.cell[6]);
    f("cell[7]", s.cell[7]);
    f("cell[8]", s.cell[8]);
    f("agent", s.agent);
    f("illegal", s.illegal);
  }
};

}  // namespace simkit::envs
