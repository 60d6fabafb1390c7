// Pendulum, MountainCar, MountainCarContinuous and Acrobot against Gymnasium's
// equations, re-derived here in double in Python's evaluation order (not by
// calling the headers): the float64 variants must match bit for bit, the
// float32 variants closely, and the engine must truncate on the last step.
#include <algorithm>
#include <array>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "engine_env.hpp"
#include "simkit/math.hpp"

using namespace simkit;
using testing::engine_step;
using testing::EngineStep;

namespace {

constexpr double kPi = 3.141592653589793;

// ---- references, transcribed from Gymnasium 1.4
// ------------------------------------------------

double python_mod(double a, double b) {  // Python's a % b for b > 0
  const double m = std::fmod(a, b);
  return m < 0 ? m + b : m;
}

struct PendulumRef {
  double theta, theta_dot, reward;
};
PendulumRef pendulum_ref(double th, double thdot, float action, double g = 10.0) {
  const float u = std::min(std::max(action, -2.0f), 2.0f);  // np.clip on a float32 array
  const double normalized = python_mod(th + kPi, 2 * kPi) - kPi;
  const double costs = normalized * normalized + 0.1 * (thdot * thdot) + double(float(0.001) * (u * u));
  double newthdot = thdot + (3 * g / (2 * 1.0) * std::sin(th) + double(float(3.0 / (1.0 * (1.0 * 1.0))) * u)) * 0.05;
  newthdot = std::min(std::max(newthdot, -8.0), 8.0);
  return {th + newthdot * 0.05, newthdot, -costs};
}

struct CarRef {
  double position, velocity, reward;
  bool terminated;
};
CarRef mountain_car_ref(double position, double velocity, int action, double goal_velocity = 0) {
  velocity += (action - 1) * 0.001 + std::cos(3 * position) * (-0.0025);
  velocity = std::min(std::max(velocity, -0.07), 0.07);
  position += velocity;
  position = std::min(std::max(position, -1.2), 0.6);
  if (position == -1.2 && velocity < 0) velocity = 0;
  return {position, velocity, -1.0, position >= 0.5 && velocity >= goal_velocity};
}

// NumPy 2 rules: a float32 scalar meeting a Python float computes in float32.
// After reset the state is float64; after a step it is float32 (stored_f32).
CarRef continuous_car_ref(double p, double v, float a, bool stored_f32) {
  double position, velocity;
  bool terminated;
  const bool force_is_f32 = a >= -1.0f && a <= 1.0f;
  const double force_py = a > 1.0f ? 1.0 : -1.0;
  if (stored_f32) {
    float pf = float(p), vf = float(v);
    const double c = 0.0025 * std::cos(double(3.0f * pf));
    vf += force_is_f32 ? a * float(0.0015) - float(c) : float(force_py * 0.0015 - c);
    if (vf > float(0.07)) vf = float(0.07);
    if (vf < float(-0.07)) vf = float(-0.07);
    pf += vf;
    if (pf > float(0.6)) pf = float(0.6);
    if (pf < float(-1.2)) pf = float(-1.2);
    if (pf == float(-1.2) && vf < 0) vf = 0;
    terminated = pf >= float(0.45) && vf >= 0.0f;
    position = pf;
    velocity = vf;
  } else {
    const double c = 0.0025 * std::cos(3 * p);
    v += force_is_f32 ? double(a * float(0.0015) - float(c)) : force_py * 0.0015 - c;
    if (v > 0.07) v = 0.07;
    if (v < -0.07) v = -0.07;
    p += v;
    if (p > 0.6) p = 0.6;
    if (p < -1.2) p = -1.2;
    if (p == -1.2 && v < 0) v = 0;
    terminated = p >= 0.45 && v >= 0.0;
    position = p;
    velocity = v;
  }
  double reward = terminated ? 100.0 : 0.0;
  reward -= std::pow(double(a), 2) * 0.1;
  return {double(float(position)), double(float(velocity)), reward, terminated};
}

using Vec5 = std::array<double, 5>;
Vec5 acrobot_dsdt(const Vec5 &s, bool book) {
  const double m1 = 1.0, m2 = 1.0, l1 = 1.0, lc1 = 0.5, lc2 = 0.5, I1 = 1.0, I2 = 1.0, g = 9.8;
  const double a = s[4], theta1 = s[0], theta2 = s[1], dtheta1 = s[2], dtheta2 = s[3];
  const double d1 =
      m1 * std::pow(lc1, 2) + m2 * (std::pow(l1, 2) + std::pow(lc2, 2) + 2 * l1 * lc2 * std::cos(theta2)) + I1 + I2;
  const double d2 = m2 * (std::pow(lc2, 2) + l1 * lc2 * std::cos(theta2)) + I2;
  const double phi2 = m2 * lc2 * g * std::cos(theta1 + theta2 - kPi / 2.0);
  const double phi1 = -m2 * l1 * lc2 * (dtheta2 * dtheta2) * std::sin(theta2) -
                      2 * m2 * l1 * lc2 * dtheta2 * dtheta1 * std::sin(theta2) +
                      (m1 * lc1 + m2 * l1) * g * std::cos(theta1 - kPi / 2) + phi2;
  const double ddtheta2 = book ? (a + d2 / d1 * phi1 - m2 * l1 * lc2 * (dtheta1 * dtheta1) * std::sin(theta2) - phi2) /
                                     (m2 * std::pow(lc2, 2) + I2 - (d2 * d2) / d1)
                               : (a + d2 / d1 * phi1 - phi2) / (m2 * std::pow(lc2, 2) + I2 - (d2 * d2) / d1);
  const double ddtheta1 = -(d2 * ddtheta2 + phi1) / d1;
  return {dtheta1, dtheta2, ddtheta1, ddtheta2, 0.0};
}
Vec5 plus(const Vec5 &y, double h, const Vec5 &k) {
  Vec5 r;
  for (int i = 0; i < 5; ++i) r[i] = y[i] + h * k[i];
  return r;
}
double wrap_ref(double x, double m, double M) {
  const double diff = M - m;
  while (x > M) x = x - diff;
  while (x < m) x = x + diff;
  return x;
}
struct AcrobotRef {
  std::array<double, 4> state;
  bool terminated;
};
AcrobotRef acrobot_ref(const std::array<double, 4> &s, int action, bool book = true) {
  const double torque[3] = {-1.0, 0.0, 1};
  const Vec5 y0 = {s[0], s[1], s[2], s[3], torque[action]};
  const double dt = 0.2 - 0, dt2 = dt / 2.0;
  const Vec5 k1 = acrobot_dsdt(y0, book);
  const Vec5 k2 = acrobot_dsdt(plus(y0, dt2, k1), book);
  const Vec5 k3 = acrobot_dsdt(plus(y0, dt2, k2), book);
  const Vec5 k4 = acrobot_dsdt(plus(y0, dt, k3), book);
  Vec5 y;
  for (int i = 0; i < 5; ++i) y[i] = y0[i] + dt / 6.0 * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]);
  AcrobotRef r;
  r.state = {wrap_ref(y[0], -kPi, kPi), wrap_ref(y[1], -kPi, kPi), std::min(std::max(y[2], -4 * kPi), 4 * kPi),
             std::min(std::max(y[3], -9 * kPi), 9 * kPi)};
  r.terminated = -std::cos(r.state[0]) - std::cos(r.state[1] + r.state[0]) > 1.0;
  return r;
}

