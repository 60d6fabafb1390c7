// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "engine_env.hpp"
#include "simkit/envs/gene_circuit.hpp"

using simkit::Precision;
using simkit::testing::EngineEnvs;
using GC = simkit::envs::GeneCircuit<double>;

namespace {
// GeneCircuit envs through the engine, never truncated; state rows are (h, f, step, events).
EngineEnvs gene_circuits(Precision precision, int64_t n, double target = 0) {
  return EngineEnvs("GeneCircuit-v0", precision, n, {{"target", target}}, 0, simkit::AutoresetMode::kDisabled, 42);
}
}  // namespace

TEST_CASE("gene circuit: light on drives H to 100 and F to its mean-field level", "[envs][gene_circuit]") {
  // With light on, H is a birth-death process (birth 1/min, death 0.01 H/min): stationary Poisson(100),
  // correlation time 1/nu = 100 min. A time average over T = 5000 min has variance about
  // 2 Var(H) tau / T = 4 per env, so the mean of 256 envs has sd 0.125: the band 1.0 is 8 sd.
  // F: the mean-field fixed point (F = (0.5 hill(100; 90) + 0.5 hill(F; 30)) / nu) is 78.14. The exact
  // mean differs by fluctuation (Jensen) terms: E hill(H) over Poisson(100) moves it to 77.77, and the
  // concave hill(F) with Var F ~ 80-200 by a further -0.15 to -0.4, so E F ~ 77.4-77.6. Its sampling
  // sd is about 0.15 as for H. The band 78.14 +- 1.5 covers the fluctuation shift plus 5 sd.
  constexpr int kEnvs = 256, kBurnIn = 200, kSteps = 1000;  // burn-in 1000 min = 10 correlation times
  double h_sum = 0, f_sum = 0;
  for (const Precision precision : {Precision::kFloat64, Precision::kFloat32}) {
    INFO(to_string(precision));
    h_sum = f_sum = 0;
    EngineEnvs envs = gene_circuits(precision, kEnvs);
    for (int k = 0; k < kBurnIn; ++k) envs.step_all(1);
    for (int k = 0; k < kSteps; ++k) {
      envs.step_all(1);
      const auto s = envs.state();
      for (int i = 0; i < kEnvs; ++i) {
        h_sum += s[i * 4 + 0];
        f_sum += s[i * 4 + 1];
        REQUIRE(s[i * 4 + 3] < GC::kEventCap);
      }
    }
    const double h_mean = h_sum / (kEnvs * kSteps), f_mean = f_sum / (kEnvs * kSteps);
    CHECK(std::abs(h_mean - 100.0) < 1.0);
    CHECK(std::abs(f_mean - 78.14) < 1.5);
  }
}

TEST_CASE("gene circuit: darkness drives H and F to 0", "[envs][gene_circuit]") {
  // From (100, 78), every H molecule is gone after ~ln(100)/nu + a few 1/nu (~1000 min); F then decays
  // with negligible production. After 2000 steps (10,000 min) the chance any molecule is left is ~1e-40.
  EngineEnvs envs = gene_circuits(Precision::kFloat64, 64);
  std::vector<double> rows;
  for (int i = 0; i < 64; ++i) rows.insert(rows.end(), {100, 78, 0, 0});
  envs.set_state(rows);
  for (int k = 0; k < 2000; ++k) envs.step_all(0);
  const auto s = envs.state();
  for (int i = 0; i < 64; ++i) {
    CHECK(s[i * 4 + 0] == 0);
    CHECK(s[i * 4 + 1] == 0);
  }
}

TEST_CASE("gene circuit: one step of the H birth-death process is Poisson (chi-square)", "[envs][gene_circuit]") {
  // From H = 0, H(t) is Poisson with mean (1 - exp(-nu t)) / nu exactly; F does not act on H.
  const double lambda = (1 - std::exp(-0.01 * 5.0)) / 0.01;  // 4.877
  constexpr int kEnvs = 40000, kBins = 12;                    // bins 0..10 and >= 11
  std::vector<double> observed(kBins, 0);
  EngineEnvs envs = gene_circuits(Precision::kFloat32, kEnvs);
  envs.step_all(1);
  const auto s = envs.state();
  for (int i = 0; i < kEnvs; ++i) observed[std::min(static_cast<int>(s[i * 4]), kBins - 1)] += 1;
  double chi2 = 0, pk = std::exp(-lambda), tail = 1;
  for (int k = 0; k < kBins; ++k) {
    const double prob = k < kBins - 1 ? pk : tail;
    const double expected = prob * kEnvs;  // smallest: P(H >= 11) ~ 0.0085 -> 340
    chi2 += (observed[k] - expected) * (observed[k] - expected) / expected;
    tail -= pk;
    pk *= lambda / (k + 1);
  }
  // 11 degrees of freedom: P(chi2 > 31.26) = 0.001.
  CHECK(chi2 < 31.26);
}

TEST_CASE("gene circuit: observation, reward and episode length", "[envs][gene_circuit]") {
  EngineEnvs envs = gene_circuits(Precision::kFloat64, 1, 1);
  const auto obs = envs.observe();
  CHECK(obs[1] == Approx(30.0 / 80));
  CHECK(obs[2] == Approx((30 + 20 * std::sin(2 * M_PI * 5 / 600)) / 80));
  const EngineEnvs::Out& o = envs.step({1});
  CHECK(o.reward[0] == Approx(-std::abs(envs.state()[1] - 30.0)));
  CHECK_FALSE(o.terminated[0]);
  CHECK(o.info[0] == envs.state()[3]);  // info["events"]

  simkit::SimConfig c;
  c.env_id = "GeneCircuit-v0";
  c.num_envs = 64;
  auto sim = simkit::make_cpu_simulator(c);
  const auto stats = sim->rollout(288 * 3, 32);
  CHECK(stats.episodes.episodes == 64 * 3);
  CHECK(stats.mean_episode_length() == 288);
  CHECK(sim->info().info_fields == std::vector<std::string>{"events", "event_cap_hit"});
}

TEST_CASE("gene circuit: identical across threads and chunks", "[envs][gene_circuit][determinism]") {
  auto final_state = [](int threads, int chunk) {
    simkit::SimConfig c;
    c.env_id = "GeneCircuit-v0";
    c.num_envs = 1200;  // 3 tiles
    c.seed = 11;
    c.threads = threads;
    c.params["target"] = 1;
    auto sim = simkit::make_cpu_simulator(c);
    const auto stats = sim->rollout(100, chunk);
    std::vector<double> state(c.num_envs * sim->info().state_fields.size());
    sim->get_state(state.data());
    state.push_back(stats.episodes.return_sum);
    return state;
  };
  const auto ref = final_state(1, 32);
  CHECK(final_state(2, 32) == ref);
  CHECK(final_state(2, 1) == ref);
  CHECK(final_state(1, 7) == ref);
}
