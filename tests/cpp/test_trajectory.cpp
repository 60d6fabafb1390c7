// SPDX-License-Identifier: Apache-2.0
// Trajectory mode on the CPU: the reference the CUDA trajectory mode is compared with.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <vector>

#include "simkit/envs/cartpole.hpp"
#include "simkit/rollout.hpp"
#include "simkit/simulator.hpp"

using namespace simkit;

namespace {
struct Recorded {
  std::vector<float> obs;
  std::vector<float> reward;
  std::vector<uint8_t> terminated, truncated;
  std::vector<int32_t> actions;
  std::vector<uint64_t> t0;
  RolloutStats stats;
  std::vector<double> state;
};

Recorded record(int64_t n, uint64_t steps, int chunk, int threads, bool trajectory = true,
                int64_t max_episode_steps = -1) {
  SimConfig c;
  c.num_envs = n;
  c.seed = 7;
  c.threads = threads;
  c.max_episode_steps = max_episode_steps;
  auto sim = make_cpu_simulator(c);
  Recorded r;
  if (trajectory) {
    r.stats = sim->rollout_trajectory(steps, chunk, [&](const TrajectoryChunk& ch) {
      REQUIRE(ch.num_envs == n);
      const size_t m = static_cast<size_t>(ch.steps) * static_cast<size_t>(n);
      const float* o = static_cast<const float*>(ch.obs);
      r.obs.insert(r.obs.end(), o, o + m * 4);
      const float* rw = static_cast<const float*>(ch.reward);
      r.reward.insert(r.reward.end(), rw, rw + m);
      r.terminated.insert(r.terminated.end(), ch.terminated, ch.terminated + m);
      r.truncated.insert(r.truncated.end(), ch.truncated, ch.truncated + m);
      const int32_t* a = static_cast<const int32_t*>(ch.actions);
      r.actions.insert(r.actions.end(), a, a + m);
      r.t0.push_back(ch.t0);
    });
  } else {
    r.stats = sim->rollout(steps, chunk);
  }
  r.state.resize(static_cast<size_t>(n) * 4);
  sim->get_state(r.state.data());
  return r;
}
}  // namespace

TEST_CASE("cpu trajectory mode: same run as statistics mode", "[trajectory][cpu][cartpole]") {
  const int64_t n = 1500;  // three tiles, the last one partial
  const Recorded traj = record(n, 200, 32, 2);
  const Recorded stats = record(n, 200, 32, 2, false);
  CHECK(traj.stats.steps == stats.stats.steps);
  CHECK(traj.stats.episodes.episodes == stats.stats.episodes.episodes);
  CHECK(traj.stats.episodes.length_sum == stats.stats.episodes.length_sum);
  CHECK(traj.stats.episodes.return_sum == Approx(stats.stats.episodes.return_sum).epsilon(1e-12));
  // Bit for bit: the scalar trajectory loop and the vectorized run_tile evaluate the same expressions.
  REQUIRE(traj.state.size() == stats.state.size());
  for (size_t i = 0; i < traj.state.size(); ++i) CHECK(traj.state[i] == stats.state[i]);
  // chunks of 32, the last one 8 steps
  CHECK(traj.t0 == std::vector<uint64_t>{0, 32, 64, 96, 128, 160, 192});
  CHECK(traj.reward.size() == 200u * n);
}

TEST_CASE("cpu trajectory mode: consistent records", "[trajectory][cpu][cartpole]") {
  // Episodes truncated at 30 steps (random-policy CartPole lasts 22 on average, so both endings occur).
  constexpr uint32_t kLimit = 30;
  const int64_t n = 64;
  const Recorded r = record(n, 300, 16, 1, true, kLimit);
  uint64_t episodes = 0, truncations = 0, length_sum = 0;
  std::vector<uint32_t> length(static_cast<size_t>(n), 0);  // steps of each env's current episode
  for (size_t s = 0; s < r.terminated.size(); ++s) {
    CHECK(r.reward[s] == 1.0f);
    CHECK((r.actions[s] == 0 || r.actions[s] == 1));
    uint32_t& steps = length[s % static_cast<size_t>(n)];
    steps += 1;
    CHECK(static_cast<bool>(r.truncated[s]) == (steps == kLimit));  // exactly at the limit
    if (r.terminated[s] || r.truncated[s]) {
      episodes += 1;
      length_sum += steps;
      steps = 0;
    }
    truncations += r.truncated[s];
  }
  CHECK(truncations > 0);
  CHECK(truncations < episodes);
  CHECK(episodes == r.stats.episodes.episodes);
  CHECK(length_sum == r.stats.episodes.length_sum);
  // After an episode of L steps ends at step k, the next observation is its autoreset: CartPole's
  // reset drawn at (seed, env, kAutoreset, k + 1 - L), the step the ended episode started at.
  std::fill(length.begin(), length.end(), 0);
  const envs::CartPole<float>::Params params{};
  uint64_t checked = 0;
  for (size_t k = 0; k + 1 < 300; ++k) {
    for (int64_t i = 0; i < n; ++i) {
      const size_t s = k * n + static_cast<size_t>(i);
      uint32_t& steps = length[static_cast<size_t>(i)];
      steps += 1;
      if (r.terminated[s] || r.truncated[s]) {
        envs::CartPole<float>::State want;
        RandomStream<float> rng(Seeds{7}, static_cast<uint32_t>(i), step_words<uint32_t>(Stream::kAutoreset, k + 1 - steps));
        envs::CartPole<float>::reset(params, want, rng);
        const float w[4] = {want.x, want.x_dot, want.theta, want.theta_dot};
        for (int d = 0; d < 4; ++d) REQUIRE(r.obs[(s + n) * 4 + d] == w[d]);
        checked += 1;
        steps = 0;
      }
    }
  }
  CHECK(checked > 500);
}

