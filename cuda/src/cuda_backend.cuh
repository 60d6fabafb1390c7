// SPDX-License-Identifier: Apache-2.0
// The CUDA backend: one thread per env, the env's state in registers for a whole chunk, the same
// engine functions (rollout_step, reset_one, api_step_transition/finish from rollout.hpp, on scalar
// lanes) as the CPU backend's vectors, so both produce the same episodes for the same seed. The
// control logic (clock, seeding, pending resets, checks) is SimulatorBase's, shared with the CPU.
//
// Stream discipline: every kernel, copy and CUB call of a simulator runs on its stream_; trajectory
// chunks are copied to pinned host memory on copy_stream_ while the next chunk runs. The host waits
// only at the end of a rollout, of a trajectory chunk (before its callback) and of a step-API call.
#pragma once

#include <cub/block/block_reduce.cuh>
#include <cub/device/device_reduce.cuh>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "simkit/cuda/check.cuh"
#include "simkit/cuda/memory.cuh"
#include "simkit/devices.hpp"
#include "simkit/planner.hpp"
#include "simkit/simulator_base.hpp"
#include "simkit/state_io.hpp"

namespace simkit::cuda {

constexpr int kBlock = 256;  // threads (envs) per block

struct AddStats {
  __host__ __device__ EpisodeStats operator()(const EpisodeStats& a, const EpisodeStats& b) const {
    EpisodeStats r = a;
    r.add(b);
    return r;
  }
};

// Where trajectory mode writes one chunk, step-major: [k][i] at k * n + i (obs: x kObsDim).
template <class Env>
struct TrajectoryView {
  typename Env::Obs* obs;
  typename Env::Real* reward;
  uint8_t* terminated;
  uint8_t* truncated;
  ActionScalar<Env>* actions;
};

// Records one env's step of a trajectory (the same entries as the CPU's TrajectoryRecord).
template <class Env>
struct DeviceRecord {
  const typename Env::Params& p;
  const TrajectoryView<Env>& out;
  size_t slot;
  template <class S, class A>
  __device__ void before(const S& s, const A& a) {
    put_obs<Env>(p, s, out.obs, ContiguousRows{slot});
    out.actions[slot] = a;
  }
  template <class O>
  __device__ void after(const O& o) {
    out.reward[slot] = o.reward;
    out.terminated[slot] = o.terminated;
    out.truncated[slot] = o.truncated;
  }
};

// Adds this block's episode statistics to block_stats[blockIdx.x] (one writer per entry: no atomics,
// and the block's tree order is fixed, so the sums are deterministic).
__device__ __forceinline__ void accumulate_block_stats(const EpisodeStats& mine, EpisodeStats* block_stats) {
  using BlockReduce = cub::BlockReduce<EpisodeStats, kBlock>;
  __shared__ typename BlockReduce::TempStorage temp;
  const EpisodeStats block = BlockReduce(temp).Reduce(mine, AddStats{});
  if (threadIdx.x == 0) {
    EpisodeStats acc = block_stats[blockIdx.x];
    acc.add(block);
    block_stats[blockIdx.x] = acc;
  }
}

// `steps` batch steps of the random policy from batch step t0 for envs [0, n) of this simulator,
// one thread per env: rollout_step (rollout.hpp) with the env's state in registers for the whole
// chunk, as the CPU tile loop runs it on vectors. The policy's Philox words are refilled where the
// CPU refills them (first step of the chunk and every kStepsPerBlock-th batch step); an ended
// episode is counted and restarts before the next step with reset index t + 1.
template <class Env, bool kTrajectory>
__global__ void __launch_bounds__(kBlock)
    rollout_kernel(const typename Env::Params p, const EngineParams e, const BatchView<Env> v, const int64_t n,
                   const uint64_t t0, const int steps, EpisodeStats* __restrict__ block_stats,
                   const TrajectoryView<Env> traj) {
  using Policy = RandomPolicy<Env>;
  using Real = typename Env::Real;
  const int64_t i = static_cast<int64_t>(blockIdx.x) * kBlock + threadIdx.x;
  EpisodeStats stats{};
  if (i < n) {
    const size_t row = static_cast<size_t>(i);
    const uint32_t env = e.seeds.first_env + static_cast<uint32_t>(i);
    typename Env::State s = v.state.template load<Real>(row);
    uint32_t elapsed = v.elapsed[row];
    Real ret = v.episode_return[row];
    const SeedKey<uint32_t> key = seed_key(e.seeds, env);
    Words4<uint32_t> words{};
    for (int k = 0; k < steps; ++k) {
      const uint64_t t = t0 + static_cast<uint64_t>(k);
      // Multi-agent envs draw their agents' actions inside the step (AgentPolicy).
      if (!kMultiAgent<Env> && (k == 0 || t % Policy::kStepsPerBlock == 0)) words = Policy::draw(key, env, t);
      const uint32_t word = simkit::detail::pick_word(words, Policy::word_index(t));
      bool done;
      if constexpr (kTrajectory) {
        DeviceRecord<Env> record{p, traj, static_cast<size_t>(k) * static_cast<size_t>(n) + row};
        done = rollout_step<Env>(p, e, env, t, word, s, elapsed, ret, record);
      } else {
        NoRecord record;
        done = rollout_step<Env>(p, e, env, t, word, s, elapsed, ret, record);
      }
      if (done) {
        stats.count(elapsed, ret);
        if constexpr (kMultiAgent<Env>) stats.alive_sum += static_cast<uint64_t>(Env::agents_alive(p, s));
        reset_one<Env>(p, e, env, t + 1, s, elapsed, ret);
      }
    }
    v.state.store(row, s);
    v.elapsed[row] = elapsed;
    v.episode_return[row] = ret;
  }
  accumulate_block_stats(stats, block_stats);
}

// Resets at batch step t: the envs with a pending reset (only_pending), else the envs where mask is
// null or nonzero; then, where out has them, every env's observation and info.
template <class Env>
__global__ void __launch_bounds__(kBlock)
    reset_kernel(const typename Env::Params p, const EngineParams e, const BatchView<Env> v, const int64_t n,
                 const uint64_t t, const bool only_pending, const uint8_t* __restrict__ mask,
                 const StepBuffersView<Env> out) {
  using Real = typename Env::Real;
  const int64_t i = static_cast<int64_t>(blockIdx.x) * kBlock + threadIdx.x;
  if (i >= n) return;
  const size_t row = static_cast<size_t>(i);
  const bool go = only_pending ? v.needs_reset[row] != 0 : (mask == nullptr || mask[row] != 0);
  typename Env::State s = v.state.template load<Real>(row);
  if (go) {
    reset_one<Env>(p, e, e.seeds.first_env + static_cast<uint32_t>(i), t, s, v.elapsed[row], v.episode_return[row]);
    v.state.store(row, s);
    v.needs_reset[row] = 0;
  }
  if constexpr (kMultiAgent<Env>) {
    if (out.obs) put_agent_obs<Env>(p, s, out.obs, out.grid + row * Env::kGridCells, ContiguousRows{row}, 1u);
  } else {
    if (out.obs) put_obs<Env>(p, s, out.obs, ContiguousRows{row});
  }
  if constexpr (kHasInfo<Env>) {
    if (out.info) put_info<Env>(p, s, out.info, out.n_info, ContiguousRows{row});
  }
}

// One step-API call for every env, one thread each: api_step_transition, then api_step_finish
// where the env needs its reset (rollout.hpp; the CPU runs the same two on vectors).
template <class Env, AutoresetMode kMode>
__global__ void __launch_bounds__(kBlock)
    api_step_kernel(const typename Env::Params p, const EngineParams e, const BatchView<Env> v, const int64_t n,
                    const uint64_t t, const ActionScalar<Env>* __restrict__ actions, const StepBuffersView<Env> out) {
  using Real = typename Env::Real;
  const int64_t i = static_cast<int64_t>(blockIdx.x) * kBlock + threadIdx.x;
  if (i >= n) return;
  const size_t row = static_cast<size_t>(i);
  const uint32_t env = e.seeds.first_env + static_cast<uint32_t>(i);
  typename Env::State s = v.state.template load<Real>(row);
  uint32_t elapsed = v.elapsed[row];
  Real ret = v.episode_return[row];
  bool needs_reset = v.needs_reset[row] != 0;
  const ContiguousRows rows{row};
  if constexpr (kMultiAgent<Env>) {
    StepBuffersView<Env> mine = out;
    mine.grid = out.grid + row * Env::kGridCells;  // this thread's world
    const AgentActions<Real> agent_actions{actions, static_cast<int32_t>(row) * p.num_agents};
    if (api_step_transition_agents<Env, kMode>(p, e, env, t, s, elapsed, ret, needs_reset, agent_actions, mine, rows)) {
      api_step_finish_agents<Env, kMode>(p, e, env, t, s, elapsed, ret, mine, rows);
    }
  } else if (api_step_transition<Env, kMode>(p, e, env, t, s, elapsed, ret, needs_reset, actions[row], out, rows)) {
    api_step_finish<Env, kMode>(p, e, env, t, s, elapsed, ret, out, rows);
  }
  v.state.store(row, s);
  v.elapsed[row] = elapsed;
  v.episode_return[row] = ret;
  v.needs_reset[row] = needs_reset;
}

inline unsigned int grid_for(int64_t n) { return static_cast<unsigned int>((n + kBlock - 1) / kBlock); }

template <class T>
void copy_to_device(T* dst, const T* src, size_t count, const Stream& s) {
  if (count) SIMKIT_CUDA_CHECK(cudaMemcpyAsync(dst, src, count * sizeof(T), cudaMemcpyHostToDevice, s.get()));
}
template <class T>
void copy_to_host(T* dst, const T* src, size_t count, const Stream& s) {
  if (count) SIMKIT_CUDA_CHECK(cudaMemcpyAsync(dst, src, count * sizeof(T), cudaMemcpyDeviceToHost, s.get()));
}

std::string device_label();  // "NVIDIA H100 80GB HBM3 (CUDA device 0, sm_90)"
uint64_t device_free_bytes();  // cudaMemGetInfo, now

template <class Env>
class CudaSimulator final : public SimulatorBase<Env> {
  using Base = SimulatorBase<Env>;
  using Base::config_;
  using Base::engine_;
  using Base::info_;
  using Base::num_envs;
  using Base::params_;
  using Base::t_;

