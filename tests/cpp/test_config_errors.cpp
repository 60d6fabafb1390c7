// SPDX-License-Identifier: Apache-2.0
// Bad configuration reaching the C++ API directly (not through a CLI or Python): a ConfigError naming
// the argument and its limit, before anything is allocated or run.
#include <catch2/catch.hpp>
#include <limits>
#include <string>
#include <vector>

#include "simkit/devices.hpp"
#include "simkit/qlearning.hpp"
#include "simkit/registry.hpp"
#include "simkit/state_io.hpp"

using namespace simkit;
using Catch::Matchers::Contains;

TEST_CASE("config: threads are bounded by 4096", "[config][cpu]") {
  CHECK(cpu::resolve_threads(4096) == 4096);
  CHECK_THROWS_WITH(cpu::resolve_threads(4097), Contains("threads must be in [0, 4096]"));
  CHECK_THROWS_AS(cpu::resolve_threads(-1), ConfigError);
  SimConfig c;
  c.num_envs = 4;
  c.threads = 100000;
  CHECK_THROWS_WITH(make_cpu_simulator(c), Contains("threads"));
  qlearning::Config q;
  q.threads = 50000;
  CHECK_THROWS_WITH(qlearning::Trainer(q), Contains("threads"));
}

TEST_CASE("config: env parameters take only the values their fields hold", "[config][envs]") {
  using CartPole = envs::CartPole<float>;
  const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
  CHECK(make_params<CartPole>({{"euler", 0}, {"sutton_barto_reward", 1}}).euler == 0);
  CHECK_THROWS_WITH(make_params<CartPole>({{"euler", 0.9}}), Contains("'euler'") && Contains("0 or 1 (got 0.9)"));
  CHECK_THROWS_WITH(make_params<CartPole>({{"euler", 2}}), Contains("'euler'"));
  CHECK_THROWS_WITH(make_params<CartPole>({{"sutton_barto_reward", nan}}), Contains("'sutton_barto_reward'"));
  CHECK_THROWS_WITH(make_params<envs::Acrobot<double>>({{"book", 2}}), Contains("'book'"));
  CHECK_THROWS_WITH(make_params<envs::ChemicalReactor<float>>({{"safety", 0.5}}), Contains("'safety'"));
  CHECK_THROWS_WITH(make_params<envs::GeneCircuit<float>>({{"target", -1}}), Contains("'target'"));
  CHECK(make_params<envs::GeneCircuit<float>>({{"target", 1}}).target == 1);
  // floating parameters: finite, and within the field's type
  CHECK_THROWS_WITH(make_params<CartPole>({{"reset_low", nan}}), Contains("'reset_low'") && Contains("finite"));
  CHECK_THROWS_WITH(make_params<envs::Pendulum<double>>({{"g", inf}}), Contains("'g'"));
  CHECK_THROWS_WITH(make_params<CartPole>({{"reset_low", -1e300}}), Contains("'reset_low'"));  // beyond float
  CHECK(make_params<envs::CartPole<double>>({{"reset_low", -1e300}}).reset_low == -1e300);
  // reset bounds are one interval, checked after every override (and the defaults) apply
  CHECK_THROWS_WITH(make_params<CartPole>({{"reset_low", 0.06}}),
                    Contains("reset_low=0.06 of CartPole-v1 is greater than reset_high=0.05"));
  CHECK_THROWS_AS(make_params<envs::MountainCar<double>>({{"reset_low", 0.5}, {"reset_high", 0.4}}), ConfigError);
  CHECK(make_params<CartPole>({{"reset_low", 0.1}, {"reset_high", 0.2}}).reset_high == 0.2f);
  // through the run-time API and a simulator's set_params
  CHECK_THROWS_WITH(check_params("CartPole-v1", Precision::kFloat64, {{"euler", 0.5}}), Contains("'euler'"));
  SimConfig c;
  c.num_envs = 2;
  auto sim = make_cpu_simulator(c);
  CHECK_THROWS_WITH(sim->set_params({{"reset_high", -0.1}}), Contains("greater than reset_high=-0.1"));
}

