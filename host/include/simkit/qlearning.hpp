// SPDX-License-Identifier: Apache-2.0
// Tabular Q-learning on TicTacToe-v0 over many envs in lockstep, after dist_classicrl's
// single-agent tabular Q-learning: https://github.com/j-moralejo-pinas/dist_classicrl
// A round = every env takes one step with an epsilon-greedy action (in parallel, reading the table),
// then the round's updates are applied in env index order, so results do not depend on threads.
// The per-env pieces are SIMKIT_HD functions so a CUDA kernel can run the same round.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "simkit/envs/tic_tac_toe.hpp"
#include "simkit/rollout.hpp"

namespace simkit::qlearning {

using Env = envs::TicTacToe<float>;

constexpr int kStates = 19683;  // 3^9 boards
constexpr int kActions = 9;

// The board as a base-3 number, cell 0 most significant.
SIMKIT_HD int32_t state_index(const Env::State& s) {
  int32_t idx = 0;
  for (int i = 0; i < 9; ++i) idx = idx * 3 + s.cell[i];
  return idx;
}

// max over legal a of row[a]; 0 when no move is legal (the value of a full board).
SIMKIT_HD float max_legal(const float* row, uint32_t mask) {
  float best = -HUGE_VALF;
  for (int a = 0; a < kActions; ++a) best = ((mask >> a) & 1u) && row[a] > best ? row[a] : best;
  return mask ? best : 0.0f;
}

// The legal action with the largest value, ties broken uniformly (one draw from rng).
SIMKIT_HD int greedy_action(const float* row, uint32_t mask, RandomStream<float>& rng) {
  const float best = max_legal(row, mask);
  uint32_t ties = 0;
  for (int a = 0; a < kActions; ++a) ties += ((mask >> a) & 1u) && row[a] == best ? 1u : 0u;
  uint32_t k = rng.below(ties);
  for (int a = 0; a < kActions; ++a) {
    if (((mask >> a) & 1u) && row[a] == best) {
      if (k == 0) return a;
      k -= 1;
    }
  }
  return -1;  // unreachable: mask has at least one legal move
}

// With probability epsilon a uniformly random legal move, else greedy_action.
SIMKIT_HD int epsilon_greedy(const float* row, uint32_t mask, float epsilon, RandomStream<float>& rng) {
  if (rng.uniform01() < epsilon) {
    uint32_t k = rng.below(static_cast<uint32_t>(Env::popcount9<float>(mask)));
    for (int a = 0; a < kActions; ++a) {
      if ((mask >> a) & 1u) {
        if (k == 0) return a;
        k -= 1;
      }
    }
  }
  return greedy_action(row, mask, rng);
}

// One env's transition in a round, for the ordered update.
struct Experience {
  int32_t state;       // index before the move
  int32_t next_state;  // index after the move and the opponent's reply
  uint16_t next_mask;  // legal moves in next_state
  int8_t action;
  int8_t done;  // the episode ended (next_state is terminal)
  float reward;
};

// The per-batch settings of one round.
struct RoundParams {
  uint64_t seed;
  uint64_t round;  // the batch clock: env draws use (seed, env, stream, round)
  float epsilon;
};

// One env's part of a round: act epsilon-greedily from the table (Stream::kAgent draws), step the
// env (Stream::kStep), record the transition and reset the env if the episode ended (Stream::kReset).
SIMKIT_HD void act_one(const float* q, const RoundParams& rp, uint32_t env, Env::State& s,
                              Experience& out) {
  const Env::Params p{};
  const Seeds seeds{rp.seed};
  RandomStream<float> agent(seeds, env, Stream::kAgent, rp.round);
  RandomStream<float> env_rng(seeds, env, Stream::kStep, rp.round);
  out.state = state_index(s);
  out.action = static_cast<int8_t>(epsilon_greedy(q + out.state * kActions, Env::legal_mask(s), rp.epsilon, agent));
  const Transition<float> tr = Env::step(p, s, out.action, env_rng);
  out.next_state = state_index(s);
  out.next_mask = static_cast<uint16_t>(Env::legal_mask(s));
  out.done = tr.terminated ? 1 : 0;
  out.reward = tr.reward;
  if (tr.terminated) {
    RandomStream<float> reset_rng(seeds, env, Stream::kReset, rp.round + 1);
    Env::reset(p, s, reset_rng);
  }
}

// Q(s, a) += alpha (r + gamma (1 - done) max_legal Q(s', .) - Q(s, a)).
SIMKIT_HD void apply_update(float* q, const Experience& e, float alpha, float gamma) {
  const float next = e.done ? 0.0f : max_legal(q + e.next_state * kActions, e.next_mask);
  float& v = q[e.state * kActions + e.action];
  v += alpha * (e.reward + gamma * next - v);
}

struct Config {
  int64_t num_envs = 4096;  // this process's envs
  // Over several processes (MPI ranks): this process trains envs [env_offset, env_offset + num_envs)
  // of total_envs (0: num_envs), and an Exchange hands it every process's transitions each round.
  int64_t env_offset = 0;
  int64_t total_envs = 0;
  uint64_t seed = 0;
  int threads = 0;  // 0 = all cores
  float gamma = 0.99f;
  float alpha = 0.1f;  // initial learning rate
  float alpha_decay = 0.995f;
  float alpha_min = 1e-5f;
  float epsilon = 1.0f;  // initial exploration rate
  float epsilon_decay = 0.995f;
  float epsilon_min = 0.01f;
};

struct Evaluation {
  int64_t games = 0;
  int64_t wins = 0, draws = 0, losses = 0;
  double win_rate() const { return games ? double(wins) / games : 0; }
  double draw_rate() const { return games ? double(draws) / games : 0; }
  double loss_rate() const { return games ? double(losses) / games : 0; }
};

// The transitions of every process's envs in global env order, from this process's (an allgather in
// rank order): every process then applies the same updates in the same order, so the tables stay
// equal to each other and to a one-process run.
using Exchange = std::function<void(const std::vector<Experience>& mine, std::vector<Experience>& all)>;

// Trains on the CPU backend (OpenMP over envs, then the ordered update).
class Trainer {
 public:
  explicit Trainer(const Config& config);  // ConfigError on bad values

