// SPDX-License-Identifier: Apache-2.0
// The CPU backend: OpenMP threads over tiles of kTile envs in rollouts, a BlockPool in step-API
// calls (cpu/block_pool.hpp); inside a tile the kernels of the SIMD
// target chosen at run time (cpu/targets.hpp) step a vector of envs at a time, the tile's state
// staying in L1/L2 for a whole chunk. State lives in structure-of-arrays columns padded to whole
// tiles.
#pragma once

#include <omp.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "cpu/block_pool.hpp"
#include "cpu/targets.hpp"
#include "simkit/allocation.hpp"
#include "simkit/planner.hpp"
#include "simkit/shard.hpp"
#include "simkit/simulator_base.hpp"
#include "simkit/state_io.hpp"

namespace simkit::cpu {

int resolve_threads(int requested);
std::string cpu_device_name(int threads);

// Step-API calls and resets of fewer than twice this many envs run on the calling thread alone:
// waking a helper thread costs about as much as stepping this many envs.
constexpr int64_t kStepEnvsPerThread = 32768;
// The envs a thread claims at a time in a step-API call (whole tiles).
constexpr int64_t kStepBlockEnvs = 8 * kTile;

static_assert(kShardAlign % kTile == 0, "process slices start on whole tiles (shard.hpp)");

// 64-byte aligned, zero-filled bytes.
class AlignedBytes {
 public:
  explicit AlignedBytes(size_t bytes) : data_(allocate(bytes)) {
    std::memset(data_.get(), 0, round_up(bytes));
  }
  unsigned char* get() const { return data_.get(); }

 private:
  static size_t round_up(size_t bytes) { return (std::max<size_t>(bytes, 1) + 63) / 64 * 64; }
  static unsigned char* allocate(size_t bytes) {
    check_allocation();
    auto* p = static_cast<unsigned char*>(std::aligned_alloc(64, round_up(bytes)));
    if (!p) throw std::bad_alloc();
    return p;
  }
  struct Free {
    void operator()(unsigned char* p) const { std::free(p); }
  };
  std::unique_ptr<unsigned char, Free> data_;
};

// One chunk of trajectory outputs for `capacity` = steps x envs entries of `agents` rows each,
// step-major.
template <class Env>
struct TrajectoryStorage {
  TrajectoryStorage(size_t cap, size_t agents)
      : obs(cap * agents * Env::kObsDim * sizeof(typename Env::Obs)),
        reward(cap * agents * sizeof(typename Env::Real)),
        terminated(cap * agents),
        truncated(cap * agents),
        actions(cap * agents * sizeof(ActionScalar<Env>)),
        capacity(cap) {}
  AlignedBytes obs, reward, terminated, truncated, actions;
  size_t capacity;
};

template <class Env>
class CpuSimulator final : public SimulatorBase<Env> {
  using Base = SimulatorBase<Env>;
  using Base::config_;
  using Base::engine_;
  using Base::params_;
  using Base::t_;
  using Base::num_envs;

 public:
  using Real = typename Env::Real;
  using Obs = typename Env::Obs;
  using Action = ActionScalar<Env>;

  explicit CpuSimulator(const SimConfig& c)
      : Base(c),
        kernels_(&kernels_for<Env>(selected_target())),
        threads_(resolve_threads(c.threads)),
        agents_(agent_count<Env>(params_)),
        capacity_(static_cast<size_t>((c.num_envs + kTile - 1) / kTile) * kTile),
        state_bytes_(StateColumns<Env>::bytes_per_env(agents_) * capacity_),
        storage_bytes_(state_bytes_ + capacity_ * (sizeof(uint32_t) + sizeof(Real) + sizeof(uint8_t))),
        storage_(storage_bytes_) {
    if (capacity_ >= (size_t{1} << 32)) {
      throw ConfigError("num_envs must be below 2^32 - " + std::to_string(kTile) + " per process (got " +
                        std::to_string(c.num_envs) + ")");
    }
    // Every lane, the padding too, starts from a reset: padding lanes are stepped like real ones.
    run_reset_range(0, static_cast<int64_t>(capacity_), nullptr, false, StepBuffersView<Env>{});
  }

  std::string device_name() const override { return cpu_device_name(threads_); }
  std::string simd_target() const override { return kernels_->target; }