 public:
  using Real = typename Env::Real;
  using Obs = typename Env::Obs;
  using Action = ActionScalar<Env>;

  explicit CudaSimulator(const SimConfig& c) : Base(c) {
    // A simulator is one batch: splitting belongs to the caller (throughput), so refuse here,
    // before anything is allocated, when the envs do not fit in free device memory.
    MemoryRequest req;
    req.env = info_;
    req.num_envs = c.num_envs;
    req.mode = OutputMode::kStatistics;
    req.free_bytes = device_free_bytes();
    req.allow_batches = false;
    const MemoryPlan plan = plan_memory(req);
    if (!plan.fits()) {
      throw ConfigError("num_envs " + std::to_string(c.num_envs) + " on " + device_label() + ": " +
                        describe_shortfall(req, plan));
    }
    const size_t n = static_cast<size_t>(c.num_envs);
    state_ = DeviceBuffer<unsigned char>(StateColumns<Env>::bytes_per_env(agents_) * n);
    elapsed_ = DeviceBuffer<uint32_t>(n);
    episode_return_ = DeviceBuffer<Real>(n);
    needs_reset_ = DeviceBuffer<uint8_t>(n);
    SIMKIT_CUDA_CHECK(cudaMemsetAsync(needs_reset_.get(), 0, n, stream_.get()));
    block_stats_ = DeviceBuffer<EpisodeStats>(grid_for(c.num_envs));
    total_ = DeviceBuffer<EpisodeStats>(1);
    total_host_ = PinnedBuffer<EpisodeStats>(1);
    // CUB's two-phase query, once: the temp storage is reused by every rollout.
    SIMKIT_CUDA_CHECK(cub::DeviceReduce::Reduce(nullptr, reduce_temp_bytes_, block_stats_.get(), total_.get(),
                                                static_cast<int64_t>(block_stats_.size()), AddStats{}, EpisodeStats{},
                                                stream_.get()));
    reduce_temp_ = DeviceBuffer<unsigned char>(std::max<size_t>(reduce_temp_bytes_, 1));
    launch_reset(/*only_pending=*/false, nullptr, StepBuffersView<Env>{});  // every env, reset index 0
    stream_.synchronize();
  }

