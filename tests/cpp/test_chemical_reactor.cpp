// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>
#include <cmath>

#include "engine_env.hpp"
#include "simkit/envs/chemical_reactor.hpp"

using simkit::Precision;
using simkit::testing::EngineEnvs;

namespace {
template <class Real>
using CR = simkit::envs::ChemicalReactor<Real>;

template <class Real>
Real action_for(double tc) {
  return static_cast<Real>((tc - 305.0) / 15.0);
}

// The steady state of the ODE at coolant tc (Newton on the cooled, low-conversion branch from
// (0.8, 330 K)), in float64.
void steady_state(double tc, double& ca, double& t) {
  using E = CR<double>;
  ca = 0.8;
  t = 330;
  for (int i = 0; i < 50; ++i) {
    const double k = E::kK0 * std::exp(-E::kER / t), dk = k * E::kER / (t * t);
    const double a = E::kQ / E::kV, b = -E::kDeltaH / (E::kRho * E::kCp), c = E::kUA / (E::kRho * E::kCp * E::kV);
    const double f1 = a * (E::kCaf - ca) - k * ca, f2 = a * (E::kTi - t) + b * k * ca + c * (tc - t);
    const double j11 = -a - k, j12 = -dk * ca, j21 = b * k, j22 = -a + b * dk * ca - c;
    const double det = j11 * j22 - j12 * j21;
    ca -= (f1 * j22 - f2 * j12) / det;
    t -= (j11 * f2 - j21 * f1) / det;
  }
}

// The reactor's state (ca, t, step, violation) after 400 engine steps at constant tc from
// (0.8, 330 K), safety off, no truncation.
std::vector<double> settle(Precision precision, double tc) {
  EngineEnvs envs("ChemicalReactor-v0", precision, 1, {{"safety", 0}}, 0);
  envs.set_state({0.8, 330, 0, 0});
  for (int k = 0; k < 400; ++k) REQUIRE_FALSE(envs.step({action_for<double>(tc)}).terminated[0]);
  return envs.state();
}
}  // namespace

TEST_CASE("chemical reactor: steady states of the spec", "[envs][chemical_reactor]") {
  // Spec figures (rounded to 3 digits / 0.1 K) and the exact steady state of the ODE.
  const double tc[4] = {290, 295, 300, 302};
  const double ca_ref[4] = {0.952, 0.927, 0.877, 0.835}, t_ref[4] = {312.7, 317.7, 324.5, 328.7};
  for (int i = 0; i < 4; ++i) {
    double ca_ss, t_ss;
    steady_state(tc[i], ca_ss, t_ss);
    const auto s = settle(Precision::kFloat64, tc[i]);
    INFO("Tc " << tc[i] << ": float64 (" << s[0] << ", " << s[1] << "), exact (" << ca_ss << ", " << t_ss << ")");
    CHECK(std::abs(s[0] - ca_ss) < 1e-3);  // float64: the tested variant, absolute 1e-3 in both
    CHECK(std::abs(s[1] - t_ss) < 1e-3);
    CHECK(std::abs(s[0] - ca_ref[i]) < 5e-4 + 1e-6);  // the spec's rounding
    CHECK(std::abs(s[1] - t_ref[i]) < 5e-2 + 1e-6);
    const auto f = settle(Precision::kFloat32, tc[i]);  // float32: 1e-3 in Ca, ~3e-3 K in T (1e-5 relative)
    INFO("float32 (" << f[0] << ", " << f[1] << ")");
    CHECK(std::abs(f[0] - ca_ss) < 1e-3);
    CHECK(std::abs(f[1] - t_ss) < 1e-2);
  }
}

TEST_CASE("chemical reactor: ignition trips the safety layer", "[envs][chemical_reactor][safety]") {
  for (double tc : {306.0, 310.0, 320.0}) {
    EngineEnvs envs("ChemicalReactor-v0", Precision::kFloat32, 1, {}, 0);
    envs.set_state({0.8, 330, 0, 0});
    bool terminated = false;
    for (int k = 0; k < 400 && !terminated; ++k) {
      const EngineEnvs::Out& o = envs.step({action_for<double>(tc)});
      terminated = o.terminated[0];
      if (terminated) {
        const auto s = envs.state();
        CHECK(o.reward[0] < -100);
        CHECK(s[1] > 373.15);
        CHECK(s[3] == 1);           // violation
        CHECK(o.info[0] == 1);      // info["safety_violation"]
      }
    }
    INFO("Tc " << tc);
    CHECK(terminated);
  }
  // Below ignition (and on the reset box's hottest corner) the layer never trips.
  EngineEnvs envs("ChemicalReactor-v0", Precision::kFloat32, 1, {}, 0);
  envs.set_state({0.75, 335, 0, 0});
  for (int k = 0; k < 400; ++k) REQUIRE_FALSE(envs.step({action_for<double>(302)}).terminated[0]);
}

TEST_CASE("chemical reactor: safety off never terminates early, even at runaway", "[envs][chemical_reactor][safety]") {
  for (bool safety : {false, true}) {
    simkit::SimConfig c;
    c.env_id = "ChemicalReactor-v0";
    c.num_envs = 512;
    c.params["safety"] = safety ? 1 : 0;
    auto sim = simkit::make_cpu_simulator(c);
    const auto stats = sim->rollout(200, 32);  // random coolant: many ignitions
    INFO("safety " << safety);
    CHECK(std::isfinite(stats.episodes.return_sum));
    if (safety) {
      CHECK(stats.mean_episode_length() < 100);
    } else {
      CHECK(stats.episodes.episodes == 2 * 512);
      CHECK(stats.mean_episode_length() == 100);
    }
  }
}

TEST_CASE("chemical reactor: observation, reward, setpoint schedule", "[envs][chemical_reactor]") {
  EngineEnvs envs("ChemicalReactor-v0", Precision::kFloat64, 1, {}, 0);
  envs.set_state({0.8, 330, 0, 0});
  auto obs = envs.observe();
  CHECK(obs[1] == Approx(1.01325 * 330 / 298.15 + 1.33322e-3 * std::pow(10.0, 8.07131 - 1730.63 / (233.426 + 330 - 273.15))));
  CHECK(obs[3] == Approx(0.85));
  for (int k = 0; k < 50; ++k) {
    const double reward = envs.step({-1.0}).reward[0];
    const double ca = envs.state()[0];
    CHECK(reward == Approx(-100 * (ca - 0.85) * (ca - 0.85)));
  }
  CHECK(envs.observe()[3] == Approx(0.90));
  const double reward = envs.step({-1.0}).reward[0];
  const double ca = envs.state()[0];
  CHECK(reward == Approx(-100 * (ca - 0.90) * (ca - 0.90)));
  CHECK(CR<double>::coolant(-1.0) == 290);
  CHECK(CR<double>::coolant(1.0) == 320);
  CHECK(CR<double>::coolant(3.0) == 320);  // clipped like the action space
}

TEST_CASE("safety layer: box constraints on any observation", "[safety]") {
  const simkit::safety::Layer<float, 1> layer{{{"x", 1, -1.0f, 1.0f}}, -5.0f, false};
  const float ok[2] = {100.0f, 0.5f}, bad[2] = {0.0f, 1.5f}, nan[2] = {0.0f, NAN};
  simkit::Transition<float> tr{1.0f, false};  // scalar lanes: one env
  CHECK_FALSE(layer.apply(ok, tr));
  CHECK(tr.reward == 1.0f);
  CHECK(layer.apply(bad, tr));
  CHECK(tr.reward == -4.0f);
  CHECK_FALSE(tr.terminated);
  CHECK(layer.violated(nan));
}
