// SPDX-License-Identifier: Apache-2.0
// GPU tests: CPU/GPU parity (CartPole in detail, then every registered env and precision, rollouts
// and the step API), trajectory vs statistics mode, batches vs one launch, planner refusal,
// transactional buffer growth, DLPack exports.
// Own main: exits with 77 (ctest SKIP_RETURN_CODE) when no CUDA device is usable, so a machine
// without a GPU reports these tests as skipped, never as passed.
//
// Tolerances (see cuda/KERNELS.md):
//   float32, SIMKIT_STRICT_FP=ON : bit for bit (no FMA contraction on either side, the same
//                                   polynomial sin/cos, IEEE division on both).
//   float32, default             : g++ (-ffp-contract=fast) and nvcc (--fmad=true) may fuse different
//                                   multiply-adds; states within 1e-4 absolute after <= 100 steps.
//   float64                      : no contraction on either side, but glibc sin/cos vs CUDA's sin/cos
//                                   (both within 1-2 ulp); states within 1e-9 absolute.
//   Flags, episode counts and episode lengths are required to be identical in every mode.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "simkit/allocation.hpp"
#include "simkit/devices.hpp"
#include "simkit/planner.hpp"
#include "simkit/simulator.hpp"
#include "simkit/throughput.hpp"

using namespace simkit;

namespace {

double state_tolerance(Precision p) {
#if SIMKIT_STRICT_FP
  if (p == Precision::kFloat32) return 0.0;
#endif
  return p == Precision::kFloat32 ? 1e-4 : 1e-9;
}

struct Run {
  RolloutStats stats;
  std::vector<double> state;
  std::vector<uint32_t> elapsed;
  std::vector<float> obs;
  std::vector<double> reward;
  std::vector<uint8_t> terminated, truncated;
  std::vector<int32_t> actions;
};

Run run(Device d, Precision p, int64_t n, uint64_t steps, int chunk, bool trajectory, int64_t offset = 0) {
  SimConfig c;
  c.precision = p;
  c.num_envs = n;
  c.env_offset = offset;
  c.seed = 12345;
  auto sim = make_simulator(c, d);
  Run r;
  if (trajectory) {
    r.stats = sim->rollout_trajectory(steps, chunk, [&](const TrajectoryChunk& ch) {
      const size_t m = static_cast<size_t>(ch.steps) * static_cast<size_t>(ch.num_envs);
      const float* o = static_cast<const float*>(ch.obs);
      r.obs.insert(r.obs.end(), o, o + m * 4);
      for (size_t s = 0; s < m; ++s) {
        r.reward.push_back(p == Precision::kFloat32 ? static_cast<const float*>(ch.reward)[s]
                                                    : static_cast<const double*>(ch.reward)[s]);
      }
      r.terminated.insert(r.terminated.end(), ch.terminated, ch.terminated + m);
      r.truncated.insert(r.truncated.end(), ch.truncated, ch.truncated + m);
      const int32_t* a = static_cast<const int32_t*>(ch.actions);
      r.actions.insert(r.actions.end(), a, a + m);
    });
  } else {
    r.stats = sim->rollout(steps, chunk);
  }
  r.state.resize(static_cast<size_t>(n) * sim->info().state_fields.size());
  sim->get_state(r.state.data());
  r.elapsed.resize(static_cast<size_t>(n));
  sim->get_elapsed(r.elapsed.data());
  return r;
}

void check_states_close(const std::vector<double>& a, const std::vector<double>& b, double tol) {
  REQUIRE(a.size() == b.size());
  size_t bad = 0;
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double diff = std::abs(a[i] - b[i]);
    worst = std::max(worst, diff);
    bad += diff > tol ? 1 : 0;
  }
  INFO("largest state difference " << worst << ", tolerance " << tol);
  CHECK(bad == 0);
}

}  // namespace

TEST_CASE("gpu: CPU/GPU parity, statistics mode", "[gpu][parity][cartpole]") {
  const Precision p = GENERATE(Precision::kFloat32, Precision::kFloat64);
  INFO("precision " << to_string(p));
  const Run cpu = run(Device::kCpu, p, 5000, 100, 32, false);
  const Run gpu = run(Device::kCuda, p, 5000, 100, 32, false);
  CHECK(gpu.stats.steps == cpu.stats.steps);
  CHECK(gpu.stats.episodes.episodes == cpu.stats.episodes.episodes);
  CHECK(gpu.stats.episodes.length_sum == cpu.stats.episodes.length_sum);
  CHECK(gpu.stats.episodes.return_sum == cpu.stats.episodes.return_sum);  // integer rewards: exact
  CHECK(gpu.elapsed == cpu.elapsed);
  check_states_close(gpu.state, cpu.state, state_tolerance(p));
}

