// SPDX-License-Identifier: Apache-2.0
// The memory planner with injected free-memory values: no device needed.
#include <catch2/catch.hpp>

#include "temp_files.hpp"
#include <filesystem>
#include <fstream>
#include <string>

#include "simkit/planner.hpp"

using namespace simkit;

namespace {
constexpr uint64_t kGB = 1000000000ull;
constexpr uint64_t kFixed = 1 << 20;

MemoryRequest cartpole(int64_t num_envs, uint64_t free_bytes, OutputMode mode = OutputMode::kStatistics, int chunk = 32,
                       bool allow_batches = true) {
  MemoryRequest r;
  r.env = describe_env("CartPole-v1", Precision::kFloat32);
  r.num_envs = num_envs;
  r.chunk = chunk;
  r.mode = mode;
  r.free_bytes = free_bytes;
  r.allow_batches = allow_batches;
  return r;
}
}  // namespace

TEST_CASE("planner: bytes per env for CartPole float32", "[planner][cpu]") {
  const MemoryRequest stats = cartpole(1000, 10 * kGB);
  // state 4 x 4 + elapsed 4 + return 4 = 24, + reset flag 1 + statistics partials 1
  CHECK(stats.env.env_bytes == 24);
  const MemoryPlan ps = plan_memory(stats);
  CHECK(ps.per_env_bytes == 26);
  CHECK(ps.fixed_bytes == kFixed);
  CHECK(ps.needed_bytes == kFixed + 26 * 1000);
  CHECK(ps.usable_bytes == 9 * kGB);

  // trajectory: (obs 16 + reward 4 + flags 2 + action 4) x chunk 32 x 2 buffers = 1664 more
  const MemoryPlan pt = plan_memory(cartpole(1000, 10 * kGB, OutputMode::kTrajectory, 32));
  CHECK(pt.per_env_bytes == 26 + 1664);
  MemoryRequest single = cartpole(1000, 10 * kGB, OutputMode::kTrajectory, 32);
  single.trajectory_buffers = 1;
  CHECK(plan_memory(single).per_env_bytes == 26 + 832);
  // chunk 1 and a chunk below 1 both count one step
  CHECK(plan_memory(cartpole(1000, 10 * kGB, OutputMode::kTrajectory, 1)).per_env_bytes == 26 + 52);
  CHECK(plan_memory(cartpole(1000, 10 * kGB, OutputMode::kTrajectory, 0)).per_env_bytes == 26 + 52);

  const MemoryRequest f64 = [] {
    MemoryRequest r = cartpole(1000, 10 * kGB);
    r.env = describe_env("CartPole-v1", Precision::kFloat64);
    return r;
  }();
  CHECK(plan_memory(f64).per_env_bytes == 4 * 8 + 4 + 8 + 2);
}

TEST_CASE("planner: one batch when it fits, equal batches when it does not", "[planner][cpu]") {
  // 1e6 envs x 26 B = 26 MB: one batch with any reasonable free memory
  const MemoryPlan one = plan_memory(cartpole(1000000, 1 * kGB));
  CHECK(one.fits());
  CHECK(one.num_batches == 1);
  CHECK(one.batch_envs == 1000000);
  CHECK(one.batch_bytes() == one.needed_bytes);

  // usable = 0.9 x 100 MB = 90 MB; (90e6 - 1 MiB) / 26 = 3421208 envs per batch at most
  const MemoryPlan split = plan_memory(cartpole(10000000, 100000000));
  CHECK(split.fits());
  CHECK(split.num_batches == 3);
  CHECK(split.batch_envs == 3333334);
  CHECK(split.batch_bytes() <= split.usable_bytes);
  CHECK(split.batch_envs * split.num_batches >= 10000000);

  // exactly at the edge: the batch that fits is taken, one env more needs a second batch
  const uint64_t free_exact = static_cast<uint64_t>((kFixed + 26 * 1000) / 0.9) + 2;
  CHECK(plan_memory(cartpole(1000, free_exact)).num_batches == 1);
  CHECK(plan_memory(cartpole(1001, free_exact)).num_batches == 2);

  // the CPU does not split
  const MemoryPlan cpu = plan_memory(cartpole(10000000, 100000000, OutputMode::kStatistics, 32, false));
  CHECK_FALSE(cpu.fits());
}

