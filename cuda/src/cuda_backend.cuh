// SPDX-License-Identifier: Apache-2.0
// The CUDA backend: one thread per env, the env's state in registers for a whole chunk, the same
// engine functions (step_one, reset_one, RandomPolicy, api_step_one from rollout.hpp) as the CPU
// backend, so both produce the same episodes for the same seed. Mirrors cpu::CpuSimulator
// (host/src/cpu_backend.hpp): same batch clock t_, same reset indices, same messages.
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
#include "simkit/registry.hpp"
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
  typename Env::Action* actions;
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

// `steps` batch steps of the random policy from batch step t0 for envs [0, n) of this simulator.
// Per env: state, elapsed and return are loaded once, kept in registers, stored once. The policy's
// Philox words are refilled exactly where run_tile refills them (first step of the chunk and every
// kStepsPerBlock-th batch step), an ended episode restarts before the next step with reset index t+1.
template <class Env, bool kTrajectory>
__global__ void __launch_bounds__(kBlock)
    rollout_kernel(const typename Env::Params p, const EngineParams e, const BatchView<Env> v, const uint32_t first_env,
                   const int64_t n, const uint64_t t0, const int steps, EpisodeStats* __restrict__ block_stats,
                   const TrajectoryView<Env> traj) {
  using Policy = RandomPolicy<Env>;
  using Real = typename Env::Real;
  const int64_t i = static_cast<int64_t>(blockIdx.x) * kBlock + threadIdx.x;
  EpisodeStats stats{};
  if (i < n) {
    const uint32_t env = first_env + static_cast<uint32_t>(i);
    typename Env::State s = v.state[i];
    uint32_t elapsed = v.elapsed[i];
    Real ret = v.episode_return[i];
    const uint64_t seed = e.seed_for(env);
    Words4 words{};
    for (int k = 0; k < steps; ++k) {
      const uint64_t t = t0 + static_cast<uint64_t>(k);
      if (k == 0 || t % Policy::kStepsPerBlock == 0) words = Policy::draw(seed, env, t);
      const typename Env::Action a = Policy::action(words, t);
      const size_t slot = static_cast<size_t>(k) * static_cast<size_t>(n) + static_cast<size_t>(i);
      if constexpr (kTrajectory) {
        Env::observe(p, s, traj.obs + slot * Env::kObsDim);
        traj.actions[slot] = a;
      }
      const StepOutcome<Real> o = step_one<Env>(p, e, env, t, s, elapsed, ret, a);
      count_episode(stats, o.done(), elapsed, ret);
      if constexpr (kTrajectory) {
        traj.reward[slot] = o.reward;
        traj.terminated[slot] = o.terminated;
        traj.truncated[slot] = o.truncated;
      }
      if (o.done()) reset_one<Env>(p, e, env, t + 1, s, elapsed, ret);
    }
    v.state[i] = s;
    v.elapsed[i] = elapsed;
    v.episode_return[i] = ret;
  }
  accumulate_block_stats(stats, block_stats);
}

// Resets at batch step t: the envs with a pending reset (only_pending), else the envs where mask is
// null or nonzero; then, if obs is given, writes every env's observation.
template <class Env>
__global__ void __launch_bounds__(kBlock)
    reset_kernel(const typename Env::Params p, const EngineParams e, const BatchView<Env> v, const uint32_t first_env,
                 const int64_t n, const uint64_t t, uint8_t* __restrict__ needs_reset, const bool only_pending,
                 const uint8_t* __restrict__ mask, typename Env::Obs* __restrict__ obs) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * kBlock + threadIdx.x;
  if (i >= n) return;
  const bool go = only_pending ? needs_reset[i] != 0 : (mask == nullptr || mask[i] != 0);
  if (go) {
    reset_one<Env>(p, e, first_env + static_cast<uint32_t>(i), t, v.state[i], v.elapsed[i], v.episode_return[i]);
    needs_reset[i] = 0;
  }
  if (obs) Env::observe(p, v.state[i], obs + i * Env::kObsDim);
}

// Device-side outputs of one step-API call (final_obs/has_final: same_step mode; info: envs with
// visit_info), num_envs entries each.
template <class Env>
struct StepOutputs {
  typename Env::Obs* obs;
  typename Env::Real* reward;
  uint8_t* terminated;
  uint8_t* truncated;
  typename Env::Obs* final_obs;
  uint8_t* has_final;
  double* info;
  int n_info;
};

