// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>
#include <cmath>

#include "simkit/envs/chemical_reactor.hpp"
#include "simkit/simulator.hpp"

using simkit::RandomStream;
using simkit::Stream;

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

// 400 steps at constant tc from (0.8, 330 K), safety off, no truncation (the header directly).
template <class Real>
typename CR<Real>::State settle(double tc) {
  typename CR<Real>::Params p{};
  p.safety = false;
  typename CR<Real>::State s{Real(0.8), Real(330), 0, 0};
  RandomStream rng(0, 0, Stream::kStep, 0);
  for (int k = 0; k < 400; ++k) REQUIRE_FALSE(CR<Real>::step(p, s, action_for<Real>(tc), rng).terminated);
  return s;
}
}  // namespace

TEST_CASE("chemical reactor: steady states of the spec", "[envs][chemical_reactor]") {
  // Spec figures (rounded to 3 digits / 0.1 K) and the exact steady state of the ODE.
  const double tc[4] = {290, 295, 300, 302};
  const double ca_ref[4] = {0.952, 0.927, 0.877, 0.835}, t_ref[4] = {312.7, 317.7, 324.5, 328.7};
  for (int i = 0; i < 4; ++i) {
    double ca_ss, t_ss;
    steady_state(tc[i], ca_ss, t_ss);
    const auto s = settle<double>(tc[i]);
    INFO("Tc " << tc[i] << ": float64 (" << s.ca << ", " << s.t << "), exact (" << ca_ss << ", " << t_ss << ")");
    CHECK(std::abs(s.ca - ca_ss) < 1e-3);  // float64: the tested variant, absolute 1e-3 in both
    CHECK(std::abs(s.t - t_ss) < 1e-3);
    CHECK(std::abs(s.ca - ca_ref[i]) < 5e-4 + 1e-6);  // the spec's rounding
    CHECK(std::abs(s.t - t_ref[i]) < 5e-2 + 1e-6);
    const auto f = settle<float>(tc[i]);  // float32: 1e-3 in Ca, ~3e-3 K in T (1e-5 relative)
    INFO("float32 (" << f.ca << ", " << f.t << ")");
    CHECK(std::abs(f.ca - ca_ss) < 1e-3);
    CHECK(std::abs(f.t - t_ss) < 1e-2);
  }
}

TEST_CASE("chemical reactor: ignition trips the safety layer", "[envs][chemical_reactor][safety]") {
  for (double tc : {306.0, 310.0, 320.0}) {
    CR<float>::Params p{};
    CR<float>::State s{0.8f, 330.f, 0, 0};
    RandomStream rng(0, 0, Stream::kStep, 0);
    bool terminated = false;
    int k = 0;
    for (; k < 400 && !terminated; ++k) {
      const auto tr = CR<float>::step(p, s, action_for<float>(tc), rng);
      terminated = tr.terminated;
      if (terminated) {
        CHECK(tr.reward < -100);
        CHECK(s.t > 373.15f);
        CHECK(s.violation == 1);
      }
    }
    INFO("Tc " << tc);
    CHECK(terminated);
  }
  // Below ignition (and on the reset box's hottest corner) the layer never trips.
  CR<float>::Params p{};
  CR<float>::State s{0.75f, 335.f, 0, 0};
  RandomStream rng(0, 0, Stream::kStep, 0);
  for (int k = 0; k < 400; ++k) REQUIRE_FALSE(CR<float>::step(p, s, action_for<float>(302), rng).terminated);
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
  CR<double>::Params p{};
  CR<double>::State s{0.8, 330, 0, 0};
  float obs[4];
  CR<double>::observe(p, s, obs);
  CHECK(obs[1] == Approx(1.01325 * 330 / 298.15 + 1.33322e-3 * std::pow(10.0, 8.07131 - 1730.63 / (233.426 + 330 - 273.15))));
  CHECK(obs[3] == Approx(0.85));
  RandomStream rng(0, 0, Stream::kStep, 0);
  for (int k = 0; k < 50; ++k) {
    const auto tr = CR<double>::step(p, s, -1.0, rng);
    CHECK(tr.reward == Approx(-100 * (s.ca - 0.85) * (s.ca - 0.85)));
  }
  CR<double>::observe(p, s, obs);
  CHECK(obs[3] == Approx(0.90));
  const auto tr = CR<double>::step(p, s, -1.0, rng);
  CHECK(tr.reward == Approx(-100 * (s.ca - 0.90) * (s.ca - 0.90)));
  CHECK(CR<double>::coolant(-1) == 290);
  CHECK(CR<double>::coolant(1) == 320);
}

TEST_CASE("safety layer: box constraints on any observation", "[safety]") {
  const simkit::safety::Layer<float, 1> layer{{{"x", 1, -1.0f, 1.0f}}, -5.0f, false};
  const float ok[2] = {100.0f, 0.5f}, bad[2] = {0.0f, 1.5f}, nan[2] = {0.0f, NAN};
  simkit::Transition<float> tr{1.0f, false};
  CHECK_FALSE(layer.apply(ok, tr));
  CHECK(tr.reward == 1.0f);
  CHECK(layer.apply(bad, tr));
  CHECK(tr.reward == -4.0f);
  CHECK_FALSE(tr.terminated);
  CHECK(layer.violated(nan));
}
