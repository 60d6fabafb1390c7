// The step API's work sharing (host/src/cpu/block_pool.hpp): every block runs exactly once per run,
// whichever thread claims it, and stepping on 2 threads gives the results of 1 thread.
#include <catch2/catch.hpp>
#include <atomic>
#include <chrono>
#include <thread>
#include <cstdint>
#include <vector>

#include "../../host/src/cpu/block_pool.hpp"
#include "simkit/simulator.hpp"

using namespace simkit;

TEST_CASE("a BlockPool runs every block of every run exactly once", "[cpu][threads]") {
  cpu::BlockPool pool(3);
  std::vector<std::atomic<int>> hits(10000);
  std::atomic<int64_t> misshapen{0};  // Catch2's assertions are not thread-safe: count, then check
  for (int run = 0; run < 500; ++run) {
    const int64_t n = 1 + (run * 7919) % 10000;
    const int64_t block = 1 + run % 97;
    for (auto& h : hits) h.store(0);
    pool.run(n, block, [&](int, int64_t begin, int64_t end) {
      misshapen += begin % block != 0 || end != std::min(n, begin + block);
      for (int64_t i = begin; i < end; ++i) hits[static_cast<size_t>(i)].fetch_add(1);
    });
    int64_t wrong = 0;
    for (int64_t i = 0; i < 10000; ++i) wrong += hits[static_cast<size_t>(i)].load() != (i < n ? 1 : 0);
    REQUIRE(wrong == 0);
  }
  CHECK(misshapen == 0);
}

TEST_CASE("a BlockPool's worker index names one thread at a time (per-thread scratch)", "[cpu][threads]") {
  cpu::BlockPool pool(2);
  std::atomic<bool> busy[3] = {false, false, false};
  std::atomic<int64_t> bad{0};
  for (int run = 0; run < 20; ++run) {
    pool.run(48, 1, [&](int worker, int64_t, int64_t) {
      if (worker < 0 || worker > 2 || busy[worker].exchange(true)) {
        ++bad;
        return;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(100));
      busy[worker].store(false);
    });
  }
  CHECK(bad == 0);
}

TEST_CASE("a BlockPool run returns only after every block has finished", "[cpu][threads]") {
  cpu::BlockPool pool(1);
  for (int run = 0; run < 20; ++run) {
    std::atomic<int> finished{0};
    pool.run(64, 1, [&](int, int64_t, int64_t) {  // slow blocks, so the helper claims some
      std::this_thread::sleep_for(std::chrono::microseconds(200));
      finished.fetch_add(1);
    });
    REQUIRE(finished.load() == 64);
  }
}

namespace {

struct Stepped {
  std::vector<float> obs;
  std::vector<float> reward;
  std::vector<uint8_t> terminated, truncated;
  std::vector<double> state;
};

// 40 step-API calls on enough envs that 2 threads share the work; episodes end and autoreset.
Stepped step_many(int threads) {
  SimConfig c;
  c.env_id = "CartPole-v1";
  c.num_envs = 70001;  // above twice the per-thread minimum, the last tile partial
  c.seed = 11;
  c.threads = threads;
  c.max_episode_steps = 25;
  auto sim = make_cpu_simulator(c);
  const size_t n = static_cast<size_t>(c.num_envs);
  Stepped s;
  s.obs.resize(n * 4);
  s.reward.resize(n);
  s.terminated.resize(n);
  s.truncated.resize(n);
  sim->reset({11}, nullptr, s.obs.data());
  std::vector<int32_t> actions(n);
  StepBuffers b;
  b.obs = s.obs.data();
  b.reward = s.reward.data();
  b.terminated = s.terminated.data();
  b.truncated = s.truncated.data();
  for (int t = 0; t < 40; ++t) {
    for (size_t i = 0; i < n; ++i) actions[i] = static_cast<int32_t>((i * 31 + static_cast<size_t>(t) * 17) % 7 < 3);
    sim->step(actions.data(), b);
  }
  s.state.resize(n * sim->info().state_fields.size());
  sim->get_state(s.state.data());
  return s;
}

}  // namespace

TEST_CASE("the step API gives the same results on 1 and 2 threads", "[cpu][threads][determinism]") {
  const Stepped one = step_many(1);
  const Stepped two = step_many(2);
  CHECK(one.obs == two.obs);
  CHECK(one.reward == two.reward);
  CHECK(one.terminated == two.terminated);
  CHECK(one.truncated == two.truncated);
  CHECK(one.state == two.state);
}