// One float32-variant step from a double state, through the engine, for closeness checks.
std::vector<double> float_step(const std::string &id, const std::vector<double> &state, double action, double *reward) {
  const EngineStep f = engine_step(id, state, 0, action, {}, Precision::kFloat32);
  *reward = f.reward;
  return f.state;
}

}  // namespace

// ---- Pendulum
// ------------------------------------------------------------------------------------

TEST_CASE("pendulum float64 step matches Gymnasium's equations bit for bit", "[envs][pendulum]") {
  struct Case {
    double theta, theta_dot;
    float u;
  };
  const Case cases[] = {
      {0.5, 1.0, 1.5f},         {kPi, 0.0, 2.0f},            // torque at the bound, angle exactly pi
      {-kPi, -7.9, -2.0f},      {1.5707963, 7.95, 2.0f},     // velocity clipped at +8
      {-1.2, -7.99, -2.0f},     {5.0, 0.3, 0.25f},           // clipped at -8; angle normalized from 5 rad
      {-11.0, 2.0, -0.7f},      {3 * kPi + 0.1, 0.0, 0.0f},  // several turns either way
      {0.0, 0.0, 0.123456789f},
  };
  for (const Case &c : cases) {
    const PendulumRef ref = pendulum_ref(c.theta, c.theta_dot, c.u);
    const EngineStep got = engine_step("Pendulum-v1", {c.theta, c.theta_dot}, 0, c.u);
    INFO("theta=" << c.theta << " theta_dot=" << c.theta_dot << " u=" << c.u);
    CHECK(got.state[0] == ref.theta);
    CHECK(got.state[1] == ref.theta_dot);
    CHECK(got.reward == ref.reward);
    CHECK_FALSE(got.terminated);
    CHECK_FALSE(got.truncated);

    double reward;
    const auto f = float_step("Pendulum-v1", {c.theta, c.theta_dot}, c.u, &reward);
    CHECK(f[0] == Approx(ref.theta).margin(2e-5));
    CHECK(f[1] == Approx(ref.theta_dot).margin(2e-5));
    CHECK(reward == Approx(ref.reward).margin(2e-5));
  }
}