TEST_CASE("cpu trajectory mode: independent of chunk size and thread count", "[trajectory][cpu][determinism]") {
  const Recorded a = record(700, 100, 1, 1);
  const Recorded b = record(700, 100, 32, 2);
  const Recorded c = record(700, 100, 100, 2);
  CHECK(a.obs == b.obs);
  CHECK(a.obs == c.obs);
  CHECK(a.terminated == b.terminated);
  CHECK(a.truncated == c.truncated);
  CHECK(a.actions == b.actions);
  CHECK(a.state == c.state);
  CHECK(a.stats.episodes.episodes == b.stats.episodes.episodes);
}

TEST_CASE("cpu trajectory mode: bad chunk is a ConfigError", "[trajectory][cpu]") {
  SimConfig c;
  c.num_envs = 4;
  auto sim = make_cpu_simulator(c);
  CHECK_THROWS_AS(sim->rollout_trajectory(10, 0, nullptr), ConfigError);
  CHECK(sim->rollout_trajectory(0, 8, nullptr).steps == 0);
}

TEST_CASE("cpu trajectory mode, multi-agent: what the step API returns for the recorded actions",
          "[trajectory][cpu][foraging]") {
  // 37 worlds of 3 agents (a partial vector), episodes truncated at 60 steps; starving agents die
  // from step 43 on, so per-agent terminations, truncations and resets all occur within 90 steps.
  SimConfig c;
  c.env_id = "Foraging-v0";
  c.num_envs = 37;
  c.seed = 11;
  c.threads = 2;
  c.max_episode_steps = 60;
  c.autoreset = AutoresetMode::kSameStep;  // an ended episode restarts before the next step, as in rollouts
  c.params = {{"num_agents", 3}};
  constexpr int kSteps = 90;
  auto rollout_sim = make_cpu_simulator(c);
  auto step_sim = make_cpu_simulator(c);
  const EnvInfo& info = rollout_sim->info();
  const size_t rows = static_cast<size_t>(c.num_envs) * 3;
  const size_t obs_dim = static_cast<size_t>(info.obs_dim);
  // Both read the constructor's worlds through a reset that resets none (it advances both clocks).
  const std::vector<uint8_t> none(static_cast<size_t>(c.num_envs), 0);
  std::vector<float> step_obs(rows * obs_dim), unused(rows * obs_dim);
  rollout_sim->reset({}, none.data(), unused.data());
  step_sim->reset({}, none.data(), step_obs.data());
  std::vector<float> obs, reward;
  std::vector<uint8_t> terminated, truncated;
  std::vector<int32_t> actions;
  const RolloutStats stats = rollout_sim->rollout_trajectory(kSteps, 8, [&](const TrajectoryChunk& ch) {
    REQUIRE(ch.num_agents == 3);
    const size_t m = static_cast<size_t>(ch.steps) * rows;
    const float* o = static_cast<const float*>(ch.obs);
    obs.insert(obs.end(), o, o + m * obs_dim);
    const float* rw = static_cast<const float*>(ch.reward);
    reward.insert(reward.end(), rw, rw + m);
    terminated.insert(terminated.end(), ch.terminated, ch.terminated + m);
    truncated.insert(truncated.end(), ch.truncated, ch.truncated + m);
    const int32_t* a = static_cast<const int32_t*>(ch.actions);
    actions.insert(actions.end(), a, a + m);
  });
  REQUIRE(actions.size() == kSteps * rows);
  for (int32_t a : actions) CHECK((a >= 0 && a < info.num_actions));

  std::vector<float> step_reward(rows), final_obs(rows * obs_dim);
  std::vector<uint8_t> step_terminated(rows), step_truncated(rows), has_final(rows);
  uint64_t agent_terminations = 0, world_ends = 0;
  for (int k = 0; k < kSteps; ++k) {
    const size_t at = static_cast<size_t>(k) * rows;
    // obs[k] is what action[k] was chosen from: the reset observation, then each step's (after any
    // autoreset)
    size_t d = 0;
    while (d < step_obs.size() && step_obs[d] == obs[at * obs_dim + d]) ++d;
    INFO("step " << k << ": first differing observation value " << d << " (row " << d / obs_dim << ", element "
                 << d % obs_dim << ")");
    REQUIRE(d == step_obs.size());
    StepBuffers b;
    b.obs = step_obs.data();
    b.reward = step_reward.data();
    b.terminated = step_terminated.data();
    b.truncated = step_truncated.data();
    b.final_obs = final_obs.data();
    b.has_final = has_final.data();
    step_sim->step(actions.data() + at, b);
    for (size_t r = 0; r < rows; ++r) {
      CHECK(reward[at + r] == step_reward[r]);
      CHECK(terminated[at + r] == step_terminated[r]);
      CHECK(truncated[at + r] == step_truncated[r]);
      agent_terminations += terminated[at + r];
    }
    for (size_t i = 0; i < rows; i += 3) world_ends += has_final[i];
  }
  CHECK(agent_terminations > 0);
  CHECK(world_ends == stats.episodes.episodes);  // every world truncated at step 60 or all dead before
  CHECK(world_ends >= static_cast<uint64_t>(c.num_envs));
}
