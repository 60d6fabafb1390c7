// CartPole-v1 against Gymnasium's equations, recomputed here in double in Gymnasium's order
// (gymnasium/envs/classic_control/cartpole.py), and the engine's truncation and autoreset around it.
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "simkit/envs/cartpole.hpp"
#include "simkit/simulator.hpp"

using namespace simkit;

namespace {

struct Cart {
  double x, x_dot, theta, theta_dot;
};

// Gymnasium's step, transcribed (explicit Euler unless semi_implicit).
Cart gym_step(Cart s, int action, bool semi_implicit = false) {
  const double gravity = 9.8, masscart = 1.0, masspole = 0.1, total_mass = masspole + masscart, length = 0.5;
  const double polemass_length = masspole * length, force_mag = 10.0, tau = 0.02;
  const double force = action == 1 ? force_mag : -force_mag;
  const double costheta = std::cos(s.theta), sintheta = std::sin(s.theta);
  const double temp = (force + polemass_length * (s.theta_dot * s.theta_dot) * sintheta) / total_mass;
  const double thetaacc =
      (gravity * sintheta - costheta * temp) / (length * (4.0 / 3.0 - masspole * (costheta * costheta) / total_mass));
  const double xacc = temp - polemass_length * thetaacc * costheta / total_mass;
  if (!semi_implicit) {
    return {s.x + tau * s.x_dot, s.x_dot + tau * xacc, s.theta + tau * s.theta_dot, s.theta_dot + tau * thetaacc};
  }
  const double x_dot = s.x_dot + tau * xacc, theta_dot = s.theta_dot + tau * thetaacc;
  return {s.x + tau * x_dot, x_dot, s.theta + tau * theta_dot, theta_dot};
}

bool gym_terminated(const Cart& s) {
  const double theta_threshold = 12 * 2 * M_PI / 360;
  return s.x < -2.4 || s.x > 2.4 || s.theta < -theta_threshold || s.theta > theta_threshold;
}

struct Stepped {
  std::vector<Cart> state;
  std::vector<double> reward;
  std::vector<uint8_t> terminated, truncated;
};

// One step-API call on a batch whose states and elapsed counters are set first.
Stepped step_batch(Precision precision, const std::vector<Cart>& states, const std::vector<int32_t>& actions,
                   const std::vector<uint32_t>& elapsed = {}, std::map<std::string, double> params = {},
                   Stepped* second = nullptr) {
  SimConfig c;
  c.num_envs = static_cast<int64_t>(states.size());
  c.precision = precision;
  c.params = std::move(params);
  auto sim = make_cpu_simulator(c);
  sim->reset({0}, nullptr, nullptr, nullptr);
  sim->set_state(reinterpret_cast<const double*>(states.data()));
  if (!elapsed.empty()) sim->set_elapsed(elapsed.data());
  const size_t n = states.size();
  std::vector<float> obs(n * 4);
  std::vector<double> reward64(n);
  std::vector<float> reward32(n);
  Stepped out;
  out.terminated.resize(n);
  out.truncated.resize(n);
  StepBuffers b;
  b.obs = obs.data();
  b.reward = precision == Precision::kFloat64 ? static_cast<void*>(reward64.data()) : reward32.data();
  b.terminated = out.terminated.data();
  b.truncated = out.truncated.data();
  const auto collect = [&](Stepped& s) {
    s.state.resize(n);
    sim->get_state(reinterpret_cast<double*>(s.state.data()));
    s.reward.resize(n);
    for (size_t i = 0; i < n; ++i) s.reward[i] = precision == Precision::kFloat64 ? reward64[i] : reward32[i];
  };
  sim->step(actions.data(), b);
  collect(out);
  if (second) {
    second->terminated.resize(n);
    second->truncated.resize(n);
    b.terminated = second->terminated.data();
    b.truncated = second->truncated.data();
    sim->step(actions.data(), b);
    collect(*second);
  }
  return out;
}

std::vector<Cart> sample_states(size_t n) {
  std::vector<Cart> s;
  for (size_t i = 0; i < n; ++i) {
    const double u = static_cast<double>(i) / n;
    s.push_back({-2.3 + 4.6 * u, std::sin(7.0 * i) * 3, std::cos(3.0 * i) * 0.2, std::sin(11.0 * i) * 4});
  }
  return s;
}

}  // namespace

TEST_CASE("cartpole float64 transitions equal Gymnasium's bit for bit", "[envs][cartpole]") {
  const auto states = sample_states(500);
  std::vector<int32_t> actions(states.size());
  for (size_t i = 0; i < actions.size(); ++i) actions[i] = static_cast<int32_t>(i % 2);
  for (const bool semi : {false, true}) {
    const Stepped got = step_batch(Precision::kFloat64, states, actions, {}, {{"euler", semi ? 0.0 : 1.0}});
    for (size_t i = 0; i < states.size(); ++i) {
      const Cart want = gym_step(states[i], actions[i], semi);
      INFO("state " << i << " semi-implicit " << semi);
      CHECK(got.state[i].x == want.x);
      CHECK(got.state[i].x_dot == want.x_dot);
      CHECK(got.state[i].theta == want.theta);
      CHECK(got.state[i].theta_dot == want.theta_dot);
      CHECK(bool(got.terminated[i]) == gym_terminated(want));
      CHECK(got.reward[i] == 1.0);
    }
  }
}