TEST_CASE("gpu: CPU/GPU parity, trajectories step by step", "[gpu][parity][trajectory][cartpole]") {
  const Precision p = GENERATE(Precision::kFloat32, Precision::kFloat64);
  INFO("precision " << to_string(p));
  const Run cpu = run(Device::kCpu, p, 3000, 70, 16, true);
  const Run gpu = run(Device::kCuda, p, 3000, 70, 16, true);
  CHECK(gpu.terminated == cpu.terminated);
  CHECK(gpu.truncated == cpu.truncated);
  CHECK(gpu.actions == cpu.actions);
  CHECK(gpu.reward == cpu.reward);
  REQUIRE(gpu.obs.size() == cpu.obs.size());
  std::vector<double> go(gpu.obs.begin(), gpu.obs.end()), co(cpu.obs.begin(), cpu.obs.end());
  // observations are float32 in both precisions
  check_states_close(go, co, p == Precision::kFloat32 ? state_tolerance(p) : 1e-6);
  CHECK(gpu.stats.episodes.episodes == cpu.stats.episodes.episodes);
}

TEST_CASE("gpu: trajectory mode is the same run as statistics mode", "[gpu][trajectory]") {
  // 4 chunks of 32 and one of 4: exercises both double buffers and a short last chunk
  const Run stats = run(Device::kCuda, Precision::kFloat32, 10000, 132, 32, false);
  const Run traj = run(Device::kCuda, Precision::kFloat32, 10000, 132, 32, true);
  CHECK(traj.stats.episodes.episodes == stats.stats.episodes.episodes);
  CHECK(traj.stats.episodes.length_sum == stats.stats.episodes.length_sum);
  CHECK(traj.stats.episodes.return_sum == stats.stats.episodes.return_sum);
  CHECK(traj.state == stats.state);  // same kernel arithmetic: bit for bit
  CHECK(traj.elapsed == stats.elapsed);
  CHECK(traj.terminated.size() == 132u * 10000u);
  uint64_t ended = 0;
  for (size_t s = 0; s < traj.terminated.size(); ++s) ended += (traj.terminated[s] || traj.truncated[s]) ? 1 : 0;
  CHECK(ended == traj.stats.episodes.episodes);
}

TEST_CASE("gpu: chunk size does not change results", "[gpu][determinism]") {
  const Run a = run(Device::kCuda, Precision::kFloat32, 4096, 96, 1, false);
  const Run b = run(Device::kCuda, Precision::kFloat32, 4096, 96, 32, false);
  const Run c = run(Device::kCuda, Precision::kFloat32, 4096, 96, 96, false);
  CHECK(a.state == b.state);
  CHECK(a.state == c.state);
  CHECK(a.stats.episodes.episodes == c.stats.episodes.episodes);
  // run-to-run determinism of the CUB reductions
  const Run d = run(Device::kCuda, Precision::kFloat32, 4096, 96, 32, false);
  CHECK(d.stats.episodes.return_sum == b.stats.episodes.return_sum);
}

TEST_CASE("gpu: batches give the same envs as one launch", "[gpu][batches]") {
  const int64_t n = 10000, split = 3333;  // split not a multiple of the block size
  const Run one = run(Device::kCuda, Precision::kFloat32, n, 80, 32, false);
  const Run first = run(Device::kCuda, Precision::kFloat32, split, 80, 32, false, 0);
  const Run second = run(Device::kCuda, Precision::kFloat32, n - split, 80, 32, false, split);
  std::vector<double> joined = first.state;
  joined.insert(joined.end(), second.state.begin(), second.state.end());
  CHECK(joined == one.state);
  CHECK(first.stats.episodes.episodes + second.stats.episodes.episodes == one.stats.episodes.episodes);
  CHECK(first.stats.episodes.length_sum + second.stats.episodes.length_sum == one.stats.episodes.length_sum);
}