TEST_CASE("pendulum angle normalization and options", "[envs][pendulum]") {
  // angle_normalize(pi) = -pi and angle_normalize(-pi) = -pi: the cost is pi^2
  // either way.
  CHECK(math::floor_mod(kPi + kPi, 2 * kPi) - kPi == -kPi);
  CHECK(math::floor_mod(-kPi + kPi, 2 * kPi) - kPi == -kPi);
  CHECK(math::floor_mod(-0.5, 2 * kPi) == python_mod(-0.5, 2 * kPi));
  CHECK(math::floor_mod(-1e-300, 2 * kPi) == 2 * kPi);  // Python: -1e-300 % (2 pi) == 2 pi
  CHECK(math::floor_mod(-0.5f, 6.2831855f) == Approx(6.2831855f - 0.5f));
  const PendulumRef ref = pendulum_ref(0.3, -0.2, 1.0f, 9.81);
  const EngineStep got = engine_step("Pendulum-v1", {0.3, -0.2}, 0, 1.0, {{"g", 9.81}});
  CHECK(got.state[0] == ref.theta);
  CHECK(got.reward == ref.reward);
}

TEST_CASE("pendulum truncates on step 200", "[envs][pendulum]") {
  CHECK_FALSE(engine_step("Pendulum-v1", {0.1, 0.0}, 198, 0.0).truncated);
  const EngineStep last = engine_step("Pendulum-v1", {0.1, 0.0}, 199, 0.0);
  CHECK(last.truncated);
  CHECK_FALSE(last.terminated);
}

// ---- MountainCar
// ---------------------------------------------------------------------------------

TEST_CASE("mountain car float64 step matches Gymnasium's equations bit for bit", "[envs][mountain_car]") {
  struct Case {
    double position, velocity;
    int action;
  };
  const Case cases[] = {
      {-0.5, 0.0, 1},    {-0.523, 0.0012, 2}, {0.3, 0.0699, 2},  // velocity clipped at 0.07
      {-1.19, -0.07, 0},                                         // hits the inelastic left wall
      {-1.2, -0.01, 0},                                          // stays at the wall
      {0.49, 0.02, 2},                                           // reaches the goal
      {0.55, -0.001, 0},                                         // past 0.5 but moving back
      {0.59, 0.07, 2},                                           // clipped at the right end 0.6
  };
  for (const Case &c : cases) {
    const CarRef ref = mountain_car_ref(c.position, c.velocity, c.action);
    const EngineStep got = engine_step("MountainCar-v0", {c.position, c.velocity}, 0, c.action);
    INFO("position=" << c.position << " velocity=" << c.velocity << " action=" << c.action);
    CHECK(got.state[0] == ref.position);
    CHECK(got.state[1] == ref.velocity);
    CHECK(got.reward == -1.0);
    CHECK(got.terminated == ref.terminated);

    double reward;
    const auto f = float_step("MountainCar-v0", {c.position, c.velocity}, c.action, &reward);
    CHECK(f[0] == Approx(ref.position).margin(1e-6));
    CHECK(f[1] == Approx(ref.velocity).margin(1e-6));
  }
  const EngineStep wall = engine_step("MountainCar-v0", {-1.19, -0.07}, 0, 0);
  CHECK(wall.state[0] == -1.2);
  CHECK(wall.state[1] == 0.0);
  CHECK(engine_step("MountainCar-v0", {0.49, 0.02}, 0, 2).terminated);
}