  std::string device_name() const override { return device_label(); }
  double last_rollout_seconds() const override { return last_seconds_; }

  DeviceOutputs device_outputs() const override {
    DeviceOutputs d;
    if (step_dev_.obs.get() == nullptr) return d;  // no step yet
    d.device_id = 0;  // simulators run on the current device, device 0 unless the caller chose another
    d.obs = step_dev_.obs.get();
    d.reward = step_dev_.reward.get();
    d.terminated = step_dev_.terminated.get();
    d.truncated = step_dev_.truncated.get();
    return d;
  }

  void get_state(double* out) const override {
    std::vector<unsigned char> host(state_.size());
    copy_to_host(host.data(), state_.get(), host.size(), stream_);
    stream_.synchronize();
    states_to_doubles<Env>(StateColumns<Env>{host.data(), static_cast<size_t>(num_envs()), agents_}, num_envs(), out);
  }
  void set_state(const double* in) override {
    std::vector<unsigned char> host(state_.size());
    doubles_to_states<Env>(in, num_envs(), StateColumns<Env>{host.data(), static_cast<size_t>(num_envs()), agents_});
    copy_to_device(state_.get(), host.data(), host.size(), stream_);
    stream_.synchronize();
  }
  void get_elapsed(uint32_t* out) const override {
    copy_to_host(out, elapsed_.get(), static_cast<size_t>(num_envs()), stream_);
    stream_.synchronize();
  }

