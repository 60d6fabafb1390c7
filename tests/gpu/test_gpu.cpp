// SPDX-License-Identifier: Apache-2.0
// GPU tests: CPU/GPU parity, trajectory vs statistics mode, batches vs one launch, planner refusal.
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
#include <vector>

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
