// SPDX-License-Identifier: Apache-2.0
// Foraging-v0 through the engine (the shipped kernels of this process's SIMD target), transitions
// checked by hand against shared/specs/envs.md. State rows per world: (node_x, node_y, node_amount)
// for each of the 20 nodes, then (x, y, energy, hungry, reward) for each agent.
#include <catch2/catch.hpp>
#include <cmath>
#include <string>
#include <vector>

#include "engine_env.hpp"

using simkit::AutoresetMode;
using simkit::ConfigError;
using simkit::Precision;
using simkit::testing::EngineEnvs;

namespace {
constexpr int kNodes = 20;
constexpr int kNodeFields = 3, kAgentFields = 5;
constexpr int kObsDim = 4 * 169;
enum Action { kStay = 0, kUp = 1, kDown = 2, kLeft = 3, kRight = 4, kGather = 5 };

// One world: every node empty in the far corner unless set, agents at full energy.
struct World {
  std::vector<double> nodes = std::vector<double>(kNodes * kNodeFields);
  std::vector<double> agents;
  World() {
    for (int n = 0; n < kNodes; ++n) node(n, 99, 99, 0);
  }
  World& node(int n, int x, int y, int amount) {
    nodes[n * kNodeFields] = x;
    nodes[n * kNodeFields + 1] = y;
    nodes[n * kNodeFields + 2] = amount;
    return *this;
  }
  World& agent(int x, int y, double energy = 5, int hungry = 0) {
    agents.insert(agents.end(), {double(x), double(y), energy, double(hungry), 0.0});
    return *this;
  }
  std::vector<double> row() const {
    std::vector<double> r = nodes;
    r.insert(r.end(), agents.begin(), agents.end());
    return r;
  }
};

std::vector<double> rows_of(const std::vector<World>& worlds) {
  std::vector<double> out;
  for (const World& w : worlds) {
    const std::vector<double> r = w.row();
    out.insert(out.end(), r.begin(), r.end());
  }
  return out;
}

double agent_field(const std::vector<double>& state, int agents, int world, int a, int field) {
  const size_t width = kNodes * kNodeFields + static_cast<size_t>(agents) * kAgentFields;
  return state[world * width + kNodes * kNodeFields + a * kAgentFields + field];
}
double node_amount(const std::vector<double>& state, int agents, int world, int n) {
  const size_t width = kNodes * kNodeFields + static_cast<size_t>(agents) * kAgentFields;
  return state[world * width + n * kNodeFields + 2];
}

EngineEnvs make(double agents, int64_t worlds = 1, Precision precision = Precision::kFloat32,
                AutoresetMode mode = AutoresetMode::kDisabled) {
  return EngineEnvs("Foraging-v0", precision, worlds, {{"num_agents", agents}}, -1, mode);
}
}  // namespace

TEST_CASE("foraging: moves go one cell and stop at the walls", "[envs][foraging]") {
  for (const Precision precision : {Precision::kFloat32, Precision::kFloat64}) {
    EngineEnvs envs = make(6, 1, precision);
    World w;
    w.agent(0, 0).agent(0, 0).agent(99, 99).agent(99, 99).agent(50, 50).agent(50, 50);
    envs.set_state(w.row());
    const auto& o = envs.step({kUp, kLeft, kDown, kRight, kStay, kDown});
    const std::vector<double> s = envs.state();
    const int want[6][2] = {{0, 0}, {0, 0}, {99, 99}, {99, 99}, {50, 50}, {50, 51}};
    for (int a = 0; a < 6; ++a) {
      CHECK(agent_field(s, 6, 0, a, 0) == want[a][0]);
      CHECK(agent_field(s, 6, 0, a, 1) == want[a][1]);
      // pays 0.15, earns 0.1 for being alive
      CHECK(agent_field(s, 6, 0, a, 2) == Approx(4.85));
      CHECK(o.reward[a] == Approx(-0.05).margin(1e-6));
      CHECK_FALSE(o.terminated[a]);
    }
  }
}

TEST_CASE("foraging: gather takes up to 3 from the nearest non-empty node, lower agent index first",
          "[envs][foraging]") {
  EngineEnvs envs = make(4);
  World w;
  w.node(0, 11, 10, 4)   // distance 1 from agents 0 and 1
      .node(1, 12, 10, 9)  // distance 2: not the nearest
      .node(2, 40, 40, 0)  // empty, next to agent 2
      .node(3, 43, 40, 5)  // distance 3 from agent 2: in range
      .node(4, 73, 71, 5); // squared distance 10 from agent 3: out of range
  w.agent(10, 10).agent(10, 10).agent(40, 40).agent(70, 70);
  envs.set_state(w.row());
  const auto& o = envs.step({kGather, kGather, kGather, kGather});
  const std::vector<double> s = envs.state();
  // Node 0 (4 units): agent 0 takes 3, agent 1 the last one; regrowth may add 2 afterwards.
  CHECK(agent_field(s, 4, 0, 0, 2) == Approx(5 + 3 - 0.15));
  CHECK(agent_field(s, 4, 0, 1, 2) == Approx(5 + 1 - 0.15));
  CHECK(o.reward[0] == Approx(3 - 0.15 + 0.1));
  CHECK(o.reward[1] == Approx(1 - 0.15 + 0.1));
  const auto regrown = [&](int n, int left) {
    const double got = node_amount(s, 4, 0, n);
    return got == left || got == std::min(left + 2, 30);
  };
  CHECK(regrown(0, 0));
  CHECK(regrown(1, 9));
  CHECK(agent_field(s, 4, 0, 2, 2) == Approx(5 + 3 - 0.15));  // skipped the empty node
  CHECK(regrown(3, 2));
  CHECK(agent_field(s, 4, 0, 3, 2) == Approx(5 - 0.15));  // nothing in range
  CHECK(regrown(4, 5));
}