TEST_CASE("mountain car goal_velocity and truncation", "[envs][mountain_car]") {
  const CarRef ref = mountain_car_ref(0.49, 0.02, 2, 0.05);
  const EngineStep slow = engine_step("MountainCar-v0", {0.49, 0.02}, 0, 2, {{"goal_velocity", 0.05}});
  CHECK(slow.state[0] == ref.position);
  CHECK(slow.terminated == ref.terminated);
  CHECK_FALSE(slow.terminated);  // past the goal, but slower than goal_velocity
  const EngineStep both = engine_step("MountainCar-v0", {0.49, 0.02}, 199, 2);
  CHECK(both.terminated);  // Gymnasium's TimeLimit reports both when they coincide
  CHECK(both.truncated);
  const EngineStep trunc = engine_step("MountainCar-v0", {-0.5, 0.0}, 199, 1);
  CHECK_FALSE(trunc.terminated);
  CHECK(trunc.truncated);
  CHECK_FALSE(engine_step("MountainCar-v0", {-0.5, 0.0}, 198, 1).truncated);
}

// ---- MountainCarContinuous
// -----------------------------------------------------------------------

TEST_CASE("continuous mountain car float64 step matches Gymnasium under NumPy 2", "[envs][mountain_car_continuous]") {
  struct Case {
    double position, velocity;
    float action;
    bool stored_f32;
  };
  const Case cases[] = {
      {-0.5234567, 0.0, 0.5f, false},                  // fresh float64 reset state
      {-0.4123456789, 0.0, 1.0f, false},               // force at the bound stays float32
      {-0.45678, 0.0, 2.0f, false},                    // clipped force: Python float arithmetic
      {double(-0.3f), double(0.01f), 0.75f, true},     // float32 state after a step
      {double(-0.3f), double(0.01f), -3.0f, true},     // clipped force on a float32 state
      {double(0.44f), double(0.02f), 1.0f, true},      // reaches the goal at 0.45
      {double(-1.19f), double(-0.065f), -1.0f, true},  // inelastic left wall
      {double(0.2f), double(0.0699f), 1.0f, true},     // velocity clipped at 0.07
  };
  for (const Case &c : cases) {
    const CarRef ref = continuous_car_ref(c.position, c.velocity, c.action, c.stored_f32);
    // Out-of-range actions too: Gymnasium clips the force and penalizes the raw action.
    const EngineStep got = engine_step("MountainCarContinuous-v0", {c.position, c.velocity}, 0, c.action);
    INFO("position=" << c.position << " velocity=" << c.velocity << " action=" << c.action);
    CHECK(got.state[0] == ref.position);
    CHECK(got.state[1] == ref.velocity);
    CHECK(got.reward == ref.reward);
    CHECK(got.terminated == ref.terminated);
  }
  CHECK(engine_step("MountainCarContinuous-v0", {double(0.44f), double(0.02f)}, 0, 1.0).terminated);
  CHECK(engine_step("MountainCarContinuous-v0", {double(-1.19f), double(-0.065f)}, 0, -1.0).state[1] == 0.0);
}

TEST_CASE("continuous mountain car penalizes the unclipped action", "[envs][mountain_car_continuous]") {
  // Actions outside [-1, 1] are accepted, the force clipped and the penalty computed on the raw
  // action, as Gymnasium does.
  for (const float a : {2.0f, -3.0f, 1.0f}) {
    for (const bool f32 : {false, true}) {
      const double position = f32 ? double(-0.5f) : -0.5123;
      const EngineStep got = engine_step("MountainCarContinuous-v0", {position, 0.0}, 0, a);
      const CarRef ref = continuous_car_ref(position, 0.0, a, f32);
      CHECK(got.reward == ref.reward);
      CHECK(got.reward == -(double(a) * double(a) * 0.1));
      CHECK(got.state[0] == ref.position);
      CHECK(got.state[1] == ref.velocity);
    }
  }
  double reward;
  const auto f = float_step("MountainCarContinuous-v0", {-0.5, 0.0}, 2.0f, &reward);
  CHECK(reward == Approx(-0.4));
  CHECK(f[1] == Approx(continuous_car_ref(-0.5, 0.0, 2.0f, true).velocity).margin(1e-7));
}

TEST_CASE("continuous mountain car truncates on step 999", "[envs][mountain_car_continuous]") {
  const EngineStep both = engine_step("MountainCarContinuous-v0", {double(0.44f), double(0.02f)}, 998, 1.0);
  CHECK(both.terminated);
  CHECK(both.truncated);
  CHECK(both.reward == 100.0 - 0.1);
  CHECK_FALSE(engine_step("MountainCarContinuous-v0", {-0.5, 0.0}, 997, 0.0).truncated);
}

// ---- Acrobot
// -------------------------------------------------------------------------------------