 protected:
  void write_elapsed(const uint32_t* in) override {
    copy_to_device(elapsed_.get(), in, static_cast<size_t>(num_envs()), stream_);
    stream_.synchronize();
  }

  RolloutStats run_rollout(uint64_t steps, int chunk, const TrajectoryCallback* on_chunk) override {
    return run(steps, chunk, on_chunk);
  }

  const uint64_t* store_env_seeds(const std::vector<uint64_t>& seeds) override {
    ensure_step_buffers();
    if (env_seeds_.empty()) env_seeds_ = DeviceBuffer<uint64_t>(seeds.size());
    std::memcpy(staging_seeds_.get(), seeds.data(), seeds.size() * sizeof(uint64_t));
    copy_to_device(env_seeds_.get(), staging_seeds_.get(), seeds.size(), stream_);
    return env_seeds_.get();
  }

  void run_reset(const uint8_t* mask, void* obs, double* info) override {
    ensure_step_buffers();
    const int64_t n = num_envs();
    const uint8_t* dmask = nullptr;
    if (mask) {
      std::memcpy(staging_flags_.get(), mask, static_cast<size_t>(n));
      copy_to_device(step_dev_.mask.get(), staging_flags_.get(), static_cast<size_t>(n), stream_);
      dmask = step_dev_.mask.get();
    }
    const bool want_info = info != nullptr && this->n_info() > 0;
    StepBuffersView<Env> out{};
    out.obs = obs ? step_dev_.obs.get() : nullptr;
    out.info = want_info ? step_dev_.info.get() : nullptr;
    out.n_info = this->n_info();
    out.num_envs = n;
    out.grid = step_dev_.grid.get();
    launch_reset(false, dmask, out);
    if (obs) copy_to_host(staging_obs_.get(), step_dev_.obs.get(), obs_count(), stream_);
    if (want_info) copy_to_host(staging_info_.get(), step_dev_.info.get(), info_count(), stream_);
    stream_.synchronize();
    if (obs) std::memcpy(obs, staging_obs_.get(), obs_count() * sizeof(Obs));
    if (want_info) std::memcpy(info, staging_info_.get(), info_count() * sizeof(double));
  }

  void run_pending_resets() override { launch_reset(/*only_pending=*/true, nullptr, StepBuffersView<Env>{}); }