template <class Env>
__global__ void __launch_bounds__(kBlock)
    api_step_kernel(const typename Env::Params p, const EngineParams e, const AutoresetMode mode, const BatchView<Env> v,
                    const uint32_t first_env, const int64_t n, const uint64_t t, uint8_t* __restrict__ needs_reset,
                    const typename Env::Action* __restrict__ actions, const StepOutputs<Env> out) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * kBlock + threadIdx.x;
  if (i >= n) return;
  const StepSlot<Env> slot{out.obs + i * Env::kObsDim,
                           out.reward + i,
                           out.terminated + i,
                           out.truncated + i,
                           out.final_obs ? out.final_obs + i * Env::kObsDim : nullptr,
                           out.has_final ? out.has_final + i : nullptr,
                           out.n_info > 0 ? out.info + i * out.n_info : nullptr};
  with_autoreset_mode(mode, [&](auto mode_tag) {
    api_step_one<Env, decltype(mode_tag)::value>(p, e, first_env + static_cast<uint32_t>(i), t, v.state[i],
                                                 v.elapsed[i], v.episode_return[i], needs_reset[i], actions[i], slot);
  });
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
class CudaSimulator final : public Simulator {
 public:
  using Real = typename Env::Real;
  using State = typename Env::State;
  using Obs = typename Env::Obs;
  using Action = typename Env::Action;

  explicit CudaSimulator(const SimConfig& c)
      : config_(c), info_(make_env_info<Env>()), params_(make_params<Env>(c.params)),
        engine_(make_engine_params<Env>(c)) {
    check_batch_size(c.num_envs);
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
    state_ = DeviceBuffer<State>(n);
    elapsed_ = DeviceBuffer<uint32_t>(n);
    episode_return_ = DeviceBuffer<Real>(n);
    needs_reset_ = DeviceBuffer<uint8_t>(n);
    block_stats_ = DeviceBuffer<EpisodeStats>(grid_for(c.num_envs));
    total_ = DeviceBuffer<EpisodeStats>(1);
    total_host_ = PinnedBuffer<EpisodeStats>(1);
    // CUB's two-phase query, once: the temp storage is reused by every rollout.
    SIMKIT_CUDA_CHECK(cub::DeviceReduce::Reduce(nullptr, reduce_temp_bytes_, block_stats_.get(), total_.get(),
                                                static_cast<int64_t>(block_stats_.size()), AddStats{}, EpisodeStats{},
                                                stream_.get()));
    reduce_temp_ = DeviceBuffer<unsigned char>(std::max<size_t>(reduce_temp_bytes_, 1));
    launch_reset(/*only_pending=*/false, nullptr, nullptr);  // every env, reset index 0
    stream_.synchronize();
  }

  const EnvInfo& info() const override { return info_; }
  const SimConfig& config() const override { return config_; }
  std::string device_name() const override { return device_label(); }
  double last_rollout_seconds() const override { return last_seconds_; }

  RolloutStats rollout(uint64_t steps, int chunk) override { return run(steps, chunk, nullptr); }
  RolloutStats rollout_trajectory(uint64_t steps, int chunk, const TrajectoryCallback& on_chunk) override {
    return run(steps, chunk, &on_chunk);
  }

  void reset(const std::vector<uint64_t>& seeds, const uint8_t* mask, void* obs) override {
    const int64_t n = num_envs();
    if (!seeds.empty() && seeds.size() != 1 && static_cast<int64_t>(seeds.size()) != n) {
      throw ConfigError("seed: expected one seed or num_envs=" + std::to_string(n) + " seeds, got " +
                        std::to_string(seeds.size()));
    }
    ensure_step_buffers();
    if (seeds.size() == 1) {
      engine_.seed = seeds[0];
      engine_.env_seeds = nullptr;
      t_ = 0;
    } else if (!seeds.empty()) {
      if (env_seeds_.empty()) env_seeds_ = DeviceBuffer<uint64_t>(static_cast<size_t>(n));
      std::memcpy(staging_seeds_.get(), seeds.data(), seeds.size() * sizeof(uint64_t));
      copy_to_device(env_seeds_.get(), staging_seeds_.get(), seeds.size(), stream_);
      // seed_for(env) indexes by the global env index first_env + i; this simulator holds entries [0, n).
      engine_.env_seeds = env_seeds_.get() - first_env();
      t_ = 0;
    }
    const uint8_t* dmask = nullptr;
    if (mask) {
      std::memcpy(staging_flags_.get(), mask, static_cast<size_t>(n));
      copy_to_device(step_dev_.mask.get(), staging_flags_.get(), static_cast<size_t>(n), stream_);
      dmask = step_dev_.mask.get();
    }
    launch_reset(false, dmask, obs ? step_dev_.obs.get() : nullptr);
    if (obs) copy_to_host(staging_obs_.get(), step_dev_.obs.get(), obs_count(), stream_);
    stream_.synchronize();
    if (obs) std::memcpy(obs, staging_obs_.get(), obs_count() * sizeof(Obs));
    t_ += 1;  // two resets in a row draw different states
  }