TEST_CASE("gpu: step API matches the CPU", "[gpu][parity][step]") {
  const AutoresetMode mode = GENERATE(AutoresetMode::kNextStep, AutoresetMode::kSameStep, AutoresetMode::kDisabled);
  SimConfig c;
  c.num_envs = 777;
  c.autoreset = mode;
  auto cpu = make_cpu_simulator(c);
  auto gpu = make_cuda_simulator(c);
  const size_t n = 777;
  std::vector<float> obs_c(n * 4), obs_g(n * 4), fin_c(n * 4), fin_g(n * 4), rew_c(n), rew_g(n);
  std::vector<uint8_t> term_c(n), term_g(n), trunc_c(n), trunc_g(n), has_c(n), has_g(n);
  cpu->reset({42}, nullptr, obs_c.data());
  gpu->reset({42}, nullptr, obs_g.data());
  CHECK(obs_c == obs_g);
  std::vector<int32_t> actions(n);
  for (int k = 0; k < 60; ++k) {
    for (size_t i = 0; i < n; ++i) actions[i] = static_cast<int32_t>((i * 7 + k * 3) % 5 < 2);
    StepBuffers bc{obs_c.data(), rew_c.data(), term_c.data(), trunc_c.data(), fin_c.data(), has_c.data(), nullptr};
    StepBuffers bg{obs_g.data(), rew_g.data(), term_g.data(), trunc_g.data(), fin_g.data(), has_g.data(), nullptr};
    cpu->step(actions.data(), bc);
    gpu->step(actions.data(), bg);
    CHECK(term_c == term_g);
    CHECK(trunc_c == trunc_g);
    CHECK(rew_c == rew_g);
    if (mode == AutoresetMode::kSameStep) CHECK(has_c == has_g);
  }
  std::vector<double> sc(n * 4), sg(n * 4);
  cpu->get_state(sc.data());
  gpu->get_state(sg.data());
  check_states_close(sg, sc, state_tolerance(Precision::kFloat32));
  // a rollout after the step API applies the pending resets like the CPU
  CHECK(cpu->rollout(40, 8).episodes.episodes == gpu->rollout(40, 8).episodes.episodes);
  // bad actions are refused before anything changes
  std::vector<double> before(n * 4), after(n * 4);
  gpu->get_state(before.data());
  actions[5] = 2;
  StepBuffers bg{obs_g.data(), rew_g.data(), term_g.data(), trunc_g.data(), fin_g.data(), has_g.data(), nullptr};
  CHECK_THROWS_WITH(gpu->step(actions.data(), bg), "actions[5] = 2 is outside [0, 2)");
  gpu->get_state(after.data());
  CHECK(after == before);
}

// Foraging-v0 has no multiplication of reals to contract: CPU and GPU agree bit for bit.
TEST_CASE("gpu: Foraging-v0 step API and statistics match the CPU", "[gpu][parity][foraging]") {
  const AutoresetMode mode = GENERATE(AutoresetMode::kNextStep, AutoresetMode::kSameStep, AutoresetMode::kDisabled);
  SimConfig c;
  c.env_id = "Foraging-v0";
  c.num_envs = 300;
  c.params = {{"num_agents", 7}};
  c.max_episode_steps = 50;
  c.autoreset = mode;
  auto cpu = make_cpu_simulator(c);
  auto gpu = make_cuda_simulator(c);
  const size_t rows = 300 * 7, obs = rows * 4 * 169;
  std::vector<float> obs_c(obs), obs_g(obs), fin_c(obs), fin_g(obs), rew_c(rows), rew_g(rows);
  std::vector<uint8_t> term_c(rows), term_g(rows), trunc_c(rows), trunc_g(rows), has_c(rows), has_g(rows);
  cpu->reset({42}, nullptr, obs_c.data());
  gpu->reset({42}, nullptr, obs_g.data());
  CHECK(obs_c == obs_g);
  std::vector<int32_t> actions(rows);
  for (int k = 0; k < 70; ++k) {
    for (size_t i = 0; i < rows; ++i) actions[i] = static_cast<int32_t>((i * 7 + k * 3) % 6);
    StepBuffers bc{obs_c.data(), rew_c.data(), term_c.data(), trunc_c.data(), fin_c.data(), has_c.data(), nullptr};
    StepBuffers bg{obs_g.data(), rew_g.data(), term_g.data(), trunc_g.data(), fin_g.data(), has_g.data(), nullptr};
    cpu->step(actions.data(), bc);
    gpu->step(actions.data(), bg);
    CHECK(obs_c == obs_g);
    CHECK(rew_c == rew_g);
    CHECK(term_c == term_g);
    CHECK(trunc_c == trunc_g);
    if (mode == AutoresetMode::kSameStep) CHECK(has_c == has_g);
  }
  const size_t fields = cpu->info().state_fields.size();
  std::vector<double> sc(300 * fields), sg(300 * fields);
  cpu->get_state(sc.data());
  gpu->get_state(sg.data());
  CHECK(sc == sg);
  const RolloutStats rc = cpu->rollout(200, 16), rg = gpu->rollout(200, 16);
  CHECK(rc.episodes.episodes == rg.episodes.episodes);
  CHECK(rc.episodes.length_sum == rg.episodes.length_sum);
  CHECK(rc.episodes.alive_sum == rg.episodes.alive_sum);
  CHECK(rc.episodes.return_sum == Approx(rg.episodes.return_sum).epsilon(1e-12));  // summed in another order
}