  void run_step(const Action* a, const StepBuffers& out) override {
    ensure_step_buffers();
    const size_t n = static_cast<size_t>(num_envs()) * static_cast<size_t>(agents_);  // rows
    const AutoresetMode mode = config_.autoreset;
    const bool same_step = mode == AutoresetMode::kSameStep;
    const bool want_info = out.info != nullptr && this->n_info() > 0;
    std::memcpy(staging_actions_.get(), a, n * sizeof(Action));
    copy_to_device(step_dev_.actions.get(), staging_actions_.get(), n, stream_);
    const StepBuffersView<Env> dout{step_dev_.obs.get(),
                                    step_dev_.reward.get(),
                                    step_dev_.terminated.get(),
                                    step_dev_.truncated.get(),
                                    same_step ? step_dev_.final_obs.get() : nullptr,
                                    same_step ? step_dev_.has_final.get() : nullptr,
                                    step_dev_.info.get(),  // always written by envs with info fields
                                    this->n_info(),
                                    same_step ? step_dev_.final_info.get() : nullptr,
                                    num_envs(),
                                    step_dev_.grid.get()};
    with_autoreset_mode(mode, [&](auto mode_tag) {
      api_step_kernel<Env, decltype(mode_tag)::value><<<grid_for(num_envs()), kBlock, 0, stream_.get()>>>(
          params_, engine_, batch_view(), num_envs(), t_, step_dev_.actions.get(), dout);
    });
    SIMKIT_CUDA_CHECK_LAUNCH(stream_.get());
    copy_to_host(staging_obs_.get(), step_dev_.obs.get(), obs_count(), stream_);
    copy_to_host(staging_reward_.get(), step_dev_.reward.get(), n, stream_);
    copy_to_host(staging_flags_.get(), step_dev_.terminated.get(), n, stream_);
    copy_to_host(staging_flags2_.get(), step_dev_.truncated.get(), n, stream_);
    if (same_step && out.final_obs) copy_to_host(staging_final_obs_.get(), step_dev_.final_obs.get(), obs_count(), stream_);
    if (same_step && out.has_final) copy_to_host(staging_has_final_.get(), step_dev_.has_final.get(), n, stream_);
    if (want_info) copy_to_host(staging_info_.get(), step_dev_.info.get(), info_count(), stream_);
    const bool want_final_info = same_step && out.final_info != nullptr && this->n_info() > 0;
    if (want_final_info) copy_to_host(staging_final_info_.get(), step_dev_.final_info.get(), info_count(), stream_);
    stream_.synchronize();
    if (out.obs) std::memcpy(out.obs, staging_obs_.get(), obs_count() * sizeof(Obs));
    if (out.reward) std::memcpy(out.reward, staging_reward_.get(), n * sizeof(Real));
    if (out.terminated) std::memcpy(out.terminated, staging_flags_.get(), n);
    if (out.truncated) std::memcpy(out.truncated, staging_flags2_.get(), n);
    if (same_step && out.final_obs) std::memcpy(out.final_obs, staging_final_obs_.get(), obs_count() * sizeof(Obs));
    if (same_step && out.has_final) std::memcpy(out.has_final, staging_has_final_.get(), n);
    if (want_info) std::memcpy(out.info, staging_info_.get(), info_count() * sizeof(double));
    if (want_final_info) std::memcpy(out.final_info, staging_final_info_.get(), info_count() * sizeof(double));
  }

 private:
  struct TrajectoryBuffers {
    DeviceBuffer<Obs> obs;
    DeviceBuffer<Real> reward;
    DeviceBuffer<uint8_t> terminated, truncated;
    DeviceBuffer<Action> actions;
    PinnedBuffer<Obs> host_obs;
    PinnedBuffer<Real> host_reward;
    PinnedBuffer<uint8_t> host_terminated, host_truncated;
    PinnedBuffer<Action> host_actions;
    Event computed{false}, copied{false};
    size_t capacity = 0;  // steps x envs

