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
  using Action = int32_t;  // the cell the agent marks
  using Obs = int8_t;

  static constexpr const char* kId = "TicTacToe-v0";
  static constexpr int kMaxEpisodeSteps = 0;  // never truncated
  static constexpr int kNumActions = 9;
  static constexpr int kObsDim = 9;  // the cells

  static constexpr float kObsLow[kObsDim] = {0, 0, 0, 0, 0, 0, 0, 0, 0};
  static constexpr float kObsHigh[kObsDim] = {2, 2, 2, 2, 2, 2, 2, 2, 2};

  struct Params {};

  struct State {
    int8_t cell[9];   // 0 empty, 1 first mover's mark, 2 second mover's mark
    int8_t agent;     // the agent's mark: 1 if it moved first, else 2
    int8_t illegal;   // 1 if the last step was an illegal move
  };

  // The mark that owns a full line, else 0.
  SIMKIT_HD static int winner(const int8_t* c) {
    constexpr int kLines[8][3] = {{0, 1, 2}, {3, 4, 5}, {6, 7, 8}, {0, 3, 6},
                                  {1, 4, 7}, {2, 5, 8}, {0, 4, 8}, {2, 4, 6}};
    int out = 0;
    for (int i = 0; i < 8; ++i) {
      const int a = c[kLines[i][0]];
      out = (a != 0 && a == c[kLines[i][1]] && a == c[kLines[i][2]]) ? a : out;
    }
    return out;
  }

  // Bit i set when cell i is empty.
  SIMKIT_HD static uint32_t legal_mask(const State& s) {
    uint32_t m = 0;
    for (int i = 0; i < 9; ++i) m |= (s.cell[i] == 0 ? 1u : 0u) << i;
    return m;
  }

  SIMKIT_HD static int popcount9(uint32_t m) {
    int n = 0;
    for (int i = 0; i < 9; ++i) n += (m >> i) & 1u;
    return n;
  }

  // Marks a uniformly random empty cell (the board must have one).
  SIMKIT_HD static void random_move(State& s, int8_t mark, RandomStream& rng) {
    const uint32_t mask = legal_mask(s);
    uint32_t k = rng.below(static_cast<uint32_t>(popcount9(mask)));
    for (int i = 0; i < 9; ++i) {
      if ((mask >> i) & 1u) {
        if (k == 0) {
          s.cell[i] = mark;
          return;
        }
        k -= 1;
      }
    }
  }

  SIMKIT_HD static void reset(const Params&, State& s, RandomStream& rng) {
    for (int i = 0; i < 9; ++i) s.cell[i] = 0;
    s.illegal = 0;
    s.agent = (rng.next_u32() >> 31) ? 1 : 2;  // fair coin: does the agent start?
    if (s.agent == 2) random_move(s, 1, rng);
  }

  SIMKIT_HD static Transition<Real> step(const Params&, State& s, Action action, RandomStream& rng) {
    s.illegal = 0;
    if (action < 0 || action >= kNumActions || s.cell[action] != 0) {
      s.illegal = 1;
      return {Real(-1), true};
    }
    s.cell[action] = s.agent;
    if (winner(s.cell) == s.agent) return {Real(1), true};
    if (legal_mask(s) == 0) return {Real(0), true};
    const int8_t opponent = static_cast<int8_t>(3 - s.agent);
    random_move(s, opponent, rng);
    if (winner(s.cell) == opponent) return {Real(-1), true};
    if (legal_mask(s) == 0) return {Real(0), true};
    return {Real(0), false};
  }

  SIMKIT_HD static void observe(const Params&, const State& s, Obs* obs) {
    for (int i = 0; i < 9; ++i) obs[i] = s.cell[i];
  }

  template <class F>
  SIMKIT_HD static void visit_info(const Params&, const State& s, F&& f) {
    constexpr const char* kMaskNames[9] = {"action_mask[0]", "action_mask[1]", "action_mask[2]",
                                           "action_mask[3]", "action_mask[4]", "action_mask[5]",
                                           "action_mask[6]", "action_mask[7]", "action_mask[8]"};
    for (int i = 0; i < 9; ++i) f(kMaskNames[i], s.cell[i] == 0 ? 1.0 : 0.0);
    f("illegal", static_cast<double>(s.illegal));
  }
  template <class P, class F>
  static void visit_params(P&, F&&) {}
  template <class S, class F>
  static void visit_state(S& s, F&& f) {
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