// TicTacToe is integer-exact: observations, the info fields (the int8 action mask, after reset and
// on autoreset steps) and same_step's final_info are identical on CPU and GPU.
TEST_CASE("gpu: TicTacToe info and final_info match the CPU", "[gpu][parity][step][tic_tac_toe]") {
  const AutoresetMode mode = GENERATE(AutoresetMode::kNextStep, AutoresetMode::kSameStep, AutoresetMode::kDisabled);
  SimConfig c;
  c.env_id = "TicTacToe-v0";
  c.num_envs = 300;
  c.autoreset = mode;
  auto cpu = make_cpu_simulator(c);
  auto gpu = make_cuda_simulator(c);
  const size_t n = 300, fields = cpu->info().info_fields.size();
  std::vector<int8_t> obs_c(n * 9), obs_g(n * 9), fin_c(n * 9), fin_g(n * 9);
  std::vector<float> rew_c(n), rew_g(n);
  std::vector<uint8_t> term_c(n), term_g(n), trunc_c(n), trunc_g(n), has_c(n), has_g(n);
  std::vector<double> info_c(n * fields), info_g(n * fields), final_c(n * fields), final_g(n * fields);
  cpu->reset({9}, nullptr, obs_c.data(), info_c.data());
  gpu->reset({9}, nullptr, obs_g.data(), info_g.data());
  CHECK(obs_c == obs_g);
  CHECK(info_c == info_g);
  const bool same_step = mode == AutoresetMode::kSameStep;
  std::vector<int32_t> actions(n);
  for (int k = 0; k < 30; ++k) {
    for (size_t i = 0; i < n; ++i) {  // the (k mod 9)-th cell from where an empty one is found
      actions[i] = 0;
      for (int j = 0; j < 9; ++j) {
        const int cell = (j + k) % 9;
        if (obs_c[i * 9 + static_cast<size_t>(cell)] == 0) {
          actions[i] = cell;
          break;
        }
      }
    }
    StepBuffers bc{obs_c.data(), rew_c.data(), term_c.data(), trunc_c.data(), fin_c.data(), has_c.data(), info_c.data(),
                   same_step ? final_c.data() : nullptr};
    StepBuffers bg{obs_g.data(), rew_g.data(), term_g.data(), trunc_g.data(), fin_g.data(), has_g.data(), info_g.data(),
                   same_step ? final_g.data() : nullptr};
    cpu->step(actions.data(), bc);
    gpu->step(actions.data(), bg);
    CHECK(obs_c == obs_g);
    CHECK(term_c == term_g);
    CHECK(rew_c == rew_g);
    CHECK(info_c == info_g);
    if (same_step) {
      CHECK(has_c == has_g);
      CHECK(final_c == final_g);
    }
  }
}

TEST_CASE("gpu: state and elapsed round-trip", "[gpu][step]") {
  SimConfig c;
  c.num_envs = 300;
  auto gpu = make_cuda_simulator(c);
  std::vector<double> s(300 * 4);
  for (size_t i = 0; i < s.size(); ++i) s[i] = 0.001 * static_cast<double>(i % 50);
  gpu->set_state(s.data());
  std::vector<double> back(s.size());
  gpu->get_state(back.data());
  for (size_t i = 0; i < s.size(); ++i) CHECK(back[i] == Approx(s[i]).margin(1e-7));
  std::vector<uint32_t> e(300, 17), eb(300);
  gpu->set_elapsed(e.data());
  gpu->get_elapsed(eb.data());
  CHECK(eb == e);
}