    void reserve(size_t cap) {
      if (cap <= capacity) return;
      obs = DeviceBuffer<Obs>(cap * Env::kObsDim);
      reward = DeviceBuffer<Real>(cap);
      terminated = DeviceBuffer<uint8_t>(cap);
      truncated = DeviceBuffer<uint8_t>(cap);
      actions = DeviceBuffer<Action>(cap);
      host_obs = PinnedBuffer<Obs>(cap * Env::kObsDim);
      host_reward = PinnedBuffer<Real>(cap);
      host_terminated = PinnedBuffer<uint8_t>(cap);
      host_truncated = PinnedBuffer<uint8_t>(cap);
      host_actions = PinnedBuffer<Action>(cap);
      capacity = cap;
    }
    TrajectoryView<Env> view() const { return {obs.get(), reward.get(), terminated.get(), truncated.get(), actions.get()}; }
  };

  struct StepDeviceBuffers {
    DeviceBuffer<Action> actions;
    DeviceBuffer<Obs> obs, final_obs;
    DeviceBuffer<Real> reward;
    DeviceBuffer<uint8_t> terminated, truncated, has_final, mask;
    DeviceBuffer<double> info, final_info;
    DeviceBuffer<int8_t> grid;  // multi-agent envs: Env::kGridCells bytes per env
  };

  size_t rows() const { return static_cast<size_t>(num_envs()) * static_cast<size_t>(agents_); }
  size_t obs_count() const { return rows() * Env::kObsDim; }
  size_t info_count() const { return static_cast<size_t>(num_envs()) * static_cast<size_t>(this->n_info()); }
  BatchView<Env> batch_view() const {
    return {StateColumns<Env>{state_.get(), static_cast<size_t>(num_envs()), agents_}, elapsed_.get(),
            episode_return_.get(), needs_reset_.get()};
  }

  void launch_reset(bool only_pending, const uint8_t* mask, const StepBuffersView<Env>& out) {
    reset_kernel<Env><<<grid_for(num_envs()), kBlock, 0, stream_.get()>>>(params_, engine_, batch_view(), num_envs(),
                                                                           t_, only_pending, mask, out);
    SIMKIT_CUDA_CHECK_LAUNCH(stream_.get());
  }

  // Step-API buffers, allocated on first use (throughput runs never pay for them).
  void ensure_step_buffers() {
    if (!step_dev_.obs.empty()) return;
    const size_t n = static_cast<size_t>(num_envs());
    const size_t r = rows();  // per-agent buffers
    step_dev_.actions = DeviceBuffer<Action>(r);
    step_dev_.obs = DeviceBuffer<Obs>(obs_count());
    step_dev_.reward = DeviceBuffer<Real>(r);
    step_dev_.terminated = DeviceBuffer<uint8_t>(r);
    step_dev_.truncated = DeviceBuffer<uint8_t>(r);
    step_dev_.mask = DeviceBuffer<uint8_t>(n);
    staging_actions_ = PinnedBuffer<Action>(r);
    staging_obs_ = PinnedBuffer<Obs>(obs_count());
    staging_reward_ = PinnedBuffer<Real>(r);
    staging_flags_ = PinnedBuffer<uint8_t>(std::max(n, r));  // reset masks (per env) and flags (per row)
    staging_flags2_ = PinnedBuffer<uint8_t>(r);
    staging_seeds_ = PinnedBuffer<uint64_t>(n);
    if constexpr (kMultiAgent<Env>) {
      // One observation grid per world (thread), zero between observations.
      step_dev_.grid = DeviceBuffer<int8_t>(n * Env::kGridCells);
      SIMKIT_CUDA_CHECK(cudaMemsetAsync(step_dev_.grid.get(), 0, step_dev_.grid.bytes(), stream_.get()));
    }
    if (config_.autoreset == AutoresetMode::kSameStep) {
      step_dev_.final_obs = DeviceBuffer<Obs>(obs_count());
      step_dev_.has_final = DeviceBuffer<uint8_t>(r);
      staging_final_obs_ = PinnedBuffer<Obs>(obs_count());
      staging_has_final_ = PinnedBuffer<uint8_t>(r);
    }
    if (this->n_info() > 0) {
      step_dev_.info = DeviceBuffer<double>(info_count());
      staging_info_ = PinnedBuffer<double>(info_count());
      if (config_.autoreset == AutoresetMode::kSameStep) {
        step_dev_.final_info = DeviceBuffer<double>(info_count());
        staging_final_info_ = PinnedBuffer<double>(info_count());
      }
    }
  }