TEST_CASE("planner: refusal names bytes needed and usable", "[planner][cpu]") {
  // 64 batches of at most (9e6 - 1 MiB) / 26 = 305826 envs cover 19.6e6 envs; 1e8 does not fit
  const MemoryRequest r = cartpole(100000000, 10000000);
  const MemoryPlan p = plan_memory(r);
  CHECK_FALSE(p.fits());
  CHECK(p.num_batches == 0);
  CHECK(p.needed_bytes == kFixed + 26ull * 100000000);
  const std::string msg = describe_shortfall(r, p);
  CHECK(msg ==
        "needs 2.60 GB (2601048576 bytes: 26 bytes x 100000000 envs + 1048576) but 9.00 MB are usable "
        "(10000000 bytes free, 90%); even split into 64 batches it does not fit");

  // less free memory than the fixed part: refused, not divided by zero
  CHECK_FALSE(plan_memory(cartpole(10, 1000)).fits());
  // no envs: nothing to run
  CHECK_FALSE(plan_memory(cartpole(0, 10 * kGB)).fits());
}

// The numbers quoted in the CUDA issue's closing note: CartPole float32 on an 80 GB card
// (80e9 bytes free, 90% usable = 72e9), chunk 32.
TEST_CASE("planner: CartPole at 1e8 and 1e9 envs on an 80 GB card", "[planner][cpu][cartpole]") {
  const uint64_t free = 80 * kGB;
  SECTION("statistics mode: one launch") {
    const MemoryPlan a = plan_memory(cartpole(100000000, free));
    CHECK(a.num_batches == 1);
    CHECK(a.needed_bytes == 2601048576ull);  // 2.60 GB
    const MemoryPlan b = plan_memory(cartpole(1000000000, free));
    CHECK(b.num_batches == 1);
    CHECK(b.needed_bytes == 26001048576ull);  // 26.0 GB
  }
  SECTION("trajectory mode, chunk 32, double-buffered: split into batches") {
    // 1690 bytes per env; at most (72e9 - 1 MiB) / 1690 = 42603931 envs per batch
    const MemoryPlan a = plan_memory(cartpole(100000000, free, OutputMode::kTrajectory, 32));
    CHECK(a.per_env_bytes == 1690);
    CHECK(a.needed_bytes == 169001048576ull);  // 169 GB
    CHECK(a.num_batches == 3);
    CHECK(a.batch_envs == 33333334);
    CHECK(a.batch_bytes() == 56334383036ull);  // 56.3 GB per batch
    const MemoryPlan b = plan_memory(cartpole(1000000000, free, OutputMode::kTrajectory, 32));
    CHECK(b.needed_bytes == 1690001048576ull);  // 1.69 TB
    CHECK(b.num_batches == 24);
    CHECK(b.batch_envs == 41666667);
    CHECK(b.batch_bytes() == 70417715806ull);  // 70.4 GB per batch
    // without splitting (CPU-style request) both are refused
    CHECK_FALSE(plan_memory(cartpole(100000000, free, OutputMode::kTrajectory, 32, false)).fits());
  }
}