TEST_CASE("acrobot float64 step matches Gymnasium's RK4 bit for bit", "[envs][acrobot]") {
  struct Case {
    std::array<double, 4> state;
    int action;
  };
  const Case cases[] = {
      {{0.01, -0.02, 0.03, -0.04}, 0},
      {{double(0.0734f), double(-0.0521f), double(0.0112f), double(0.0987f)}, 2},  // a float32 reset state
      {{3.0, 0.1, 12.0, 0.0}, 1},                                                  // theta1 wraps past +pi
      {{-3.0, -3.1, -12.5, -20.0}, 0},                                             // both angles wrap past -pi
      {{0.5, 2.0, 12.566370614359172, 28.0}, 2},  // velocities at and beyond their bounds
      {{3.0, 0.0, 0.0, 0.0}, 1},                  // tip above the bar: terminal
      {{1.2, -2.5, -4.0, 27.0}, 2},
  };
  for (const Case &c : cases) {
    for (const bool book : {true, false}) {
      const AcrobotRef ref = acrobot_ref(c.state, c.action, book);
      const std::vector<double> s(c.state.begin(), c.state.end());
      const EngineStep got = engine_step("Acrobot-v1", s, 0, c.action, {{"book", book ? 1.0 : 0.0}});
      INFO("state=" << s[0] << "," << s[1] << "," << s[2] << "," << s[3] << " action=" << c.action << " book=" << book);
      for (int i = 0; i < 4; ++i) CHECK(got.state[static_cast<size_t>(i)] == ref.state[static_cast<size_t>(i)]);
      CHECK(got.terminated == ref.terminated);
      CHECK(got.reward == (ref.terminated ? 0.0 : -1.0));
      for (int i = 0; i < 2; ++i) CHECK(std::fabs(got.state[static_cast<size_t>(i)]) <= kPi);

      if (book) {
        double reward;
        const auto f = float_step("Acrobot-v1", s, c.action, &reward);
        for (int i = 0; i < 4; ++i)
          CHECK(f[static_cast<size_t>(i)] == Approx(ref.state[static_cast<size_t>(i)]).margin(1e-4));
        CHECK(reward == (ref.terminated ? 0.0 : -1.0));
      }
    }
  }
  CHECK(engine_step("Acrobot-v1", {3.0, 0.0, 0.0, 0.0}, 0, 1).terminated);
  CHECK(engine_step("Acrobot-v1", {-3.0, -3.1, -12.5, -20.0}, 0, 0).state[1] > -kPi);
}

TEST_CASE("acrobot wrap keeps pi and matches Gymnasium's loops", "[envs][acrobot]") {
  for (const double x : {kPi, -kPi, kPi + 1e-12, -kPi - 1e-12, 7.0, -7.0, 20.0, -25.5, 0.0}) {
    CHECK(math::wrap(x, -kPi, kPi) == wrap_ref(x, -kPi, kPi));
    // float cannot tell pi + 1e-12 from pi, so only values away from +-pi
    // compare with the float path.
    if (std::fabs(std::fabs(x) - kPi) > 1e-6) {
      CHECK(math::wrap(float(x), float(-kPi), float(kPi)) == Approx(wrap_ref(x, -kPi, kPi)).margin(1e-5));
    }
  }
  CHECK(math::wrap(kPi, -kPi, kPi) == kPi);
  CHECK(math::wrap(3.1415927f, -3.1415927f, 3.1415927f) == 3.1415927f);
}

TEST_CASE(
    "acrobot truncates on step 500 and reports both flags at a terminal "
    "last step",
    "[envs][acrobot]") {
  const EngineStep both = engine_step("Acrobot-v1", {3.0, 0.0, 0.0, 0.0}, 499, 1);
  CHECK(both.terminated);
  CHECK(both.truncated);
  CHECK(both.reward == 0.0);
  const EngineStep trunc = engine_step("Acrobot-v1", {0.0, 0.0, 0.0, 0.0}, 499, 1);
  CHECK_FALSE(trunc.terminated);
  CHECK(trunc.truncated);
  CHECK(trunc.reward == -1.0);
}