  // Trajectory buffers for `cap` = chunk x envs entries, checked against free device memory first.
  void reserve_trajectory(int64_t chunk_steps) {
    const size_t cap = static_cast<size_t>(chunk_steps) * static_cast<size_t>(num_envs());
    if (cap <= traj_[0].capacity) return;
    MemoryRequest req;
    req.env = info_;
    req.num_envs = num_envs();
    req.chunk = static_cast<int>(chunk_steps);
    req.mode = OutputMode::kTrajectory;
    // The plan counts this simulator's state again; add back what it already holds.
    req.free_bytes = device_free_bytes() + state_.bytes() + elapsed_.bytes() + episode_return_.bytes() +
                     needs_reset_.bytes() +
                     2 * (traj_[0].capacity * (sizeof(Obs) * Env::kObsDim + sizeof(Real) + 2 + sizeof(Action)));
    const MemoryPlan plan = plan_memory(req);
    if (!plan.fits()) {
      throw ConfigError("trajectory mode, chunk " + std::to_string(chunk_steps) + ", num_envs " +
                        std::to_string(num_envs()) + " on " + device_label() + ": " + describe_shortfall(req, plan));
    }
    traj_[0].reserve(cap);
    traj_[1].reserve(cap);
  }

  void launch_chunk(uint64_t t0, int k_steps, const TrajectoryView<Env>* traj) {
    const unsigned int grid = grid_for(num_envs());
    if (traj) {
      rollout_kernel<Env, true><<<grid, kBlock, 0, stream_.get()>>>(params_, engine_, batch_view(), num_envs(), t0,
                                                                    k_steps, block_stats_.get(), *traj);
    } else {
      rollout_kernel<Env, false><<<grid, kBlock, 0, stream_.get()>>>(params_, engine_, batch_view(), num_envs(), t0,
                                                                     k_steps, block_stats_.get(), TrajectoryView<Env>{});
    }
    SIMKIT_CUDA_CHECK_LAUNCH(stream_.get());
  }

  // Queues the copy of trajectory buffer b (k_steps x envs) to its pinned twin on copy_stream_,
  // after the chunk that fills it.
  void queue_trajectory_copy(TrajectoryBuffers& b, int k_steps) {
    const size_t count = static_cast<size_t>(k_steps) * static_cast<size_t>(num_envs());
    b.computed.record(stream_);
    copy_stream_.wait(b.computed.get());
    copy_to_host(b.host_obs.get(), b.obs.get(), count * Env::kObsDim, copy_stream_);
    copy_to_host(b.host_reward.get(), b.reward.get(), count, copy_stream_);
    copy_to_host(b.host_terminated.get(), b.terminated.get(), count, copy_stream_);
    copy_to_host(b.host_truncated.get(), b.truncated.get(), count, copy_stream_);
    copy_to_host(b.host_actions.get(), b.actions.get(), count, copy_stream_);
    b.copied.record(copy_stream_);
  }

  void deliver(TrajectoryBuffers& b, uint64_t t0, int k_steps, const TrajectoryCallback& on_chunk) {
    b.copied.synchronize();
    TrajectoryChunk c;
    c.t0 = t0;
    c.steps = k_steps;
    c.num_envs = num_envs();
    c.obs = b.host_obs.get();
    c.reward = b.host_reward.get();
    c.terminated = b.host_terminated.get();
    c.truncated = b.host_truncated.get();
    c.actions = b.host_actions.get();
    if (on_chunk) on_chunk(c);
  }