TEST_CASE("planner: the step API counts the engine and the Python side", "[planner][cpu]") {
  MemoryRequest r = cartpole(1000, 10 * kGB, OutputMode::kStepApi);
  // engine 24 + 1; buffers obs 16 + reward 4 + flags 2 + action 4; spaces: obs low/high 32 + masks 8,
  // MultiDiscrete 16; sampled actions 8; copies of obs/reward/flags for two steps 2 x 22
  CHECK(plan_memory(r).per_env_bytes == 25 + 26 + 56 + 8 + 44);
  CHECK(plan_memory(r).fixed_bytes == 32u << 20);
  r.step_copies = false;
  CHECK(plan_memory(r).per_env_bytes == 159 - 44);
  r.autoreset = AutoresetMode::kSameStep;  // final observations 16 + 1, object array and masks 2 x 11
  CHECK(plan_memory(r).per_env_bytes == 115 + 17 + 22);
  // a C++ caller (throughput --step-api, memory-profile): the engine and the buffers it passes
  r = cartpole(1000, 10 * kGB, OutputMode::kStepApi);
  r.python_arrays = false;
  CHECK(plan_memory(r).per_env_bytes == 25 + 26);
  CHECK(plan_memory(r).fixed_bytes == 1u << 20);
  r = cartpole(1000, 10 * kGB, OutputMode::kStepApi);
  // 10 int8 info fields: 80 bytes as the engine's float64 values, twice (the buffer and a gather),
  // and 10 as the returned int8 arrays of two steps
  r.env = describe_env("TicTacToe-v0", Precision::kFloat32);
  CHECK(plan_memory(r).per_env_bytes == 20 + (9 + 4 + 2 + 4 + 80) + (18 + 18 + 16) + 8 + 2 * 15 + 80 + 2 * 10);
  r.autoreset = AutoresetMode::kSameStep;  // final obs 9 + 1, final info 80, final_obs and masks 22, final_info 20
  CHECK(plan_memory(r).per_env_bytes == 309 + 10 + 80 + 22 + 20);
  // the plan that make_vec now checks refuses what the statistics plan would approve
  const MemoryPlan step = plan_memory(cartpole(100000000, 8 * kGB, OutputMode::kStepApi, 32, false));
  CHECK(plan_memory(cartpole(100000000, 8 * kGB, OutputMode::kStatistics, 32, false)).fits());
  CHECK_FALSE(step.fits());
  CHECK(step.needed_bytes == 159ull * 100000000 + (32u << 20));
}

TEST_CASE("planner: env counts near 2^63 refuse instead of overflowing", "[planner][cpu]") {
  for (const int64_t n : {int64_t{1} << 62, INT64_MAX}) {
    const MemoryPlan p = plan_memory(cartpole(n, 80 * kGB));
    CHECK_FALSE(p.fits());
    CHECK(p.num_batches == 0);
    CHECK(p.batch_envs == 0);
    CHECK(p.needed_bytes == UINT64_MAX);  // saturated, not wrapped
  }
  // with memory to spare, the 32-bit env index still refuses them, saying so
  const MemoryRequest big = cartpole(int64_t{1} << 32, UINT64_MAX);
  CHECK_FALSE(plan_memory(big).fits());
  CHECK(describe_shortfall(big, plan_memory(big)).rfind("num_envs must be below 2^32", 0) == 0);
  CHECK(plan_memory(cartpole((int64_t{1} << 32) - 1, UINT64_MAX)).fits());
}

namespace {
// A fake root with /proc and cgroup files, for host_free_bytes.
struct FakeRoot {
  std::filesystem::path dir = simkit::testing::temp_path("planner_root");
  FakeRoot() {
    std::filesystem::remove_all(dir);
    write("proc/meminfo", "MemTotal:       32000000 kB\nMemAvailable:   20000000 kB\n");
  }
  ~FakeRoot() { std::filesystem::remove_all(dir); }
  void write(const std::string& path, const std::string& text) const {
    std::filesystem::create_directories((dir / path).parent_path());
    std::ofstream(dir / path) << text;
  }
  uint64_t free(uint64_t as_limit = UINT64_MAX, uint64_t as_used = 0) const {
    return detail::host_free_bytes(dir.string(), as_limit, as_used);
  }
};
}  // namespace