TEST_CASE("classic control resets follow Gymnasium's distributions", "[envs]") {
  SimConfig c;
  c.num_envs = 2000;
  c.precision = Precision::kFloat64;
  for (const char *id : {"Pendulum-v1", "MountainCar-v0", "MountainCarContinuous-v0", "Acrobot-v1"}) {
    c.env_id = id;
    auto sim = make_cpu_simulator(c);
    const size_t fields = sim->info().state_fields.size();
    std::vector<double> s(fields * 2000);
    sim->get_state(s.data());
    INFO(id);
    for (size_t i = 0; i < 2000; ++i) {
      const double *x = &s[i * fields];
      if (c.env_id == "Pendulum-v1") {
        CHECK((std::fabs(x[0]) <= kPi && std::fabs(x[1]) <= 1.0));
      } else if (c.env_id == "Acrobot-v1") {
        for (size_t k = 0; k < 4; ++k) CHECK((std::fabs(x[k]) <= 0.1 && double(float(x[k])) == x[k]));
      } else {
        CHECK((x[0] >= -0.6 && x[0] < -0.4 && x[1] == 0.0));
      }
    }
  }
}

namespace {
// Kolmogorov-Smirnov distance between samples and Uniform(lo, hi).
double ks_uniform(std::vector<double> x, double lo, double hi) {
  std::sort(x.begin(), x.end());
  double d = 0;
  const double n = static_cast<double>(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    const double cdf = std::min(std::max((x[i] - lo) / (hi - lo), 0.0), 1.0);
    d = std::max({d, cdf - static_cast<double>(i) / n, static_cast<double>(i + 1) / n - cdf});
  }
  return d;
}
}  // namespace

TEST_CASE("classic control resets are uniform on their boxes (Kolmogorov-Smirnov)", "[envs]") {
  struct Drawn {
    const char *id;
    size_t field;  // a state variable drawn uniformly at reset
    double lo, hi;
  };
  const Drawn drawn[] = {{"CartPole-v1", 0, -0.05, 0.05},     {"CartPole-v1", 3, -0.05, 0.05},
                         {"Pendulum-v1", 0, -kPi, kPi},        {"Pendulum-v1", 1, -1.0, 1.0},
                         {"MountainCar-v0", 0, -0.6, -0.4},    {"MountainCarContinuous-v0", 0, -0.6, -0.4},
                         {"Acrobot-v1", 0, -0.1, 0.1},         {"Acrobot-v1", 3, -0.1, 0.1}};
  constexpr int64_t kEnvs = 20000;
  for (const Precision precision : {Precision::kFloat32, Precision::kFloat64}) {
    for (const Drawn &d : drawn) {
      SimConfig c;
      c.env_id = d.id;
      c.num_envs = kEnvs;
      c.precision = precision;
      c.seed = 3;
      auto sim = make_cpu_simulator(c);
      const size_t fields = sim->info().state_fields.size();
      std::vector<double> s(fields * kEnvs), x(kEnvs);
      sim->get_state(s.data());
      for (int64_t i = 0; i < kEnvs; ++i) x[static_cast<size_t>(i)] = s[static_cast<size_t>(i) * fields + d.field];
      INFO(d.id << " field " << d.field << " " << to_string(precision));
      // P(D > 1.95 / sqrt(n)) = 0.001 under the uniform.
      CHECK(ks_uniform(x, d.lo, d.hi) < 1.95 / std::sqrt(double(kEnvs)));
    }
  }
}

TEST_CASE("sincos_mostly_small skips the range reduction only where it gives sincos's bits", "[math]") {
  // Every float32 below 0.78 in magnitude is in quadrant 0; sample them densely near 0 and near the
  // 0.78 edge, and the reduced path beyond it.
  std::vector<float> xs = {0.0f, -0.0f, 1e-45f, -1e-45f, 1e-38f, 0.2095f, -0.2095f, 0.7799999f, -0.7799999f,
                           0.78f, -0.78f, 0.7853982f, 3.1415927f, -100.0f, 1e4f, NAN, INFINITY};
  for (uint32_t bits = 0x38000000u; bits < 0x3F480000u; bits += 0x1111u) {  // 3e-5 .. 0.78
    float x;
    std::memcpy(&x, &bits, sizeof x);
    xs.push_back(x);
    xs.push_back(-x);
  }
  for (float x = 0.7f; x < 0.86f; x = std::nextafter(x, 1.0f)) xs.push_back(x);
  for (const float x : xs) {
    float s_small, c_small, s_ref, c_ref;
    math::sincos_mostly_small(x, s_small, c_small);
    math::sincos_poly(x, s_ref, c_ref);
    uint32_t a, b;
    std::memcpy(&a, &s_small, 4);
    std::memcpy(&b, &s_ref, 4);
    REQUIRE(a == b);
    std::memcpy(&a, &c_small, 4);
    std::memcpy(&b, &c_ref, 4);
    REQUIRE(a == b);
  }
}