  RolloutStats run(uint64_t steps, int chunk, const TrajectoryCallback* on_chunk) {
    const int64_t n = num_envs();
    if (kMultiAgent<Env> && on_chunk) {
      throw ConfigError(std::string("trajectory mode does not support the multi-agent env ") + Env::kId +
                        " yet: use statistics mode or the step API");
    }
    const uint64_t chunk_u = static_cast<uint64_t>(chunk);
    if (on_chunk && steps > 0) reserve_trajectory(static_cast<int64_t>(std::min(chunk_u, steps)));
    SIMKIT_CUDA_CHECK(cudaMemsetAsync(block_stats_.get(), 0, block_stats_.bytes(), stream_.get()));
    start_.record(stream_);
    try {
      uint64_t prev_t0 = 0;
      int prev_steps = 0;
      int index = 0;
      for (uint64_t done = 0; done < steps; done += chunk_u, ++index) {
        const int k_steps = static_cast<int>(std::min(chunk_u, steps - done));
        const uint64_t t0 = t_ + done;
        if (!on_chunk) {
          launch_chunk(t0, k_steps, nullptr);
          continue;
        }
        // Double buffering: chunk `index` fills buffer index % 2 while the copy of the previous chunk
        // (other buffer) runs on copy_stream_ and the host hands it to the callback. Buffer index % 2
        // was last read by the copy of chunk index - 2, which deliver() already waited for.
        TrajectoryBuffers& b = traj_[index % 2];
        const TrajectoryView<Env> view = b.view();
        launch_chunk(t0, k_steps, &view);
        queue_trajectory_copy(b, k_steps);
        if (index > 0) deliver(traj_[(index + 1) % 2], prev_t0, prev_steps, *on_chunk);
        prev_t0 = t0;
        prev_steps = k_steps;
      }
      stop_.record(stream_);
      SIMKIT_CUDA_CHECK(cub::DeviceReduce::Reduce(reduce_temp_.get(), reduce_temp_bytes_, block_stats_.get(),
                                                  total_.get(), static_cast<int64_t>(block_stats_.size()), AddStats{},
                                                  EpisodeStats{}, stream_.get()));
      SIMKIT_CUDA_CHECK_LAUNCH(stream_.get());
      copy_to_host(total_host_.get(), total_.get(), 1, stream_);
      if (on_chunk && steps > 0) deliver(traj_[(index + 1) % 2], prev_t0, prev_steps, *on_chunk);
      stream_.synchronize();
    } catch (...) {
      // Leave no work queued on buffers a caller may free; the simulator is mid-rollout now.
      cudaStreamSynchronize(stream_.get());
      cudaStreamSynchronize(copy_stream_.get());
      throw;
    }
    last_seconds_ = stop_.seconds_since(start_);
    RolloutStats out;
    out.steps = steps * static_cast<uint64_t>(n);
    out.add_tile(total_host_[0]);
    return out;
  }

  double last_seconds_ = -1;
  int agents_ = agent_count<Env>(params_);  // per env

  Stream stream_;       // all work of this simulator
  Stream copy_stream_;  // trajectory D2H copies, overlapping the next chunk
  Event start_, stop_;  // rollout timing on stream_
  DeviceBuffer<unsigned char> state_;  // StateColumns of num_envs envs
  DeviceBuffer<uint32_t> elapsed_;
  DeviceBuffer<Real> episode_return_;
  DeviceBuffer<uint8_t> needs_reset_;
  DeviceBuffer<uint64_t> env_seeds_;
  DeviceBuffer<EpisodeStats> block_stats_;  // one entry per block, summed over a rollout's chunks
  DeviceBuffer<EpisodeStats> total_;
  DeviceBuffer<unsigned char> reduce_temp_;
  size_t reduce_temp_bytes_ = 0;  // from CUB's size query, made once in the constructor
  PinnedBuffer<EpisodeStats> total_host_;
  TrajectoryBuffers traj_[2];
  StepDeviceBuffers step_dev_;
  PinnedBuffer<Action> staging_actions_;
  PinnedBuffer<Obs> staging_obs_, staging_final_obs_;
  PinnedBuffer<Real> staging_reward_;
  PinnedBuffer<uint8_t> staging_flags_, staging_flags2_, staging_has_final_;
  PinnedBuffer<uint64_t> staging_seeds_;
  PinnedBuffer<double> staging_info_, staging_final_info_;
};

}  // namespace simkit::cuda
