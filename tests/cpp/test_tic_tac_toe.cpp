// SPDX-License-Identifier: Apache-2.0
// TicTacToe-v0 through the engine (the shipped kernels of this process's SIMD target). State rows
// are (cell[0..8], agent, illegal).
#include <catch2/catch.hpp>
#include <cmath>
#include <string>

#include "engine_env.hpp"

using simkit::Precision;
using simkit::testing::EngineEnvs;

namespace {
constexpr size_t kFields = 11;

std::vector<double> board(const char* cells, int agent) {
  std::vector<double> row;
  for (int i = 0; i < 9; ++i) row.push_back(cells[i] - '0');
  row.push_back(agent);
  row.push_back(0);
  return row;
}

int winner(const double* c) {
  constexpr int kLines[8][3] = {{0, 1, 2}, {3, 4, 5}, {6, 7, 8}, {0, 3, 6}, {1, 4, 7}, {2, 5, 8}, {0, 4, 8}, {2, 4, 6}};
  for (const auto& l : kLines) {
    if (c[l[0]] != 0 && c[l[0]] == c[l[1]] && c[l[0]] == c[l[2]]) return static_cast<int>(c[l[0]]);
  }
  return 0;
}
int empty_cells(const double* c) {
  int n = 0;
  for (int i = 0; i < 9; ++i) n += c[i] == 0;
  return n;
}
}  // namespace

TEST_CASE("tic-tac-toe: every win line wins", "[envs][tic_tac_toe]") {
  const int lines[8][3] = {{0, 1, 2}, {3, 4, 5}, {6, 7, 8}, {0, 3, 6}, {1, 4, 7}, {2, 5, 8}, {0, 4, 8}, {2, 4, 6}};
  std::vector<double> rows, actions;
  for (const auto& line : lines) {
    for (int agent : {1, 2}) {
      std::vector<double> row(kFields, 0);
      row[9] = agent;
      row[line[0]] = row[line[1]] = agent;
      // Two opponent marks off the line (they cannot make a line of three).
      int placed = 0;
      for (int i = 0; i < 9 && placed < 2; ++i) {
        if (i != line[0] && i != line[1] && i != line[2]) {
          row[i] = 3 - agent;
          ++placed;
        }
      }
      REQUIRE(winner(row.data()) == 0);
      rows.insert(rows.end(), row.begin(), row.end());
      actions.push_back(line[2]);
    }
  }
  EngineEnvs envs("TicTacToe-v0", Precision::kFloat32, 16);
  envs.set_state(rows);
  const EngineEnvs::Out& o = envs.step(actions);
  const auto s = envs.state();
  for (int e = 0; e < 16; ++e) {
    INFO("board " << e);
    CHECK(o.reward[e] == 1);
    CHECK(o.terminated[e]);
    CHECK(winner(&s[e * kFields]) == s[e * kFields + 9]);
  }
}

TEST_CASE("tic-tac-toe: draw on a full board, opponent win, illegal move", "[envs][tic_tac_toe]") {
  EngineEnvs envs("TicTacToe-v0", Precision::kFloat32, 3);
  std::vector<double> rows;
  for (const auto& row : {board("121122210", 1), board("021122110", 2), board("100000000", 2)}) {
    rows.insert(rows.end(), row.begin(), row.end());
  }
  envs.set_state(rows);
  // Draw: the agent fills the last cell. The agent (2) takes cell 0 and the opponent's only reply,
  // cell 8, completes its line 6-7-8. Cell 0 is taken: illegal.
  const EngineEnvs::Out& o = envs.step({8, 0, 0});
  const auto s = envs.state();
  const size_t info_fields = envs.info().info_fields.size();
  CHECK(o.reward[0] == 0);
  CHECK(o.terminated[0]);
  CHECK(empty_cells(&s[0]) == 0);
  double mask_sum = 0;
  for (int a = 0; a < 9; ++a) mask_sum += o.info[a];  // info["action_mask"] of env 0
  CHECK(mask_sum == 0);

  CHECK(s[kFields + 8] == 1);
  CHECK(o.reward[1] == -1);
  CHECK(o.terminated[1]);

  CHECK(o.reward[2] == -1);
  CHECK(o.terminated[2]);
  CHECK(s[2 * kFields + 10] == 1);  // illegal
  CHECK(o.info[2 * info_fields + 9] == 1);  // info["illegal"]
  CHECK(s[2 * kFields + 0] == 1);
  CHECK(empty_cells(&s[2 * kFields]) == 8);  // board unchanged, no reply
  for (int a = 0; a < 9; ++a) CHECK(o.info[2 * info_fields + a] == (a == 0 ? 0 : 1));  // the mask
}

