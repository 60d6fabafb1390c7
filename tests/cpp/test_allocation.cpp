// SPDX-License-Identifier: Apache-2.0
// Transactional buffer growth: an allocation that fails while a backend grows its buffers leaves the
// simulator as it was before the call. The failure is injected (simkit/allocation.hpp) into the
// CPU backend's trajectory buffers here; tests/gpu/test_gpu.cpp does the same for CUDA.
#include <catch2/catch.hpp>

#include <vector>

#include "simkit/allocation.hpp"
#include "simkit/simulator.hpp"

using namespace simkit;

namespace {
struct Chunks {
  std::vector<float> obs;
  std::vector<int32_t> actions;
  std::vector<uint8_t> terminated;
  RolloutStats stats;
};

Chunks collect(Simulator& sim, uint64_t steps, int chunk) {
  Chunks r;
  r.stats = sim.rollout_trajectory(steps, chunk, [&](const TrajectoryChunk& ch) {
    const size_t m = static_cast<size_t>(ch.steps) * static_cast<size_t>(ch.num_envs);
    const float* o = static_cast<const float*>(ch.obs);
    r.obs.insert(r.obs.end(), o, o + m * 4);
    const int32_t* a = static_cast<const int32_t*>(ch.actions);
    r.actions.insert(r.actions.end(), a, a + m);
    r.terminated.insert(r.terminated.end(), ch.terminated, ch.terminated + m);
  });
  return r;
}

void check_same(const Chunks& a, const Chunks& b) {
  CHECK(a.obs == b.obs);
  CHECK(a.actions == b.actions);
  CHECK(a.terminated == b.terminated);
  CHECK(a.stats.episodes.episodes == b.stats.episodes.episodes);
}
}  // namespace

TEST_CASE("cpu: a failed trajectory-buffer growth leaves the simulator as it was", "[cpu][allocation][trajectory]") {
  // The grow allocates five arrays (obs, reward, terminated, truncated, actions): fail each in turn.
  const int64_t allowed = GENERATE(0, 1, 2, 3, 4);
  INFO("allocations allowed before the failure: " << allowed);
  SimConfig c;
  c.num_envs = 1500;  // three tiles, the last one partial
  c.seed = 11;
  c.threads = 1;
  auto sim = make_cpu_simulator(c);
  auto reference = make_cpu_simulator(c);  // the same calls, without the failed one
  check_same(collect(*sim, 20, 8), collect(*reference, 20, 8));  // buffers for chunk 8 now held

  std::vector<double> state_before(1500 * 4), state_after(1500 * 4);
  std::vector<uint32_t> elapsed_before(1500), elapsed_after(1500);
  sim->get_state(state_before.data());
  sim->get_elapsed(elapsed_before.data());
  {
    FailAllocation fail(allowed);
    CHECK_THROWS_AS(collect(*sim, 40, 32), InjectedAllocationFailure);
    CHECK(FailAllocation::fired());
  }
  sim->get_state(state_after.data());
  sim->get_elapsed(elapsed_after.data());
  CHECK(state_after == state_before);
  CHECK(elapsed_after == elapsed_before);
  // The clock did not move and the held buffers still serve: the old chunk, then the grown one.
  check_same(collect(*sim, 16, 8), collect(*reference, 16, 8));
  check_same(collect(*sim, 40, 32), collect(*reference, 40, 32));
}

TEST_CASE("cpu: a failed first trajectory allocation can be retried", "[cpu][allocation][trajectory]") {
  SimConfig c;
  c.num_envs = 700;
  c.seed = 3;
  auto sim = make_cpu_simulator(c);
  auto reference = make_cpu_simulator(c);
  {
    FailAllocation fail(2);
    CHECK_THROWS_AS(collect(*sim, 10, 4), InjectedAllocationFailure);
  }
  check_same(collect(*sim, 10, 4), collect(*reference, 10, 4));
}

TEST_CASE("allocation hook: disarmed outside its scope", "[cpu][allocation]") {
  {
    FailAllocation fail(1000);
    CHECK_FALSE(FailAllocation::fired());
  }
  CHECK_NOTHROW(check_allocation());
  SimConfig c;
  c.num_envs = 10;
  CHECK_NOTHROW(make_cpu_simulator(c)->rollout_trajectory(4, 2, [](const TrajectoryChunk&) {}));
}
