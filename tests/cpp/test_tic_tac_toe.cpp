// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>
#include <cmath>

#include "simkit/envs/tic_tac_toe.hpp"
#include "simkit/simulator.hpp"

using simkit::RandomStream;
using simkit::Stream;
using TTT = simkit::envs::TicTacToe<float>;

namespace {
TTT::State board(const char* cells, int8_t agent) {
  TTT::State s{};
  for (int i = 0; i < 9; ++i) s.cell[i] = static_cast<int8_t>(cells[i] - '0');
  s.agent = agent;
  return s;
}
}  // namespace

TEST_CASE("tic-tac-toe: every win line wins", "[envs][tic_tac_toe]") {
  const int lines[8][3] = {{0, 1, 2}, {3, 4, 5}, {6, 7, 8}, {0, 3, 6}, {1, 4, 7}, {2, 5, 8}, {0, 4, 8}, {2, 4, 6}};
  for (const auto& line : lines) {
    for (int8_t agent : {1, 2}) {
      TTT::State s{};
      s.agent = agent;
      s.cell[line[0]] = agent;
      s.cell[line[1]] = agent;
      // Two opponent marks off the line (they cannot make a line of three).
      int placed = 0;
      for (int i = 0; i < 9 && placed < 2; ++i) {
        if (i != line[0] && i != line[1] && i != line[2]) {
          s.cell[i] = static_cast<int8_t>(3 - agent);
          ++placed;
        }
      }
      CHECK(TTT::winner(s.cell) == 0);
      RandomStream rng(0, 0, Stream::kStep, 0);
      const auto tr = TTT::step({}, s, line[2], rng);
      CHECK(tr.reward == 1);
      CHECK(tr.terminated);
      CHECK(TTT::winner(s.cell) == agent);
    }
  }
}

TEST_CASE("tic-tac-toe: draw on a full board, opponent win, illegal move", "[envs][tic_tac_toe]") {
  RandomStream rng(0, 0, Stream::kStep, 0);
  TTT::State s = board("121122210", 1);
  auto tr = TTT::step({}, s, 8, rng);
  CHECK(tr.reward == 0);
  CHECK(tr.terminated);
  CHECK(TTT::legal_mask(s) == 0);
  double mask_sum = 0;
  TTT::visit_info({}, s, [&](const char* name, double v) {
    if (std::string(name).rfind("action_mask[", 0) == 0) mask_sum += v;
  });
  CHECK(mask_sum == 0);

  // The agent (2) takes cell 0; the opponent's only reply, cell 8, completes its line 6-7-8.
  s = board("021122110", 2);
  CHECK(TTT::winner(s.cell) == 0);
  tr = TTT::step({}, s, 0, rng);
  CHECK(s.cell[8] == 1);
  CHECK(tr.reward == -1);
  CHECK(tr.terminated);

  s = board("100000000", 2);
  tr = TTT::step({}, s, 0, rng);
  CHECK(tr.reward == -1);
  CHECK(tr.terminated);
  CHECK(s.illegal == 1);
  CHECK(s.cell[0] == 1);
  CHECK(TTT::popcount9(TTT::legal_mask(s)) == 8);  // board unchanged, no reply
}

TEST_CASE("tic-tac-toe: random play keeps the rules", "[envs][tic_tac_toe]") {
  // Random legal agent moves for 20,000 games: the opponent only takes empty cells, marks alternate,
  // and the reward agrees with the final board.
  for (uint32_t game = 0; game < 20000; ++game) {
    TTT::State s;
    RandomStream reset_rng(3, game, Stream::kReset, 0);
    TTT::reset({}, s, reset_rng);
    for (uint64_t t = 0; t < 9; ++t) {
      const TTT::State before = s;
      RandomStream rng(3, game, Stream::kStep, t);
      const uint32_t mask = TTT::legal_mask(s);
      int a = 0;
      for (uint32_t k = rng.below(TTT::popcount9(mask));; ++a) {
        if ((mask >> a) & 1u) {
          if (k == 0) break;
          --k;
        }
      }
      const auto tr = TTT::step({}, s, a, rng);
      int changed = 0;
      for (int i = 0; i < 9; ++i) {
        if (before.cell[i] != 0) REQUIRE(s.cell[i] == before.cell[i]);  // occupied cells stay
        changed += s.cell[i] != before.cell[i];
      }
      REQUIRE(s.cell[a] == s.agent);
      const int w = TTT::winner(s.cell);
      if (!tr.terminated) {
        REQUIRE(changed == 2);
        REQUIRE(w == 0);
        continue;
      }
      REQUIRE(tr.reward == (w == s.agent ? 1.0f : (w != 0 ? -1.0f : 0.0f)));
      if (w == 0) REQUIRE(TTT::legal_mask(s) == 0);
      break;
    }
  }
}

TEST_CASE("tic-tac-toe: fair coin for the first move", "[envs][tic_tac_toe]") {
  constexpr int kResets = 100000;
  int agent_first = 0;
  for (uint32_t env = 0; env < kResets; ++env) {
    TTT::State s;
    RandomStream rng(5, env, Stream::kReset, 0);
    TTT::reset({}, s, rng);
    const int marks = 9 - TTT::popcount9(TTT::legal_mask(s));
    REQUIRE(marks == (s.agent == 1 ? 0 : 1));
    agent_first += s.agent == 1;
  }
  // Binomial(1e5, 0.5): sd 158; 5 sd = 791.
  CHECK(std::abs(agent_first - kResets / 2) < 791);
}

TEST_CASE("tic-tac-toe: registry facts", "[envs][tic_tac_toe]") {
  const auto info = simkit::describe_env("TicTacToe-v0", simkit::Precision::kFloat32);
  CHECK(info.obs_dtype == "int8");
  CHECK(info.obs_dim == 9);
  CHECK(info.num_actions == 9);
  CHECK(info.max_episode_steps == 0);  // never truncated
  REQUIRE(info.info_fields.size() == 10);
  CHECK(info.info_fields[0] == "action_mask[0]");
  CHECK(info.info_fields[8] == "action_mask[8]");
  CHECK(info.info_fields[9] == "illegal");
}