TEST_CASE("gpu: planner refuses an absurd num_envs", "[gpu][planner]") {
  const uint64_t free = cuda_status().devices.front().free_bytes;
  // one simulator is one batch: 4e9 CartPole envs need 104 GB, more than any current card
  SimConfig c;
  c.num_envs = 4000000000;
  try {
    auto sim = make_cuda_simulator(c);
    if (free > 120000000000ull) WARN("device has more than 120 GB free; the 4e9-env simulator fit");
  } catch (const ConfigError& e) {
    CHECK_THAT(e.what(), Catch::Contains("needs") && Catch::Contains("usable"));
  }
  // trajectory mode with an absurd chunk cannot fit even in 64 batches
  MemoryRequest r;
  r.env = describe_env("CartPole-v1", Precision::kFloat32);
  r.num_envs = 1000000000;
  r.chunk = 1 << 20;
  r.mode = OutputMode::kTrajectory;
  r.free_bytes = free;
  r.allow_batches = true;
  const MemoryPlan plan = plan_memory(r);
  CHECK_FALSE(plan.fits());
  CHECK_THAT(describe_shortfall(r, plan), Catch::Contains("even split into 64 batches"));
  // and throughput splits a large statistics run instead of refusing it
  ThroughputSpec spec;
  spec.device = Device::kCuda;
  spec.num_envs = 1000;
  spec.steps = 64;
  const ThroughputResult t = measure_throughput(spec);
  CHECK(t.batches == 1);
  CHECK(t.stats.steps == 64000u);
}

// ---- every registered env, both precisions -------------------------------------------------------

namespace {

// Values of `count` entries of a buffer with `bytes_per_value`-byte entries: int8 observations,
// float32/float64 rewards and actions, int32 discrete actions, all as doubles.
std::vector<double> as_doubles(const void* data, size_t count, size_t bytes_per_value, bool integer) {
  std::vector<double> out(count);
  for (size_t i = 0; i < count; ++i) {
    const unsigned char* p = static_cast<const unsigned char*>(data) + i * bytes_per_value;
    if (bytes_per_value == 1) out[i] = static_cast<double>(*reinterpret_cast<const int8_t*>(p));
    else if (bytes_per_value == 4 && integer) out[i] = static_cast<double>(*reinterpret_cast<const int32_t*>(p));
    else if (bytes_per_value == 4) out[i] = static_cast<double>(*reinterpret_cast<const float*>(p));
    else out[i] = *reinterpret_cast<const double*>(p);
  }
  return out;
}

// Differences allowed between the CPU and the GPU for one env and precision: none for float32 in
// the strict build; otherwise FMA contraction (float32) or libm vs CUDA sin/cos/exp (float64, 1-2
// ulp) change the last bits of a step, and over the <= 64 steps compared here that stays below
// these bounds for every registered env (relative to 1 + |value|).
double tolerance(Precision p) {
  if (p == Precision::kFloat32) return state_tolerance(p) == 0.0 ? 0.0 : 1e-3;
  return 1e-9;
}
// A flag may flip where a value within tolerance sits on a threshold: never in the exact build.
size_t flips_allowed(Precision p, size_t count) { return tolerance(p) == 0.0 ? 0 : (count + 999) / 1000; }

size_t count_far(const std::vector<double>& a, const std::vector<double>& b, double tol) {
  REQUIRE(a.size() == b.size());
  size_t far = 0;
  for (size_t i = 0; i < a.size(); ++i) far += std::abs(a[i] - b[i]) > tol * (1 + std::abs(b[i])) ? 1 : 0;
  return far;
}
size_t count_different(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  REQUIRE(a.size() == b.size());
  size_t d = 0;
  for (size_t i = 0; i < a.size(); ++i) d += a[i] != b[i] ? 1 : 0;
  return d;
}

// A different seed per env id, so the envs do not share one random stream by accident.
uint64_t seed_for(const std::string& id) { return std::hash<std::string>{}(id) & 0xffffffffu; }

struct Recording {
  std::vector<double> obs, reward, actions, state;
  std::vector<uint8_t> terminated, truncated;
  RolloutStats stats;
};

Recording record_env(Device d, const std::string& id, Precision p, int64_t n, uint64_t steps, int chunk) {
  SimConfig c;
  c.env_id = id;
  c.precision = p;
  c.num_envs = n;
  c.seed = seed_for(id);
  if (describe_env(id, p).num_agents > 1) c.params = {{"num_agents", 4}};  // multi-agent: 4 rows per env
  auto sim = make_simulator(c, d);
  const EnvInfo& e = sim->info();
  Recording r;
  r.stats = sim->rollout_trajectory(steps, chunk, [&](const TrajectoryChunk& ch) {
    const size_t m = static_cast<size_t>(ch.steps) * static_cast<size_t>(ch.num_envs) * static_cast<size_t>(ch.num_agents);
    const auto obs = as_doubles(ch.obs, m * e.obs_dim, e.obs_bytes / e.obs_dim, false);
    const auto rew = as_doubles(ch.reward, m, e.reward_bytes, false);
    const auto act = as_doubles(ch.actions, m, e.action_bytes, e.discrete);
    r.obs.insert(r.obs.end(), obs.begin(), obs.end());
    r.reward.insert(r.reward.end(), rew.begin(), rew.end());
    r.actions.insert(r.actions.end(), act.begin(), act.end());
    r.terminated.insert(r.terminated.end(), ch.terminated, ch.terminated + m);
    r.truncated.insert(r.truncated.end(), ch.truncated, ch.truncated + m);
  });
  r.state.resize(static_cast<size_t>(n) * e.state_fields.size());
  sim->get_state(r.state.data());
  return r;
}

}  // namespace