  void set_exchange(Exchange exchange) { exchange_ = std::move(exchange); }
  void train(uint64_t rounds);
  // The greedy policy (uniform tie-breaking) against the random opponent, one game per env index,
  // from a seed disjoint from training's.
  Evaluation evaluate(int64_t games, uint64_t seed) const { return evaluate_games(0, games, seed); }
  // Games [first, first + games) of an evaluation split over processes (add the Evaluations up).
  Evaluation evaluate_games(int64_t first, int64_t games, uint64_t seed) const;

  int64_t num_envs() const { return config_.num_envs; }
  uint64_t rounds() const { return round_; }
  int64_t total_envs() const { return config_.total_envs; }
  uint64_t env_steps() const { return round_ * static_cast<uint64_t>(config_.total_envs); }  // every process's
  float epsilon() const { return epsilon_; }
  float alpha() const { return alpha_; }
  int threads() const { return threads_; }
  const std::vector<float>& table() const { return q_; }
  void set_table(std::vector<float> q);  // kStates x kActions

 private:
  Config config_;
  int threads_;
  uint64_t round_ = 0;
  float epsilon_, alpha_;
  std::vector<float> q_;
  std::vector<Env::State> state_;
  std::vector<Experience> experience_;
  std::vector<Experience> all_experience_;  // with an exchange: every process's, in env order
  Exchange exchange_;
};

// The table as a numpy .npy file (format 1.0): '<f4', shape (19683, 9), C order.
void save_npy(const std::string& path, const std::vector<float>& q);
// Reads '<f4' or '<f8' tables of shape (19683, 9) in C order; ConfigError otherwise.
std::vector<float> load_npy(const std::string& path);

}  // namespace simkit::qlearning