TEST_CASE("config: max_episode_steps fits the episode clock (compared as int32)", "[config][cpu]") {
  SimConfig c;
  c.num_envs = 2;
  c.max_episode_steps = int64_t{1} << 32;  // would wrap to 0: never truncate
  CHECK_THROWS_WITH(make_cpu_simulator(c), Contains("max_episode_steps must be in [0, 2147483647]"));
  c.max_episode_steps = int64_t{1} << 31;
  CHECK_THROWS_AS(make_cpu_simulator(c), ConfigError);
  c.max_episode_steps = -2;
  CHECK_THROWS_AS(make_cpu_simulator(c), ConfigError);
  c.max_episode_steps = INT32_MAX;
  CHECK(make_cpu_simulator(c));
  std::vector<uint32_t> elapsed = {0, uint32_t{1} << 31};
  CHECK_THROWS_WITH(make_cpu_simulator(c)->set_elapsed(elapsed.data()), Contains("elapsed[1] = 2147483648"));
}

TEST_CASE("config: set_state checks every value before converting any", "[config][cpu]") {
  using Board = envs::TicTacToe<float>;
  std::vector<double> rows(2 * 11, 0.0);
  rows[9] = rows[11 + 9] = 1;  // agent marks
  CHECK_NOTHROW(check_state_values<Board>(rows.data(), 2));
  rows[11 + 4] = 300;  // int8: a cast would wrap it to 44
  CHECK_THROWS_WITH(check_state_values<Board>(rows.data(), 2), Contains("state row 1 of TicTacToe-v0: cell[4] = 300"));
  rows[11 + 4] = 3;  // fits int8 but is no mark: outside the observation space [0, 2]
  CHECK_THROWS_WITH(check_state_values<Board>(rows.data(), 2), Contains("observation[4] = 3 is outside"));
  SimConfig c;
  c.env_id = "GeneCircuit-v0";
  c.num_envs = 2;
  auto sim = make_cpu_simulator(c);
  sim->reset({1}, nullptr, nullptr);
  std::vector<double> state(8), after(8);
  sim->get_state(state.data());
  std::vector<double> bad = state;
  bad[4 + 1] = 1e10;  // env 1's f: beyond int32
  CHECK_THROWS_WITH(sim->set_state(bad.data()), Contains("f = 10000000000 does not fit"));
  sim->get_state(after.data());
  CHECK(after == state);
}

TEST_CASE("config: Q-learning rates and factors are fractions", "[config][qlearning]") {
  const auto with = [](float qlearning::Config::*field, float value) {
    qlearning::Config c;
    c.num_envs = 4;
    c.*field = value;
    return c;
  };
  const float nan = std::numeric_limits<float>::quiet_NaN();
  CHECK_THROWS_WITH(qlearning::Trainer(with(&qlearning::Config::gamma, nan)), Contains("gamma must be in [0, 1]"));
  CHECK_THROWS_WITH(qlearning::Trainer(with(&qlearning::Config::alpha, -1)), Contains("alpha must be in [0, 1]"));
  CHECK_THROWS_WITH(qlearning::Trainer(with(&qlearning::Config::epsilon, 2)), Contains("epsilon must be in [0, 1]"));
  CHECK_THROWS_AS(qlearning::Trainer(with(&qlearning::Config::epsilon_decay, 1.5f)), ConfigError);
  CHECK_NOTHROW(qlearning::Trainer(with(&qlearning::Config::epsilon, 0)));
  // evaluation games are indexed like envs, in 32 bits
  CHECK_THROWS_WITH(qlearning::Trainer(with(&qlearning::Config::epsilon, 0)).evaluate(int64_t{1} << 32, 0),
                    Contains("games must be in [1, 2^32)"));
}