TEST_CASE("gpu: every env and precision matches the CPU step by step", "[gpu][parity][envs]") {
  const Precision p = GENERATE(Precision::kFloat32, Precision::kFloat64);
  for (const std::string& id : env_ids()) {
    INFO(id << " " << to_string(p));
    // 1000 envs: four blocks, the last one partial (multi-agent: 300 worlds, two blocks); 64 steps in
    // chunks of 16 (both trajectory buffers)
    const int64_t n = describe_env(id, p).num_agents > 1 ? 300 : 1000;
    const Recording cpu = record_env(Device::kCpu, id, p, n, 64, 16);
    const Recording gpu = record_env(Device::kCuda, id, p, n, 64, 16);
    const double tol = tolerance(p);
    CHECK(count_far(gpu.actions, cpu.actions, tol) == 0);  // the policy's draws are integer arithmetic
    CHECK(count_different(gpu.terminated, cpu.terminated) <= flips_allowed(p, cpu.terminated.size()));
    CHECK(count_different(gpu.truncated, cpu.truncated) == 0);  // step counts
    CHECK(count_far(gpu.obs, cpu.obs, tol) <= flips_allowed(p, cpu.obs.size()));
    CHECK(count_far(gpu.reward, cpu.reward, tol) <= flips_allowed(p, cpu.reward.size()));
    CHECK(count_far(gpu.state, cpu.state, tol) <= flips_allowed(p, cpu.state.size()));
    if (tol == 0.0) {
      CHECK(gpu.stats.episodes.episodes == cpu.stats.episodes.episodes);
      CHECK(gpu.stats.episodes.length_sum == cpu.stats.episodes.length_sum);
      CHECK(gpu.stats.episodes.return_sum == cpu.stats.episodes.return_sum);
    }
  }
}