TEST_CASE("foraging: equally near nodes go to the lower node index", "[envs][foraging]") {
  EngineEnvs envs = make(1);
  World w;
  w.node(5, 21, 20, 6).node(2, 19, 20, 6).agent(20, 20);
  envs.set_state(w.row());
  envs.step({kGather});
  const std::vector<double> s = envs.state();
  const double n2 = node_amount(s, 1, 0, 2), n5 = node_amount(s, 1, 0, 5);
  CHECK((n2 == 3 || n2 == 5));
  CHECK((n5 == 6 || n5 == 8));
}

TEST_CASE("foraging: nodes regrow +2 with probability 0.1, capped at 30", "[envs][foraging]") {
  constexpr int kWorlds = 2000;
  EngineEnvs envs = make(1, kWorlds);
  std::vector<World> worlds(kWorlds);
  for (World& w : worlds) {
    for (int n = 0; n < kNodes; ++n) w.node(n, n, 0, n == 0 ? 30 : (n == 1 ? 29 : 10));
    w.agent(50, 50);
  }
  envs.set_state(rows_of(worlds));
  envs.step(std::vector<double>(kWorlds, kStay));
  const std::vector<double> s = envs.state();
  int grown = 0, total = 0;
  for (int i = 0; i < kWorlds; ++i) {
    CHECK(node_amount(s, 1, i, 0) == 30);
    const double capped = node_amount(s, 1, i, 1);
    CHECK((capped == 29 || capped == 30));
    for (int n = 2; n < kNodes; ++n) {
      const double v = node_amount(s, 1, i, n);
      REQUIRE((v == 10 || v == 12));
      grown += v == 12;
      ++total;
    }
  }
  // 36,000 Bernoulli(0.1) draws: the standard deviation of the rate is 0.0016.
  CHECK(double(grown) / total == Approx(0.1).margin(0.008));
}

TEST_CASE("foraging: an agent dies after 10 steps at or below 0, with the death penalty", "[envs][foraging]") {
  EngineEnvs envs = make(2);
  World w;
  w.agent(5, 5, 0.1).agent(60, 60);  // agent 0 goes to -0.05 on its first step
  envs.set_state(w.row());
  for (int k = 1; k <= 10; ++k) {
    const auto& o = envs.step({kStay, kStay});
    const std::vector<double> s = envs.state();
    CHECK(agent_field(s, 2, 0, 0, 3) == k);
    if (k < 10) {
      CHECK_FALSE(o.terminated[0]);
      CHECK(o.reward[0] == Approx(-0.05).margin(1e-5));
    } else {
      CHECK(o.terminated[0]);
      CHECK(o.reward[0] == Approx(-0.15 - 10));
    }
    CHECK_FALSE(o.terminated[1]);
  }
  // Dead: no reward, no moves, and its row stays terminated.
  const auto& o = envs.step({kRight, kStay});
  const std::vector<double> s = envs.state();
  CHECK(o.reward[0] == 0);
  CHECK(o.terminated[0]);
  CHECK(agent_field(s, 2, 0, 0, 0) == 5);
  CHECK_FALSE(o.terminated[1]);
}

TEST_CASE("foraging: energy above 0 clears the hunger count", "[envs][foraging]") {
  EngineEnvs envs = make(1);
  World w;
  w.node(0, 30, 31, 8).agent(30, 30, -0.05, 9);
  envs.set_state(w.row());
  const auto& o = envs.step({kGather});
  CHECK_FALSE(o.terminated[0]);
  const std::vector<double> s = envs.state();
  CHECK(agent_field(s, 1, 0, 0, 3) == 0);
  CHECK(agent_field(s, 1, 0, 0, 2) == Approx(-0.05 + 3 - 0.15));
}