TEST_CASE("tic-tac-toe: random play keeps the rules", "[envs][tic_tac_toe]") {
  // Random legal agent moves in 20,000 games: the opponent only takes empty cells, marks alternate,
  // and the reward agrees with the final board.
  constexpr int kGames = 20000;
  EngineEnvs envs("TicTacToe-v0", Precision::kFloat32, kGames);
  envs.reset({3});
  std::vector<uint8_t> over(kGames, 0);
  uint64_t rng = 0x9E3779B97F4A7C15ull;  // xorshift64 for the test's own moves
  for (int t = 0; t < 9; ++t) {
    const auto before = envs.state();
    std::vector<double> actions(kGames, 0);
    for (int g = 0; g < kGames; ++g) {
      const double* c = &before[g * kFields];
      const int n = empty_cells(c);
      if (over[g] || n == 0) continue;
      rng ^= rng << 13;
      rng ^= rng >> 7;
      rng ^= rng << 17;
      int k = static_cast<int>(rng % static_cast<uint64_t>(n));
      for (int a = 0; a < 9; ++a) {
        if (c[a] == 0 && k-- == 0) actions[g] = a;
      }
    }
    const EngineEnvs::Out& o = envs.step(actions);
    const auto s = envs.state();
    for (int g = 0; g < kGames; ++g) {
      if (over[g]) continue;
      const double* b = &before[g * kFields];
      const double* c = &s[g * kFields];
      int changed = 0;
      for (int i = 0; i < 9; ++i) {
        if (b[i] != 0) REQUIRE(c[i] == b[i]);  // occupied cells stay
        changed += c[i] != b[i];
      }
      REQUIRE(c[static_cast<int>(actions[g])] == c[9]);
      const int w = winner(c);
      if (!o.terminated[g]) {
        REQUIRE(changed == 2);
        REQUIRE(w == 0);
        continue;
      }
      REQUIRE(o.reward[g] == (w == c[9] ? 1.0 : (w != 0 ? -1.0 : 0.0)));
      if (w == 0) REQUIRE(empty_cells(c) == 0);
      over[g] = 1;
    }
  }
  for (int g = 0; g < kGames; ++g) REQUIRE(over[g]);
}

TEST_CASE("tic-tac-toe: fair coin for the first move, and the mask at reset", "[envs][tic_tac_toe]") {
  constexpr int kResets = 100000;
  EngineEnvs envs("TicTacToe-v0", Precision::kFloat32, kResets);
  const auto obs = envs.reset({5});
  const auto s = envs.state();
  int agent_first = 0;
  for (int e = 0; e < kResets; ++e) {
    const double* c = &s[e * kFields];
    REQUIRE(9 - empty_cells(c) == (c[9] == 1 ? 0 : 1));
    for (int i = 0; i < 9; ++i) REQUIRE(obs[e * 9 + i] == c[i]);
    agent_first += c[9] == 1;
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
  CHECK(info.info_dtypes == std::vector<std::string>(10, "int8"));  // Gymnasium's masks are int8
}

namespace {
// info["action_mask"] of env e must be the empty cells of its observed board.
void check_mask_is_the_board(const EngineEnvs::Out& out, const std::vector<double>& obs, int e) {
  for (int a = 0; a < 9; ++a) CHECK(out.info[e * 10 + a] == (obs[e * 9 + a] == 0 ? 1 : 0));
}
}  // namespace

TEST_CASE("tic-tac-toe: the action mask is the new board's after reset and on the next_step reset step",
          "[envs][tic_tac_toe]") {
  EngineEnvs envs("TicTacToe-v0", Precision::kFloat32, 2, {}, -1, simkit::AutoresetMode::kNextStep, 5);
  const std::vector<double> reset_obs = envs.reset({5});
  for (int e = 0; e < 2; ++e) check_mask_is_the_board(envs.last(), reset_obs, e);
  std::vector<double> rows = board("121122210", 1);  // env 0 draws by filling cell 8
  const std::vector<double> empty_board = board("000000000", 1);
  rows.insert(rows.end(), empty_board.begin(), empty_board.end());
  envs.set_state(rows);
  const EngineEnvs::Out& ended = envs.step({8, 4});
  REQUIRE(ended.terminated[0]);
  REQUIRE_FALSE(ended.terminated[1]);
  for (int a = 0; a < 9; ++a) CHECK(ended.info[a] == 0);  // the full board
  const EngineEnvs::Out& next = envs.step({0, 0});  // env 0's reset step: its action is ignored
  CHECK(empty_cells(&next.obs[0]) >= 8);
  for (int e = 0; e < 2; ++e) check_mask_is_the_board(next, next.obs, e);
}