namespace {

// Valid actions for step k: discrete ones cycling through the action space, continuous ones spread
// over [low, high].
std::vector<unsigned char> actions_for(const EnvInfo& e, size_t n, int k) {
  std::vector<unsigned char> a(n * e.action_bytes);
  for (size_t i = 0; i < n; ++i) {
    const size_t j = (i * 7 + static_cast<size_t>(k) * 3) % 11;
    if (e.discrete) {
      reinterpret_cast<int32_t*>(a.data())[i] = static_cast<int32_t>(j % static_cast<size_t>(e.num_actions));
    } else {
      const double v = e.action_low + (e.action_high - e.action_low) * static_cast<double>(j) / 10.0;
      if (e.action_bytes == 4) reinterpret_cast<float*>(a.data())[i] = static_cast<float>(v);
      else reinterpret_cast<double*>(a.data())[i] = v;
    }
  }
  return a;
}

struct StepOut {
  std::vector<unsigned char> obs, reward, final_obs;
  std::vector<uint8_t> terminated, truncated, has_final;
  std::vector<double> info;
  StepOut(const EnvInfo& e, size_t n)
      : obs(n * e.obs_bytes), reward(n * e.reward_bytes), final_obs(n * e.obs_bytes), terminated(n), truncated(n),
        has_final(n), info(n * e.info_fields.size()) {}
  StepBuffers buffers() {
    return {obs.data(), reward.data(), terminated.data(), truncated.data(), final_obs.data(), has_final.data(),
            info.empty() ? nullptr : info.data()};
  }
};

void check_outputs_match(const EnvInfo& e, size_t n, const StepOut& g, const StepOut& c, bool same_step) {
  const double tol = tolerance(e.precision);
  const size_t obs_w = e.obs_bytes / e.obs_dim;
  CHECK(count_far(as_doubles(g.obs.data(), n * e.obs_dim, obs_w, false),
                  as_doubles(c.obs.data(), n * e.obs_dim, obs_w, false), tol) <= flips_allowed(e.precision, n));
  CHECK(count_far(as_doubles(g.reward.data(), n, e.reward_bytes, false),
                  as_doubles(c.reward.data(), n, e.reward_bytes, false), tol) <= flips_allowed(e.precision, n));
  CHECK(count_different(g.terminated, c.terminated) <= flips_allowed(e.precision, n));
  CHECK(count_different(g.truncated, c.truncated) == 0);
  CHECK(count_far(g.info, c.info, tol) <= flips_allowed(e.precision, g.info.size()));
  if (same_step) {
    CHECK(count_different(g.has_final, c.has_final) <= flips_allowed(e.precision, n));
    // final observations are meaningful where has_final is set
    std::vector<double> gf, cf;
    const auto ga = as_doubles(g.final_obs.data(), n * e.obs_dim, obs_w, false);
    const auto ca = as_doubles(c.final_obs.data(), n * e.obs_dim, obs_w, false);
    for (size_t i = 0; i < n; ++i) {
      if (!c.has_final[i] || !g.has_final[i]) continue;
      gf.insert(gf.end(), ga.begin() + i * e.obs_dim, ga.begin() + (i + 1) * e.obs_dim);
      cf.insert(cf.end(), ca.begin() + i * e.obs_dim, ca.begin() + (i + 1) * e.obs_dim);
    }
    CHECK(count_far(gf, cf, tol) <= flips_allowed(e.precision, gf.size()));
  }
}

}  // namespace

TEST_CASE("gpu: every env's step API matches the CPU: seeds, masks, final obs, info", "[gpu][parity][step][envs]") {
  const Precision p = GENERATE(Precision::kFloat32, Precision::kFloat64);
  const AutoresetMode mode = GENERATE(AutoresetMode::kNextStep, AutoresetMode::kSameStep, AutoresetMode::kDisabled);
  for (const std::string& id : env_ids()) {
    INFO(id << " " << to_string(p) << " autoreset " << static_cast<int>(mode));
    SimConfig c;
    c.env_id = id;
    c.precision = p;
    c.num_envs = 333;
    c.autoreset = mode;
    c.max_episode_steps = 25;  // truncations within the run
    auto cpu = make_cpu_simulator(c);
    auto gpu = make_cuda_simulator(c);
    const EnvInfo& e = cpu->info();
    const size_t n = 333;
    StepOut oc(e, n), og(e, n);
    // per-env seeds
    std::vector<uint64_t> seeds(n);
    for (size_t i = 0; i < n; ++i) seeds[i] = seed_for(id) + 1000 * i;
    cpu->reset(seeds, nullptr, oc.obs.data(), oc.info.empty() ? nullptr : oc.info.data());
    gpu->reset(seeds, nullptr, og.obs.data(), og.info.empty() ? nullptr : og.info.data());
    check_outputs_match(e, n, og, oc, false);
    std::vector<uint8_t> mask(n);
    for (int k = 0; k < 60; ++k) {
      const auto a = actions_for(e, n, k);
      StepBuffers bc = oc.buffers(), bg = og.buffers();
      cpu->step(a.data(), bc);
      gpu->step(a.data(), bg);
      check_outputs_match(e, n, og, oc, mode == AutoresetMode::kSameStep);
      if (k % 20 == 19) {  // a masked reset of every third env
        for (size_t i = 0; i < n; ++i) mask[i] = i % 3 == static_cast<size_t>(k) % 3;
        cpu->reset({}, mask.data(), oc.obs.data(), oc.info.empty() ? nullptr : oc.info.data());
        gpu->reset({}, mask.data(), og.obs.data(), og.info.empty() ? nullptr : og.info.data());
        check_outputs_match(e, n, og, oc, false);
      }
    }
    // a rollout after the step API restarts the envs the step API left ended, in every mode (the
    // disabled-mode bug: the GPU kept stepping them from their terminal states)
    const RolloutStats rc = cpu->rollout(64, 16), rg = gpu->rollout(64, 16);
    if (tolerance(p) == 0.0) CHECK(rg.episodes.episodes == rc.episodes.episodes);
    else CHECK(std::abs(static_cast<double>(rg.episodes.episodes) - static_cast<double>(rc.episodes.episodes)) <=
               0.01 * static_cast<double>(rc.episodes.episodes) + 1);
  }
}

