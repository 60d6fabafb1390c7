// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>

#include "simkit/qlearning.hpp"
#include "simkit/simulator.hpp"

namespace ql = simkit::qlearning;

TEST_CASE("q-learning: the greedy policy beats the random opponent", "[qlearning]") {
  // 4096 envs x 600 rounds (2.5M steps, ~0.4 s on one idle core in Release). By round 600 epsilon
  // is 0.05 and alpha 5e-3; the win rate plateaus near 95.5% with no losses by round 500. One thread:
  // on a loaded machine OpenMP barriers per round cost more than they save at this size.
  ql::Config c;
  c.num_envs = 4096;
  c.seed = 7;
  c.threads = 1;
  ql::Trainer trainer(c);
  trainer.train(600);
  const ql::Evaluation ev = trainer.evaluate(100000, 1234);
  INFO("win " << ev.win_rate() << " draw " << ev.draw_rate() << " loss " << ev.loss_rate());
  CHECK(ev.wins + ev.draws + ev.losses == 100000);
  CHECK(ev.loss_rate() < 0.01);
  CHECK(ev.win_rate() >= 0.90);
}

TEST_CASE("q-learning: independent of the thread count", "[qlearning][determinism]") {
  auto table = [](int threads) {
    ql::Config c;
    c.num_envs = 3000;
    c.seed = 3;
    c.threads = threads;
    ql::Trainer trainer(c);
    trainer.train(40);
    return trainer.table();
  };
  CHECK(table(1) == table(2));
}

TEST_CASE("q-learning: state index, update rule, schedules", "[qlearning]") {
  ql::Env::State s{};
  s.cell[0] = 2;
  s.cell[8] = 1;
  CHECK(ql::state_index(s) == 2 * 6561 + 1);
  std::vector<float> q(ql::kStates * ql::kActions, 0.0f);
  q[5 * 9 + 3] = 0.5f;  // next state 5: legal moves {3, 4}, best 0.5
  ql::apply_update(q.data(), {1, 5, (1u << 3) | (1u << 4), 2, 0, 0.0f}, 0.1f, 0.99f);
  CHECK(q[1 * 9 + 2] == Approx(0.1 * 0.99 * 0.5));
  ql::apply_update(q.data(), {1, 5, (1u << 3) | (1u << 4), 2, 1, 1.0f}, 0.1f, 0.99f);  // terminal
  CHECK(q[1 * 9 + 2] == Approx(0.0495 * 0.9 + 0.1));
  ql::Config c;
  c.num_envs = 8;
  ql::Trainer trainer(c);
  trainer.train(2000);
  CHECK(trainer.epsilon() == Approx(0.01f));
  CHECK(trainer.alpha() == Approx(1e-5f));
}

TEST_CASE("q-learning: .npy round trip", "[qlearning]") {
  std::vector<float> q(ql::kStates * ql::kActions);
  for (size_t i = 0; i < q.size(); ++i) q[i] = static_cast<float>(i) * 0.25f;
  const std::string path = "simkit_test_qtable.npy";
  ql::save_npy(path, q);
  CHECK(ql::load_npy(path) == q);
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  const auto size = static_cast<size_t>(in.tellg());
  CHECK((size - q.size() * 4) % 64 == 0);  // header padded to 64 bytes
  CHECK_THROWS_AS(ql::load_npy("does_not_exist.npy"), simkit::ConfigError);
  std::remove(path.c_str());
}