  void get_state(double* out) const override { states_to_doubles<Env>(view().state, num_envs(), out); }
  void set_state(const double* in) override { doubles_to_states<Env>(in, num_envs(), view().state); }
  void get_elapsed(uint32_t* out) const override { std::copy(view().elapsed, view().elapsed + num_envs(), out); }
  void write_elapsed(const uint32_t* in) override { std::copy(in, in + num_envs(), view().elapsed); }

 protected:
  // Trajectory buffers are kept between rollouts and grown by building a whole new set that
  // replaces the old one only once every allocation succeeded.
  void reserve_rollout(uint64_t steps, int chunk, bool trajectory) override {
    if (!trajectory || steps == 0) return;
    const uint64_t chunk_steps = std::min(static_cast<uint64_t>(chunk), steps);
    const size_t cap = static_cast<size_t>(chunk_steps) * static_cast<size_t>(num_envs());
    const size_t held = traj_ ? traj_->capacity : 0;
    if (cap <= held) return;
    MemoryRequest req;
    req.env = this->info_;
    req.num_envs = num_envs();
    req.chunk = static_cast<int>(chunk_steps);
    req.held_chunk = static_cast<int>(held / static_cast<size_t>(num_envs()));
    req.mode = OutputMode::kTrajectory;
    req.trajectory_buffers = 1;
    // The plan counts this simulator's engine and held buffers again: add back what it holds.
    req.free_bytes = host_free_bytes() + storage_bytes_ + held * trajectory_step_bytes(this->info_);
    const MemoryPlan plan = plan_memory(req);
    if (!plan.fits()) {
      throw ConfigError("trajectory mode, chunk " + std::to_string(chunk_steps) + ", num_envs " +
                        std::to_string(num_envs()) + ": " + describe_shortfall(req, plan));
    }
    traj_ = std::make_unique<TrajectoryStorage<Env>>(cap, static_cast<size_t>(agents_));
  }

  RolloutStats run_rollout(uint64_t steps, int chunk, const TrajectoryCallback* on_chunk) override {
    const int64_t n = num_envs();
    const int64_t tiles = (n + kTile - 1) / kTile;
    std::vector<EpisodeStats> tile_stats(static_cast<size_t>(tiles));
    const BatchView<Env> v = view();
    const uint64_t chunk_steps = static_cast<uint64_t>(chunk);
    Obs* obs = nullptr;
    Real* reward = nullptr;
    uint8_t *terminated = nullptr, *truncated = nullptr;
    Action* actions = nullptr;
    if (on_chunk && steps > 0) {  // reserve_rollout made them
      obs = reinterpret_cast<Obs*>(traj_->obs.get());
      reward = reinterpret_cast<Real*>(traj_->reward.get());
      terminated = traj_->terminated.get();
      truncated = traj_->truncated.get();
      actions = reinterpret_cast<Action*>(traj_->actions.get());
    }
    TrajectoryOut<Env> traj{obs, reward, terminated, truncated, actions, n};
    const int threads = static_cast<int>(std::min<int64_t>(threads_, tiles));
    const auto tile_kernel = on_chunk ? kernels_->trajectory_tile : kernels_->rollout_tile;
    for (uint64_t done = 0; done < steps; done += chunk_steps) {
      const uint64_t k = std::min(chunk_steps, steps - done);
      const uint64_t t0 = t_ + done;
#pragma omp parallel for num_threads(threads) schedule(static)
      for (int64_t tile = 0; tile < tiles; ++tile) {
        const int64_t begin = tile * kTile;
        tile_kernel(params_, engine_, v, begin, static_cast<int>(std::min<int64_t>(kTile, n - begin)), t0, k,
                               tile_stats[static_cast<size_t>(tile)], on_chunk ? &traj : nullptr);
      }
      if (on_chunk) {
        TrajectoryChunk c;
        c.t0 = t0;
        c.steps = static_cast<int>(k);
        c.num_envs = n;
        c.num_agents = agents_;
        c.obs = obs;
        c.reward = reward;
        c.terminated = terminated;
        c.truncated = truncated;
        c.actions = actions;
        (*on_chunk)(c);
      }
    }
    RolloutStats out;
    out.steps = steps * static_cast<uint64_t>(n);
    for (const EpisodeStats& s : tile_stats) out.add_tile(s);
    return out;
  }

  void run_reset(const uint8_t* mask, void* obs, double* info) override {
    StepBuffersView<Env> out{};
    out.obs = static_cast<Obs*>(obs);
    out.info = this->n_info() > 0 ? info : nullptr;
    out.n_info = this->n_info();
    run_reset_range(0, num_envs(), mask, false, out);
  }