TEST_CASE("cartpole float32 transitions stay within 1e-6 of Gymnasium's", "[envs][cartpole]") {
  auto states = sample_states(500);
  for (auto& s : states) {  // start from float32-representable states, as the float32 variant stores them
    s = {double(float(s.x)), double(float(s.x_dot)), double(float(s.theta)), double(float(s.theta_dot))};
  }
  std::vector<int32_t> actions(states.size(), 1);
  const Stepped got = step_batch(Precision::kFloat32, states, actions);
  for (size_t i = 0; i < states.size(); ++i) {
    const Cart want = gym_step(states[i], 1);
    // Relative to the magnitude of the state variable (a component near 0 has no meaningful relative error).
    const auto close = [](double a, double b, double scale) { return std::fabs(a - b) <= 1e-6 * std::max(scale, std::fabs(b)); };
    INFO("state " << i);
    CHECK(close(got.state[i].x, want.x, 1.0));
    CHECK(close(got.state[i].x_dot, want.x_dot, 1.0));
    CHECK(close(got.state[i].theta, want.theta, 0.1));
    CHECK(close(got.state[i].theta_dot, want.theta_dot, 1.0));
  }
}

TEST_CASE("cartpole terminates beyond each bound, on the new state, with reward 1", "[envs][cartpole]") {
  // Each state crosses one bound in one step (x += 0.02 x_dot, theta += 0.02 theta_dot); the last two stay inside.
  const double th = 12 * 2 * M_PI / 360;
  const std::vector<Cart> states = {
      {2.39, 1.0, 0.0, 0.0}, {-2.39, -1.0, 0.0, 0.0}, {0.0, 0.0, th - 0.001, 0.1}, {0.0, 0.0, -th + 0.001, -0.1},
      {2.39, 0.4, 0.0, 0.0}, {0.0, 0.0, th - 0.01, 0.1}};
  const Stepped got = step_batch(Precision::kFloat64, states, std::vector<int32_t>(states.size(), 0));
  for (size_t i = 0; i < states.size(); ++i) {
    INFO("state " << i);
    CHECK(bool(got.terminated[i]) == (i < 4));
    CHECK_FALSE(got.truncated[i]);
    CHECK(got.reward[i] == 1.0);
  }
}

TEST_CASE("cartpole truncates at exactly step 500, together with termination when both happen", "[envs][cartpole]") {
  const std::vector<Cart> states = {{0, 0, 0, 0}, {0, 0, 0, 0}, {2.39, 1.0, 0, 0}};
  const Stepped got = step_batch(Precision::kFloat32, states, {0, 0, 0}, {498, 499, 499});
  CHECK_FALSE(got.truncated[0]);  // step 499
  CHECK(got.truncated[1]);        // step 500
  CHECK_FALSE(got.terminated[1]);
  CHECK(got.terminated[2]);  // step 500 that also leaves the track: both flags, as Gymnasium's TimeLimit
  CHECK(got.truncated[2]);
}

TEST_CASE("cartpole Sutton-Barto reward is 0 per step and -1 on termination", "[envs][cartpole]") {
  const Stepped got = step_batch(Precision::kFloat64, {{0, 0, 0, 0}, {2.39, 1.0, 0, 0}}, {1, 1}, {},
                                 {{"sutton_barto_reward", 1}});
  CHECK(got.reward[0] == 0.0);
  CHECK(got.reward[1] == -1.0);
}

TEST_CASE("cartpole next-step autoreset: the step after an end resets with reward 0", "[envs][cartpole]") {
  Stepped after;
  const Stepped end = step_batch(Precision::kFloat64, {{2.39, 1.0, 0, 0}}, {1}, {}, {}, &after);
  REQUIRE(end.terminated[0]);
  CHECK(after.reward[0] == 0.0);
  CHECK_FALSE(after.terminated[0]);
  CHECK_FALSE(after.truncated[0]);
  for (double v : {after.state[0].x, after.state[0].x_dot, after.state[0].theta, after.state[0].theta_dot}) {
    CHECK(std::fabs(v) <= 0.05);
  }
}

TEST_CASE("random-policy CartPole episodes last as long as Gymnasium's", "[envs][cartpole][statistics]") {
  // Gymnasium's numpy CartPoleVectorEnv with uniform random actions, lengths of the episodes ending
  // after a 200-step warm-up (steady state): mean 22.239, sd 11.85, 688,466 episodes, standard error
  // 0.0143. Counting from t = 0 instead biases the mean low (the unfinished episode at the end of
  // the window is the length-biased one), which is why both sides skip a warm-up.
  SimConfig c;
  c.num_envs = 20000;
  c.seed = 3;
  auto sim = make_cpu_simulator(c);
  sim->rollout(200, 32);
  const RolloutStats s = sim->rollout(800, 32);
  const double n = static_cast<double>(s.episodes.episodes);
  REQUIRE(n > 500000);
  const double se = std::hypot(11.85 / std::sqrt(n), 0.0143);
  // 6 combined standard errors: a false alarm once in ~5e8 runs; a real bias of 0.2 steps still fails.
  CHECK(std::fabs(s.mean_episode_length() - 22.239) < 6 * se);
  CHECK(s.mean_episode_return() == Approx(s.mean_episode_length()));  // reward 1 per step
}

TEST_CASE("the random policy draws each CartPole action with probability 1/2", "[engine][policy]") {
  using Env = envs::CartPole<float>;
  uint64_t ones = 0, draws = 0;
  for (uint32_t env = 0; env < 200; ++env) {
    for (uint64_t t = 0; t < 1000; ++t) {
      const Words4<uint32_t> w = RandomPolicy<Env>::draw(seed_key(Seeds{5}, env), env, t);
      const uint32_t word = w.w[RandomPolicy<Env>::word_index(t)];
      ones += static_cast<uint64_t>(RandomPolicy<Env>::action_from_word<float>(word, t));
      ++draws;
    }
  }
  // Binomial(200000, 1/2): sd = 224; 6 sd band.
  CHECK(std::fabs(double(ones) - draws / 2.0) < 6 * std::sqrt(draws / 4.0));
}