  void step(const void* actions, const StepBuffers& out) override {
    const Action* a = static_cast<const Action*>(actions);
    validate_actions<Env>(a, num_envs());  // before anything reaches the device
    ensure_step_buffers();
    const size_t n = static_cast<size_t>(num_envs());
    const AutoresetMode mode = config_.autoreset;
    const bool same_step = mode == AutoresetMode::kSameStep;
    const bool want_info = out.info != nullptr && n_info() > 0;
    std::memcpy(staging_actions_.get(), a, n * sizeof(Action));
    copy_to_device(step_dev_.actions.get(), staging_actions_.get(), n, stream_);
    const StepOutputs<Env> dout{step_dev_.obs.get(),
                                step_dev_.reward.get(),
                                step_dev_.terminated.get(),
                                step_dev_.truncated.get(),
                                same_step ? step_dev_.final_obs.get() : nullptr,
                                same_step ? step_dev_.has_final.get() : nullptr,
                                step_dev_.info.get(),  // always written by envs with info fields
                                n_info()};
    api_step_kernel<Env><<<grid_for(num_envs()), kBlock, 0, stream_.get()>>>(
        params_, engine_, mode, batch_view(), first_env(), num_envs(), t_, needs_reset_.get(), step_dev_.actions.get(), dout);
    SIMKIT_CUDA_CHECK_LAUNCH(stream_.get());
    copy_to_host(staging_obs_.get(), step_dev_.obs.get(), obs_count(), stream_);
    copy_to_host(staging_reward_.get(), step_dev_.reward.get(), n, stream_);
    copy_to_host(staging_flags_.get(), step_dev_.terminated.get(), n, stream_);
    copy_to_host(staging_flags2_.get(), step_dev_.truncated.get(), n, stream_);
    if (same_step && out.final_obs) copy_to_host(staging_final_obs_.get(), step_dev_.final_obs.get(), obs_count(), stream_);
    if (same_step && out.has_final) copy_to_host(staging_has_final_.get(), step_dev_.has_final.get(), n, stream_);
    if (want_info) copy_to_host(staging_info_.get(), step_dev_.info.get(), n * static_cast<size_t>(n_info()), stream_);
    stream_.synchronize();
    if (mode == AutoresetMode::kNextStep) pending_resets_ = true;
    if (out.obs) std::memcpy(out.obs, staging_obs_.get(), obs_count() * sizeof(Obs));
    if (out.reward) std::memcpy(out.reward, staging_reward_.get(), n * sizeof(Real));
    if (out.terminated) std::memcpy(out.terminated, staging_flags_.get(), n);
    if (out.truncated) std::memcpy(out.truncated, staging_flags2_.get(), n);
    if (same_step && out.final_obs) std::memcpy(out.final_obs, staging_final_obs_.get(), obs_count() * sizeof(Obs));
    if (same_step && out.has_final) std::memcpy(out.has_final, staging_has_final_.get(), n);
    if (want_info) std::memcpy(out.info, staging_info_.get(), n * static_cast<size_t>(n_info()) * sizeof(double));
    t_ += 1;
  }

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

  void set_params(const std::map<std::string, double>& params) override {
    std::map<std::string, double> merged = config_.params;
    for (const auto& [name, value] : params) merged[name] = value;
    params_ = make_params<Env>(merged);  // validates every name before anything changes
    config_.params = std::move(merged);
  }
  void get_state(double* out) const override {
    std::vector<State> host(static_cast<size_t>(num_envs()));
    copy_to_host(host.data(), state_.get(), host.size(), stream_);
    stream_.synchronize();
    states_to_doubles<Env>(host.data(), num_envs(), out);
  }
  void set_state(const double* in) override {
    std::vector<State> host(static_cast<size_t>(num_envs()));
    doubles_to_states<Env>(in, num_envs(), host.data());
    copy_to_device(state_.get(), host.data(), host.size(), stream_);
    stream_.synchronize();
  }
  void get_elapsed(uint32_t* out) const override {
    copy_to_host(out, elapsed_.get(), static_cast<size_t>(num_envs()), stream_);
    stream_.synchronize();
  }
  void set_elapsed(const uint32_t* in) override {
    copy_to_device(elapsed_.get(), in, static_cast<size_t>(num_envs()), stream_);
    stream_.synchronize();
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
    DeviceBuffer<double> info;
  };

  int64_t num_envs() const { return config_.num_envs; }
  uint32_t first_env() const { return static_cast<uint32_t>(config_.env_offset); }
  size_t obs_count() const { return static_cast<size_t>(num_envs()) * Env::kObsDim; }
  int n_info() const { return static_cast<int>(info_.info_fields.size()); }
  BatchView<Env> batch_view() const { return {state_.get(), elapsed_.get(), episode_return_.get()}; }