TEST_CASE("foraging: the world terminates when every agent is dead", "[envs][foraging]") {
  EngineEnvs envs = make(2, 2, Precision::kFloat32, AutoresetMode::kNextStep);
  World last, survivor;
  last.agent(1, 1, -1, 9).agent(2, 2, -1, 9);
  survivor.agent(1, 1, -1, 9).agent(2, 2);
  envs.set_state(rows_of({last, survivor}));
  const auto& o = envs.step({kStay, kStay, kStay, kStay});
  CHECK(o.terminated[0]);
  CHECK(o.terminated[1]);
  CHECK(o.reward[0] == Approx(-0.15 - 10));
  CHECK(o.terminated[2]);
  CHECK_FALSE(o.terminated[3]);
  CHECK_FALSE(o.truncated[0]);
  // next_step autoreset: the next call resets world 0 (reward 0, flags clear) and steps world 1.
  const auto& r = envs.step({kStay, kStay, kStay, kStay});
  CHECK(r.reward[0] == 0);
  CHECK_FALSE(r.terminated[0]);
  CHECK_FALSE(r.terminated[1]);
  std::vector<uint32_t> elapsed(2);
  envs.sim().get_elapsed(elapsed.data());
  CHECK(elapsed[0] == 0);
  CHECK(elapsed[1] == 2);
}

TEST_CASE("foraging: truncated after 1000 steps, every agent row", "[envs][foraging]") {
  EngineEnvs envs = make(3);
  World w;
  w.agent(1, 1).agent(2, 2).agent(3, 3, -1, 9);
  envs.set_state(w.row(), {999});
  const auto& o = envs.step({kStay, kStay, kStay});
  for (int a = 0; a < 3; ++a) CHECK(o.truncated[a]);
  CHECK_FALSE(o.terminated[0]);
  CHECK(o.terminated[2]);  // died on the last step
  EngineEnvs early = make(1);
  World one;
  one.agent(1, 1);
  early.set_state(one.row(), {998});
  CHECK_FALSE(early.step({kStay}).truncated[0]);
}

TEST_CASE("foraging: the egocentric window shows self, other agents, resources and the outside",
          "[envs][foraging]") {
  EngineEnvs envs = make(3);
  World w;
  w.node(0, 1, 0, 15).agent(0, 0).agent(2, 1).agent(0, 0, -1, 10);  // agent 2 is dead
  envs.set_state(w.row());
  const std::vector<double> obs = envs.observe();
  const auto at = [&](int a, int channel, int dy, int dx) {
    return obs[a * kObsDim + channel * 169 + (dy + 6) * 13 + (dx + 6)];
  };
  CHECK(at(0, 0, 0, 0) == 1);
  CHECK(at(0, 0, 0, 1) == 0);
  CHECK(at(0, 1, 1, 2) == 1);   // agent 1
  CHECK(at(0, 1, 0, 0) == 0);   // only the dead agent shares agent 0's cell
  CHECK(at(0, 2, 0, 1) == Approx(0.5));
  CHECK(at(0, 3, -1, 0) == 1);  // above the world
  CHECK(at(0, 3, 0, -1) == 1);
  CHECK(at(0, 3, 6, 6) == 0);
  CHECK(at(1, 1, -1, -2) == 1);  // agent 0, seen from agent 1
  CHECK(at(1, 2, -1, -1) == Approx(0.5));
  CHECK(at(2, 0, 0, 0) == 0);    // a dead agent's self channel is empty
  CHECK(at(2, 1, 0, 0) == 1);    // and it sees agent 0 in its cell
  double sum = 0;
  for (int k = 0; k < 169; ++k) sum += at(0, 1, k / 13 - 6, k % 13 - 6);
  CHECK(sum == 1);
}

TEST_CASE("foraging: num_agents and actions are checked before anything changes", "[envs][foraging][errors]") {
  for (const double bad : {0.0, -3.0, 513.0, 2.5}) {
    CHECK_THROWS_WITH(make(bad), Catch::Contains("num_agents") && Catch::Contains("[1, 512]"));
  }
  CHECK_THROWS_AS(make(0), ConfigError);
  EngineEnvs envs = make(4, 2);
  envs.reset({5});
  const std::vector<double> before = envs.state();
  CHECK_THROWS_WITH(envs.step({0, 1, 2, 3, 4, 5, 6, 0}), Catch::Contains("actions[6] = 6"));
  CHECK(envs.state() == before);
  CHECK_THROWS_WITH(envs.sim().set_params({{"num_agents", 5}}), Catch::Contains("num_agents is fixed"));
}

TEST_CASE("foraging: bytes per env grow with the agents", "[envs][foraging][planner]") {
  const auto info10 = simkit::describe_env("Foraging-v0", Precision::kFloat32, {{"num_agents", 10}});
  const auto info100 = simkit::describe_env("Foraging-v0", Precision::kFloat32, {{"num_agents", 100}});
  CHECK(info10.num_agents == 10);
  CHECK(info10.state_fields.size() == 60 + 50);
  CHECK(info100.env_bytes - info10.env_bytes == 90 * (1 + 1 + 4 + 1 + 4));
  CHECK(info10.obs_dim == kObsDim);
}
