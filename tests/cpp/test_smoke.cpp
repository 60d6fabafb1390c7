#include <catch2/catch.hpp>

#include "simkit/simulator.hpp"

TEST_CASE("cartpole rollout runs", "[smoke]") {
  simkit::SimConfig c;
  c.num_envs = 1000;
  auto sim = simkit::make_cpu_simulator(c);
  auto s = sim->rollout(1000, 32);
  CHECK(s.steps == 1000000);
  CHECK(s.mean_episode_length() > 15);
}