  static void check_batch_size(int64_t num_envs) {
    if (num_envs <= 0) throw ConfigError("num_envs must be at least 1 (got " + std::to_string(num_envs) + ")");
    if (num_envs >= kMaxEnvs) {
      throw ConfigError("num_envs must be below 2^32 = 4294967296 per process (got " + std::to_string(num_envs) + ")");
    }
  }
  static void check_chunk(int chunk) {
    if (chunk < 1) throw ConfigError("chunk must be at least 1 (got " + std::to_string(chunk) + ")");
  }

  void launch_reset(bool only_pending, const uint8_t* mask, Obs* obs) {
    reset_kernel<Env><<<grid_for(num_envs()), kBlock, 0, stream_.get()>>>(
        params_, engine_, batch_view(), first_env(), num_envs(), t_, needs_reset_.get(), only_pending, mask, obs);
    SIMKIT_CUDA_CHECK_LAUNCH(stream_.get());
  }

  // Step-API buffers, allocated on first use (throughput runs never pay for them).
  void ensure_step_buffers() {
    if (!step_dev_.obs.empty()) return;
    const size_t n = static_cast<size_t>(num_envs());
    step_dev_.actions = DeviceBuffer<Action>(n);
    step_dev_.obs = DeviceBuffer<Obs>(obs_count());
    step_dev_.reward = DeviceBuffer<Real>(n);
    step_dev_.terminated = DeviceBuffer<uint8_t>(n);
    step_dev_.truncated = DeviceBuffer<uint8_t>(n);
    step_dev_.mask = DeviceBuffer<uint8_t>(n);
    staging_actions_ = PinnedBuffer<Action>(n);
    staging_obs_ = PinnedBuffer<Obs>(obs_count());
    staging_reward_ = PinnedBuffer<Real>(n);
    staging_flags_ = PinnedBuffer<uint8_t>(n);
    staging_flags2_ = PinnedBuffer<uint8_t>(n);
    staging_seeds_ = PinnedBuffer<uint64_t>(n);
    if (config_.autoreset == AutoresetMode::kSameStep) {
      step_dev_.final_obs = DeviceBuffer<Obs>(obs_count());
      step_dev_.has_final = DeviceBuffer<uint8_t>(n);
      staging_final_obs_ = PinnedBuffer<Obs>(obs_count());
      staging_has_final_ = PinnedBuffer<uint8_t>(n);
    }
    if (n_info() > 0) {
      step_dev_.info = DeviceBuffer<double>(n * static_cast<size_t>(n_info()));
      staging_info_ = PinnedBuffer<double>(n * static_cast<size_t>(n_info()));
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
                     needs_reset_.bytes() + 2 * (traj_[0].capacity * (sizeof(Obs) * Env::kObsDim + sizeof(Real) + 2 + sizeof(Action)));
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
      rollout_kernel<Env, true><<<grid, kBlock, 0, stream_.get()>>>(params_, engine_, batch_view(), first_env(), num_envs(),
                                                                    t0, k_steps, block_stats_.get(), *traj);
    } else {
      rollout_kernel<Env, false><<<grid, kBlock, 0, stream_.get()>>>(params_, engine_, batch_view(), first_env(),
                                                                     num_envs(), t0, k_steps, block_stats_.get(),
                                                                     TrajectoryView<Env>{});
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
    check_chunk(chunk);
    const int64_t n = num_envs();
    const uint64_t chunk_u = static_cast<uint64_t>(chunk);
    if (on_chunk && steps > 0) reserve_trajectory(static_cast<int64_t>(std::min(chunk_u, steps)));
    if (pending_resets_) {
      launch_reset(/*only_pending=*/true, nullptr, nullptr);
      pending_resets_ = false;
    }
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
    t_ += steps;
    RolloutStats out;
    out.steps = steps * static_cast<uint64_t>(n);
    out.episodes = total_host_[0];
    return out;
  }


  SimConfig config_;
  EnvInfo info_;
  typename Env::Params params_;
  EngineParams engine_;  // env_seeds, when set, points into device memory (env_seeds_)
  uint64_t t_ = 0;       // the batch clock: index of the next step (as in CpuSimulator)
  bool pending_resets_ = false;  // a next_step-mode step may have left envs waiting for a reset
  double last_seconds_ = -1;

  Stream stream_;       // all work of this simulator
  Stream copy_stream_;  // trajectory D2H copies, overlapping the next chunk
  Event start_, stop_;  // rollout timing on stream_
  DeviceBuffer<State> state_;
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
  PinnedBuffer<double> staging_info_;
};

}  // namespace simkit::cuda