TEST_CASE("gpu: a failed buffer growth leaves the simulator as it was", "[gpu][allocation]") {
  SimConfig c;
  c.num_envs = 1500;
  c.seed = 11;
  auto gpu = make_cuda_simulator(c);
  auto reference = make_cuda_simulator(c);
  const auto chunks = [](Simulator& sim, uint64_t steps, int chunk) {
    std::vector<uint8_t> flags;
    sim.rollout_trajectory(steps, chunk, [&](const TrajectoryChunk& ch) {
      flags.insert(flags.end(), ch.terminated, ch.terminated + static_cast<size_t>(ch.steps) * ch.num_envs);
    });
    return flags;
  };
  CHECK(chunks(*gpu, 20, 8) == chunks(*reference, 20, 8));
  // the pair of trajectory buffers is 2 x 10 allocations (5 device, 5 pinned): fail a few of them
  for (const int64_t allowed : {0, 4, 9, 13, 19}) {
    INFO("allocations allowed before the failure: " << allowed);
    FailAllocation fail(allowed);
    CHECK_THROWS_AS(chunks(*gpu, 40, 32), InjectedAllocationFailure);
  }
  CHECK(chunks(*gpu, 16, 8) == chunks(*reference, 16, 8));
  CHECK(chunks(*gpu, 40, 32) == chunks(*reference, 40, 32));
  // the step API's buffers (13 allocations for CartPole in next_step mode), all or none
  std::vector<float> obs_g(1500 * 4), obs_r(1500 * 4);
  {
    FailAllocation fail(12);
    CHECK_THROWS_AS(gpu->reset({7}, nullptr, obs_g.data()), InjectedAllocationFailure);
  }
  gpu->reset({7}, nullptr, obs_g.data());
  reference->reset({7}, nullptr, obs_r.data());
  CHECK(obs_g == obs_r);
}

TEST_CASE("gpu: DLPack exports only written buffers, on the simulator's device", "[gpu][dlpack]") {
  SimConfig c;
  c.num_envs = 256;
  auto gpu = make_cuda_simulator(c);
  CHECK(gpu->device_outputs().obs == nullptr);  // nothing written yet
  std::vector<float> obs(256 * 4), reward(256);
  std::vector<uint8_t> term(256), trunc(256);
  gpu->reset({1}, nullptr, obs.data());
  DeviceOutputs d = gpu->device_outputs();
  CHECK(d.obs != nullptr);
  CHECK(d.reward == nullptr);  // a reset writes no rewards or flags
  CHECK(d.terminated == nullptr);
  CHECK(d.device_id == cuda_status().devices.front().index);
  std::vector<int32_t> actions(256, 1);
  StepBuffers b{obs.data(), reward.data(), term.data(), trunc.data(), nullptr, nullptr, nullptr};
  gpu->step(actions.data(), b);
  d = gpu->device_outputs();
  CHECK(d.reward != nullptr);
  CHECK(d.truncated != nullptr);
  // the legacy default stream (1) and the per-thread default stream (2) can wait on the step
  CHECK_NOTHROW(gpu->make_stream_wait(1));
  CHECK_NOTHROW(gpu->make_stream_wait(2));
}

int main(int argc, char** argv) {
  const CudaStatus& cuda = cuda_status();
  if (!cuda.usable) {
    std::printf("simkit_gpu_tests: skipped, no usable CUDA device (%s)\n", cuda.reason.c_str());
    return 77;
  }
  std::printf("simkit_gpu_tests: %s, driver %s, runtime %s\n", cuda.devices.front().name.c_str(),
              cuda.driver_version.c_str(), cuda.runtime_version.c_str());
  return Catch::Session().run(argc, argv);
}