TEST_CASE("planner: host free bytes respect RLIMIT_AS and cgroup limits", "[planner][cpu]") {
  const uint64_t available = 20000000ull * 1024;
  SECTION("MemAvailable alone") {
    FakeRoot root;
    CHECK(root.free() == available);
  }
  SECTION("the address-space limit leaves less") {
    FakeRoot root;
    CHECK(root.free(5 * kGB, 1 * kGB) == 4 * kGB);
    CHECK(root.free(1 * kGB, 2 * kGB) == 0);
  }
  SECTION("cgroup v2: the least any level leaves, file cache counted as free") {
    FakeRoot root;
    root.write("proc/self/mountinfo", "30 1 0:26 / /sys/fs/cgroup rw,nosuid shared:4 - cgroup2 cgroup2 rw\n");
    root.write("proc/self/cgroup", "0::/user.slice/job\n");
    root.write("sys/fs/cgroup/user.slice/job/memory.max", "3000000000\n");
    root.write("sys/fs/cgroup/user.slice/job/memory.current", "1200000000\n");
    root.write("sys/fs/cgroup/user.slice/job/memory.stat", "anon 1000000000\ninactive_file 200000000\n");
    root.write("sys/fs/cgroup/user.slice/memory.max", "max\n");
    CHECK(root.free() == 2 * kGB);  // 3 GB - (1.2 GB - 0.2 GB of cache)
    root.write("sys/fs/cgroup/user.slice/memory.max", "1500000000\n");
    root.write("sys/fs/cgroup/user.slice/memory.current", "1000000000\n");
    CHECK(root.free() == 500000000);  // the parent's limit is the tighter one
  }
  SECTION("cgroup v1 memory controller, unlimited and limited") {
    FakeRoot root;
    root.write("proc/self/mountinfo",
               "25 1 0:22 / /sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory\n"
               "26 1 0:23 / /sys/fs/cgroup/cpu rw,nosuid - cgroup cgroup rw,cpu\n");
    root.write("proc/self/cgroup", "5:cpu:/\n4:memory:/docker/abc\n0::/\n");
    root.write("sys/fs/cgroup/memory/docker/abc/memory.limit_in_bytes", "9223372036854771712\n");
    CHECK(root.free() == available);
    root.write("sys/fs/cgroup/memory/docker/abc/memory.limit_in_bytes", "2000000000\n");
    root.write("sys/fs/cgroup/memory/docker/abc/memory.usage_in_bytes", "1500000000\n");
    root.write("sys/fs/cgroup/memory/docker/abc/memory.stat", "inactive_file 1\ntotal_inactive_file 500000000\n");
    CHECK(root.free() == 1 * kGB);
  }
  SECTION("a container's own cgroup mounted at the mount point") {
    FakeRoot root;
    root.write("proc/self/mountinfo", "25 1 0:22 /docker/abc /sys/fs/cgroup/memory ro - cgroup cgroup rw,memory\n");
    root.write("proc/self/cgroup", "4:memory:/docker/abc\n");
    root.write("sys/fs/cgroup/memory/memory.limit_in_bytes", "1000000000\n");
    root.write("sys/fs/cgroup/memory/memory.usage_in_bytes", "250000000\n");
    CHECK(root.free() == 750000000);
  }
}

TEST_CASE("planner: CUDA counts device and pinned host memory", "[planner][cpu]") {
  MemoryRequest r = cartpole(10000000, 80 * kGB, OutputMode::kTrajectory, 32);
  r.device = Device::kCuda;
  r.host_free_bytes = 100 * kGB;
  // two chunk buffers of (obs 16 + reward 4 + flags 2 + action 4) x 32 steps on the device, and their
  // pinned twins on the host
  const MemoryPlan p = plan_memory(r);
  CHECK(p.per_env_bytes == 26 + 1664);
  CHECK(p.host_per_env_bytes == 1664);
  CHECK(p.host_needed_bytes == 1664ull * 10000000);
  CHECK(p.fits());
  // 16.6 GB of pinned memory do not fit in 10 GB of host RAM: refused, and the message says so
  r.host_free_bytes = 10 * kGB;
  r.allow_batches = false;
  const MemoryPlan refused = plan_memory(r);
  CHECK_FALSE(refused.fits());
  CHECK(describe_shortfall(r, refused) ==
        "pinned host memory: needs 16.64 GB (16640000000 bytes: 1664 bytes x 10000000 envs + 0) but 9.00 GB are "
        "usable (10000000000 bytes free, 90%)");
  // with batches allowed the host memory sets the batch size
  r.allow_batches = true;
  const MemoryPlan split = plan_memory(r);
  CHECK(split.num_batches == 2);
  CHECK(split.host_batch_bytes() <= split.host_usable_bytes);
  // statistics need no pinned memory: no host RAM is no reason to refuse
  MemoryRequest stats = cartpole(10000000, 80 * kGB);
  stats.device = Device::kCuda;
  stats.host_free_bytes = 0;
  CHECK(plan_memory(stats).fits());
  CHECK(plan_memory(stats).host_needed_bytes == 0);
}