  void run_pending_resets() override { run_reset_range(0, num_envs(), nullptr, true, StepBuffersView<Env>{}); }

  void run_step(const Action* actions, const StepBuffers& b) override {
    StepBuffersView<Env> out = this->step_view(b);
    if (kHasInfo<Env> && !out.info) {  // envs write their info fields on every step
      info_scratch_.resize(static_cast<size_t>(num_envs()) * static_cast<size_t>(out.n_info));
      out.info = info_scratch_.data();
    }
    out.num_envs = num_envs();
    const auto step = kernels_->step_block[static_cast<int>(config_.autoreset)];
    prepare_grids();
    parallel_blocks(num_envs(), [&](int worker, int64_t begin, int64_t end) {
      StepBuffersView<Env> mine = out;
      mine.grid = worker_grid(worker);
      step(params_, engine_, view(), begin, end, num_envs(), t_, actions, mine);
    });
  }

  const uint64_t* store_env_seeds(const std::vector<uint64_t>& seeds) override {
    env_seeds_.assign(capacity_, 0);  // padding lanes read a seed too
    std::copy(seeds.begin(), seeds.end(), env_seeds_.begin());
    return env_seeds_.data();
  }

 private:
  // Multi-agent observations: one zeroed grid (Env::kGridCells cells x lanes) per worker thread,
  // kept between calls (the env leaves it zero).
  void prepare_grids() {
    if constexpr (kMultiAgent<Env>) {
      if (!grids_.empty()) return;
      grids_.assign(static_cast<size_t>(threads_),
                    std::vector<int8_t>(static_cast<size_t>(Env::kGridCells) * static_cast<size_t>(kernels_->width)));
    }
  }
  int8_t* worker_grid(int worker) {
    if constexpr (kMultiAgent<Env>) {
      return grids_[static_cast<size_t>(worker)].data();
    } else {
      return nullptr;
    }
  }

  BatchView<Env> view() const {
    unsigned char* p = storage_.get();
    BatchView<Env> v;
    v.state = StateColumns<Env>{p, capacity_, agents_};
    v.elapsed = reinterpret_cast<uint32_t*>(p + state_bytes_);
    v.episode_return = reinterpret_cast<Real*>(p + state_bytes_ + capacity_ * sizeof(uint32_t));
    v.needs_reset = p + state_bytes_ + capacity_ * (sizeof(uint32_t) + sizeof(Real));
    return v;
  }

  void run_reset_range(int64_t begin, int64_t end, const uint8_t* mask, bool only_pending,
                       const StepBuffersView<Env>& out) {
    if (out.obs) prepare_grids();
    parallel_blocks(end - begin, [&](int worker, int64_t b, int64_t e) {
      StepBuffersView<Env> mine = out;
      mine.grid = out.obs ? worker_grid(worker) : nullptr;
      mine.num_envs = end;
      kernels_->reset_block(params_, engine_, view(), begin + b, begin + e, end, t_, mask, only_pending, mine);
    });
  }

  // f(worker, begin, end) over [0, n) in blocks of whole tiles, on as many threads as the work is
  // worth; worker (0 .. threads - 1) tells which thread's scratch to use.
  template <class F>
  void parallel_blocks(int64_t n, F&& f) const {
    if (threads_ == 1 || n < 2 * kStepEnvsPerThread) {
      f(0, 0, n);
      return;
    }
    if (!pool_) pool_ = std::make_unique<BlockPool>(threads_ - 1);
    pool_->run(n, kStepBlockEnvs, f);
  }

  const KernelTable<Env>* kernels_;
  int threads_;
  int agents_;          // per env
  size_t capacity_;     // envs per column: num_envs rounded up to whole tiles
  size_t state_bytes_;  // all state columns
  size_t storage_bytes_;
  AlignedBytes storage_;  // state columns, elapsed, episode return, needs_reset
  std::unique_ptr<TrajectoryStorage<Env>> traj_;  // one chunk's outputs, kept between rollouts
  std::vector<uint64_t> env_seeds_;
  std::vector<double> info_scratch_;  // info values when the caller asks for none
  mutable std::unique_ptr<BlockPool> pool_;  // started by the first step-API call worth two threads
  std::vector<std::vector<int8_t>> grids_;  // multi-agent observation grids, one per thread
};

}  // namespace simkit::cpu