TEST_CASE("planner: growing trajectory buffers counts the old ones too", "[planner][cpu]") {
  MemoryRequest r = cartpole(1000, 10 * kGB, OutputMode::kTrajectory, 64);
  r.device = Device::kCuda;
  r.host_free_bytes = 10 * kGB;
  r.held_chunk = 32;  // the new pair is allocated before the old pair is freed
  const MemoryPlan p = plan_memory(r);
  CHECK(p.per_env_bytes == 26 + 52 * (64 + 32));
  CHECK(p.host_per_env_bytes == 52 * (64 + 32));
  MemoryRequest cpu = cartpole(1000, 10 * kGB, OutputMode::kTrajectory, 64);
  cpu.trajectory_buffers = 1;
  cpu.held_chunk = 32;
  CHECK(plan_memory(cpu).per_env_bytes == 26 + 26 * (64 + 32));
  CHECK(plan_memory(cpu).host_per_env_bytes == 0);  // the CPU's buffers are its host memory
}

TEST_CASE("planner: the CUDA step API counts its device buffers and pinned staging", "[planner][cpu]") {
  MemoryRequest r = cartpole(1000, 10 * kGB, OutputMode::kStepApi);
  r.device = Device::kCuda;
  r.host_free_bytes = 10 * kGB;
  // device: engine 26 + actions 4 + obs 16 + reward 4 + flags 2 + env seed 8 + reset mask 1
  CHECK(plan_memory(r).per_env_bytes == 26 + 35);
  CHECK(plan_memory(r).fixed_bytes == kFixed);
  // host: vector.py's arrays as on the CPU (159 less the engine's 25) + staging 4 + 16 + 4 + 2 + 8
  CHECK(plan_memory(r).host_per_env_bytes == 159 - 25 + 34);
  CHECK(plan_memory(r).host_fixed_bytes == 32u << 20);
  r.autoreset = AutoresetMode::kSameStep;  // final observations and their flag, on both sides
  CHECK(plan_memory(r).per_env_bytes == 26 + 35 + 17);
  CHECK(plan_memory(r).host_per_env_bytes == (159 + 17 + 22) - 25 + 34 + 17);
  r.host_free_bytes = 0;
  CHECK_FALSE(plan_memory(r).fits());
  CHECK_THAT(describe_shortfall(r, plan_memory(r)), Catch::StartsWith("pinned host memory: needs"));
}

TEST_CASE("planner: multi-agent trajectories and CUDA observation grids", "[planner][cpu][foraging]") {
  MemoryRequest r;
  r.env = describe_env("Foraging-v0", Precision::kFloat32, {{"num_agents", 10}});
  REQUIRE(r.env.grid_bytes == 100 * 100);
  r.num_envs = 1000;
  r.chunk = 8;
  r.mode = OutputMode::kTrajectory;
  r.free_bytes = 100 * kGB;
  r.host_free_bytes = 100 * kGB;
  r.trajectory_buffers = 1;
  // per step and agent: obs 676 x 4 + reward 4 + flags 2 + action 4
  const uint64_t per_step = 10 * (2704 + 4 + 2 + 4);
  const uint64_t engine = r.env.env_bytes + 2;
  CHECK(plan_memory(r).per_env_bytes == engine + 8 * per_step);  // the CPU's grids are per thread: fixed
  r.device = Device::kCuda;
  r.trajectory_buffers = 2;
  CHECK(plan_memory(r).per_env_bytes == engine + 2 * 8 * per_step + 10000);  // + one grid per world
  CHECK(plan_memory(r).host_per_env_bytes == 2 * 8 * per_step);
  r.mode = OutputMode::kStepApi;
  r.env = describe_env("Foraging-v0", Precision::kFloat32, {{"num_agents", 10}});
  const uint64_t step_device = plan_memory(r).per_env_bytes;
  r.env.grid_bytes = 0;
  CHECK(step_device - plan_memory(r).per_env_bytes == 10000);
}
