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
#include <memory>
#include <string>
#include <vector>

#include "simkit/cuda/check.cuh"
#include "simkit/cuda/memory.cuh"
#include "simkit/allocation.hpp"
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

// Where trajectory mode writes one chunk, step-major: [k][i] at k * n + i (obs: x kObsDim;
// multi-agent envs: rows (k * n + i) * agents + a).
template <class Env>
struct TrajectoryView {
  typename Env::Obs* obs;
  typename Env::Real* reward;
  uint8_t* terminated;
  uint8_t* truncated;
  ActionScalar<Env>* actions;
  int8_t* grid;  // multi-agent envs: observation grid scratch, Env::kGridCells zero bytes per env
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

  // Multi-agent envs (row: this env's index, grid: its scratch).
  size_t row;
  template <class S>
  __device__ void observe_agents(const S& s) {
    put_agent_obs<Env>(p, s, out.obs, out.grid + row * Env::kGridCells, ContiguousRows{slot}, 1u);
  }
  template <class A>
  __device__ void action(int a, const A& act) {
    const size_t rows[1] = {slot};
    put_agent(act, out.actions, agent_count<Env>(p), a, rows, 1u);
  }
  template <class S, class O>
  __device__ void after_agents(const S& s, const O& o) {
    put_agent_outcomes<Env>(p, s, &o, out.reward, out.terminated, out.truncated, ContiguousRows{slot}, 1u);
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

// Autoresets drawn ahead: an autoreset's draw depends only on the step the ended episode started at
// (autoreset_step in rollout.hpp), so a lane can hold its next episode's first state, in shared
// memory, before its episode ends. Lanes whose episode ended wait for a new one, and the warp draws
// for all waiting lanes in one pass once kDrawTogether of them wait, or when a waiting lane ends
// again: one Philox pass per ~10 warp-steps for CartPole instead of one in every warp-step where any
// of 32 lanes ended (77%). For single-agent envs whose state is at most kAheadStateBytes.
constexpr int kDrawTogether = 16;
constexpr size_t kAheadStateBytes = 32;
template <class Env>
constexpr bool kDrawAhead = !kMultiAgent<Env> && sizeof(typename Env::State) <= kAheadStateBytes;

// `steps` batch steps of the random policy from batch step t0 for envs [0, n) of this simulator,
// one thread per env: rollout_step (rollout.hpp) with the env's state in registers for the whole
// chunk, as the CPU tile loop runs it on vectors. The policy's Philox words are refilled where the
// CPU refills them (first step of the chunk and every kStepsPerBlock-th batch step); an ended
// episode is counted and restarts before the next step with the autoreset the CPU draws
// (autoreset_one at t + 1), drawn ahead where kDrawAhead.
template <class Env, bool kTrajectory>
__global__ void __launch_bounds__(kBlock)
    rollout_kernel(const typename Env::Params p, const EngineParams e, const BatchView<Env> v, const int64_t n,
                   const uint64_t t0, const int steps, EpisodeStats* __restrict__ block_stats,
                   const TrajectoryView<Env> traj) {
  using Policy = RandomPolicy<Env>;
  using Real = typename Env::Real;
  using State = typename Env::State;
  const int64_t i = static_cast<int64_t>(blockIdx.x) * kBlock + threadIdx.x;
  // The lanes of this warp with an env (all but in the last warp); votes are among them.
  const unsigned warp_envs = __ballot_sync(0xFFFFFFFFu, i < n);
  // Raw bytes: a __shared__ array of State would need State's constructor to run.
  __shared__ alignas(16) unsigned char ahead_bytes[kDrawAhead<Env> ? kBlock * sizeof(State) : 1];
  State& ahead = reinterpret_cast<State*>(ahead_bytes)[threadIdx.x];  // this lane's
  EpisodeStats stats{};
  if (i < n) {
    const size_t row = static_cast<size_t>(i);
    const uint32_t env = e.seeds.first_env + static_cast<uint32_t>(i);
    State s = v.state.template load<Real>(row);
    uint32_t elapsed = v.elapsed[row];
    Real ret = v.episode_return[row];
    // This env's Philox key, looked up once and given to every draw of the chunk as a batch seed:
    // seed_key(own.seeds, env) is the same key, so the results are the same, but the resets reuse
    // the policy's hoisted round keys instead of looking up a per-env seed each time.
    const SeedKey<uint32_t> key = seed_key(e.seeds, env);
    EngineParams own = e;
    own.seeds.seed = (static_cast<uint64_t>(key.hi) << 32) | key.lo;
    own.seeds.env_seeds = nullptr;
    // A chunk never crosses a multiple of 2^32 steps (run() ends chunks there): the high word of t
    // is the same for the whole chunk and the step counter is 32-bit.
    constexpr bool kStepsPerBlockDivides32Bits = (Policy::kStepsPerBlock & (Policy::kStepsPerBlock - 1)) == 0;
    const uint64_t t_high = t0 & ~uint64_t{0xFFFFFFFF};
    const uint32_t t0_low = static_cast<uint32_t>(t0);
    // The policy's block is drawn where t reaches a multiple of kStepsPerBlock, and its word picked
    // where word_index changes (branches the whole warp takes alike), as the CPU refills them; a
    // chunk that starts inside a block or a word draws or picks before its first step.
    Words4<uint32_t> words{};
    uint32_t word = 0;
    if constexpr (!kMultiAgent<Env>) {
      if (t0 % Policy::kStepsPerBlock != 0) words = Policy::draw(key, env, t0);
      if (t0 % Policy::kStepsPerWord != 0) word = simkit::detail::pick_word(words, Policy::word_index(t0));
    }
    // Counts of one thread in one launch fit 32 bits: the lengths it adds sum to at most its env's
    // starting elapsed plus steps, both below 2^31.
    uint32_t episodes = 0, length_sum = 0;
    const auto count_episode = [&] {
      episodes += 1;
      length_sum += elapsed;
      stats.return_sum += static_cast<double>(ret);
      if constexpr (kMultiAgent<Env>) stats.alive_sum += static_cast<uint64_t>(Env::agents_alive(p, s));
    };
    // Drawn ahead: where this episode's successor is drawn, and the warp's lanes whose successor is
    // not in `ahead` yet (the same value in every lane; at first all of them).
    StepWords<uint32_t> next_start = autoreset_step(t0, elapsed);
    const unsigned lane_bit = 1u << (threadIdx.x % 32);
    unsigned waiting = warp_envs;
    for (int k = 0; k < steps; ++k) {
      const uint32_t t_low = t0_low + static_cast<uint32_t>(k);
      const uint64_t t = t_high | t_low;
      // t % kStepsPerBlock from the low word alone where kStepsPerBlock divides 2^32
      const uint64_t phase = kStepsPerBlockDivides32Bits ? uint64_t{t_low} : t;
      // Multi-agent envs draw their agents' actions inside the step (AgentPolicy).
      if constexpr (!kMultiAgent<Env>) {
        if (phase % Policy::kStepsPerBlock == 0) words = Policy::draw(key, env, t);
        if (phase % Policy::kStepsPerWord == 0) word = simkit::detail::pick_word(words, Policy::word_index(phase));
      }
      bool done;
      if constexpr (kTrajectory) {
        DeviceRecord<Env> record{p, traj, static_cast<size_t>(k) * static_cast<size_t>(n) + row, row};
        done = rollout_step<Env>(p, own, env, t, word, s, elapsed, ret, record);
      } else {
        NoRecord record;
        done = rollout_step<Env>(p, own, env, t, word, s, elapsed, ret, record);
      }
      if constexpr (kDrawAhead<Env>) {
        const unsigned ended = __ballot_sync(warp_envs, done);
        if (ended != 0) {  // the whole warp, in 77% of CartPole's warp-steps
          if ((ended & waiting) != 0 || __popc(waiting) >= kDrawTogether) {
            if (waiting & lane_bit) {
              State drawn;
              draw_reset<Env>(p, own, env, next_start, drawn);
              ahead = drawn;
            }
            waiting = 0;
          }
          waiting |= ended;
          if (done) {
            count_episode();
            s = ahead;  // = autoreset_one at t + 1: drawn at next_start = t + 1 - elapsed
            elapsed = 0u;
            ret = Real(0);
            next_start = step_words<uint32_t>(simkit::Stream::kAutoreset, t + 1);  // = autoreset_step(t + 1, 0)
          }
        }
      } else if (done) {
        count_episode();
        autoreset_one<Env>(p, own, env, t + 1, s, elapsed, ret);
      }
    }
    stats.episodes = episodes;
    stats.length_sum = length_sum;
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
    reset_pending_or_asked<Env>(only_pending, p, e, e.seeds.first_env + static_cast<uint32_t>(i), t, s, v.elapsed[row],
                                v.episode_return[row]);
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
int current_device();          // cudaGetDevice

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
    req.device = Device::kCuda;
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

  // The device whose memory this simulator holds (DLPack exports name it).
  int device_id() const { return device_id_; }

  std::string device_name() const override { return device_label(); }
  double last_rollout_seconds() const override { return last_seconds_; }

  // Only buffers a kernel has written: obs after a reset that returned them or a step, the others
  // after a step.
  DeviceOutputs device_outputs() const override {
    DeviceOutputs d;
    if (!obs_written_) return d;
    d.device_id = device_id_;
    d.obs = step_->obs.get();
    if (step_written_) {
      d.reward = step_->reward.get();
      d.terminated = step_->terminated.get();
      d.truncated = step_->truncated.get();
    }
    return d;
  }

  // Work queued on `consumer` after this call waits for the kernel that wrote the outputs.
  void make_stream_wait(uintptr_t consumer) const override {
    if (!obs_written_) return;
    SIMKIT_CUDA_CHECK(cudaStreamWaitEvent(reinterpret_cast<cudaStream_t>(consumer), written_.get(), 0));
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

  void reserve_rollout(uint64_t steps, int chunk, bool trajectory) override {
    if (trajectory && steps > 0) reserve_trajectory(static_cast<int64_t>(std::min<uint64_t>(chunk, steps)));
  }

  RolloutStats run_rollout(uint64_t steps, int chunk, const TrajectoryCallback* on_chunk) override {
    return run(steps, chunk, on_chunk);
  }

  const uint64_t* store_env_seeds(const std::vector<uint64_t>& seeds) override {
    ensure_step_buffers();
    std::memcpy(step_->staging_seeds.get(), seeds.data(), seeds.size() * sizeof(uint64_t));
    copy_to_device(step_->env_seeds.get(), step_->staging_seeds.get(), seeds.size(), stream_);
    return step_->env_seeds.get();
  }

  void run_reset(const uint8_t* mask, void* obs, double* info) override {
    ensure_step_buffers();
    StepSet& b = *step_;
    const size_t n = static_cast<size_t>(num_envs());
    const uint8_t* dmask = nullptr;
    if (mask) {
      std::memcpy(b.staging_flags.get(), mask, n);
      copy_to_device(b.mask.get(), b.staging_flags.get(), n, stream_);
      dmask = b.mask.get();
    }
    const bool want_info = info != nullptr && this->n_info() > 0;
    StepBuffersView<Env> out{};
    out.obs = obs ? b.obs.get() : nullptr;
    out.info = want_info ? b.info.get() : nullptr;
    out.n_info = this->n_info();
    out.num_envs = n;
    out.grid = b.grid.get();
    launch_reset(false, dmask, out);
    if (obs) {
      written_.record(stream_);
      copy_to_host(b.staging_obs.get(), b.obs.get(), obs_count(), stream_);
    }
    if (want_info) copy_to_host(b.staging_info.get(), b.info.get(), info_count(), stream_);
    stream_.synchronize();
    if (obs) std::memcpy(obs, b.staging_obs.get(), obs_count() * sizeof(Obs));
    if (want_info) std::memcpy(info, b.staging_info.get(), info_count() * sizeof(double));
    obs_written_ = obs_written_ || obs != nullptr;
  }

  void run_pending_resets() override { launch_reset(/*only_pending=*/true, nullptr, StepBuffersView<Env>{}); }

  void run_step(const Action* a, const StepBuffers& out) override {
    ensure_step_buffers();
    StepSet& b = *step_;
    const size_t n = rows();
    const AutoresetMode mode = config_.autoreset;
    const bool same_step = mode == AutoresetMode::kSameStep;
    const bool want_info = out.info != nullptr && this->n_info() > 0;
    std::memcpy(b.staging_actions.get(), a, n * sizeof(Action));
    copy_to_device(b.actions.get(), b.staging_actions.get(), n, stream_);
    const StepBuffersView<Env> dout{b.obs.get(),
                                    b.reward.get(),
                                    b.terminated.get(),
                                    b.truncated.get(),
                                    same_step ? b.final_obs.get() : nullptr,
                                    same_step ? b.has_final.get() : nullptr,
                                    b.info.get(),  // always written by envs with info fields
                                    this->n_info(),
                                    same_step ? b.final_info.get() : nullptr,
                                    num_envs(),
                                    b.grid.get()};
    with_autoreset_mode(mode, [&](auto mode_tag) {
      api_step_kernel<Env, decltype(mode_tag)::value><<<grid_for(num_envs()), kBlock, 0, stream_.get()>>>(
          params_, engine_, batch_view(), num_envs(), t_, b.actions.get(), dout);
    });
    SIMKIT_CUDA_CHECK_LAUNCH(stream_.get());
    written_.record(stream_);
    copy_to_host(b.staging_obs.get(), b.obs.get(), obs_count(), stream_);
    copy_to_host(b.staging_reward.get(), b.reward.get(), n, stream_);
    copy_to_host(b.staging_flags.get(), b.terminated.get(), n, stream_);
    copy_to_host(b.staging_flags2.get(), b.truncated.get(), n, stream_);
    if (same_step && out.final_obs) copy_to_host(b.staging_final_obs.get(), b.final_obs.get(), obs_count(), stream_);
    if (same_step && out.has_final) copy_to_host(b.staging_has_final.get(), b.has_final.get(), n, stream_);
    if (want_info) copy_to_host(b.staging_info.get(), b.info.get(), info_count(), stream_);
    const bool want_final_info = same_step && out.final_info != nullptr && this->n_info() > 0;
    if (want_final_info) copy_to_host(b.staging_final_info.get(), b.final_info.get(), info_count(), stream_);
    stream_.synchronize();
    if (out.obs) std::memcpy(out.obs, b.staging_obs.get(), obs_count() * sizeof(Obs));
    if (out.reward) std::memcpy(out.reward, b.staging_reward.get(), n * sizeof(Real));
    if (out.terminated) std::memcpy(out.terminated, b.staging_flags.get(), n);
    if (out.truncated) std::memcpy(out.truncated, b.staging_flags2.get(), n);
    if (same_step && out.final_obs) std::memcpy(out.final_obs, b.staging_final_obs.get(), obs_count() * sizeof(Obs));
    if (same_step && out.has_final) std::memcpy(out.has_final, b.staging_has_final.get(), n);
    if (want_info) std::memcpy(out.info, b.staging_info.get(), info_count() * sizeof(double));
    if (want_final_info) std::memcpy(out.final_info, b.staging_final_info.get(), info_count() * sizeof(double));
    obs_written_ = step_written_ = true;
  }

 private:
  // One chunk of trajectory on the device and its pinned host twin, `rows` = steps x envs x agents.
  struct TrajectoryBuffers {
    explicit TrajectoryBuffers(size_t rows)
        : obs(rows * Env::kObsDim),
          reward(rows),
          terminated(rows),
          truncated(rows),
          actions(rows),
          host_obs(rows * Env::kObsDim),
          host_reward(rows),
          host_terminated(rows),
          host_truncated(rows),
          host_actions(rows) {}
    DeviceBuffer<Obs> obs;
    DeviceBuffer<Real> reward;
    DeviceBuffer<uint8_t> terminated, truncated;
    DeviceBuffer<Action> actions;
    PinnedBuffer<Obs> host_obs;
    PinnedBuffer<Real> host_reward;
    PinnedBuffer<uint8_t> host_terminated, host_truncated;
    PinnedBuffer<Action> host_actions;
    Event computed{false}, copied{false};
    TrajectoryView<Env> view(int8_t* grid) const {
      return {obs.get(), reward.get(), terminated.get(), truncated.get(), actions.get(), grid};
    }
  };
  // The double buffer, allocated as a whole: a failure in any allocation leaves the old pair.
  // cap = chunk steps x envs; grid_bytes: multi-agent observation grids, one per env, shared by both
  // buffers (their chunks run one after the other on stream_).
  struct TrajectoryPair {
    TrajectoryPair(size_t cap, size_t agents, size_t grid_bytes)
        : buffers{TrajectoryBuffers(cap * agents), TrajectoryBuffers(cap * agents)}, grid(grid_bytes), capacity(cap) {}
    TrajectoryBuffers buffers[2];
    DeviceBuffer<int8_t> grid;
    size_t capacity;
  };

  // The step API's device buffers and their pinned staging twins, allocated as a whole on first use
  // (throughput runs never pay for them).
  struct StepSet {
    // n envs of r rows each (multi-agent envs: one row per agent); grid_bytes: multi-agent observation
    // grids, one per env.
    StepSet(size_t n, size_t r, size_t obs_n, size_t info_n, bool same_step, size_t grid_bytes)
        : actions(r),
          obs(obs_n),
          final_obs(same_step ? obs_n : 0),
          reward(r),
          terminated(r),
          truncated(r),
          has_final(same_step ? r : 0),
          mask(n),
          info(info_n),
          final_info(same_step ? info_n : 0),
          grid(grid_bytes),
          env_seeds(n),
          staging_actions(r),
          staging_obs(obs_n),
          staging_final_obs(same_step ? obs_n : 0),
          staging_reward(r),
          staging_flags(std::max(n, r)),  // reset masks (per env) and flags (per row)
          staging_flags2(r),
          staging_has_final(same_step ? r : 0),
          staging_seeds(n),
          staging_info(info_n),
          staging_final_info(same_step ? info_n : 0) {}
    DeviceBuffer<Action> actions;
    DeviceBuffer<Obs> obs, final_obs;
    DeviceBuffer<Real> reward;
    DeviceBuffer<uint8_t> terminated, truncated, has_final, mask;
    DeviceBuffer<double> info, final_info;
    DeviceBuffer<int8_t> grid;  // multi-agent envs: Env::kGridCells bytes per env
    DeviceBuffer<uint64_t> env_seeds;
    PinnedBuffer<Action> staging_actions;
    PinnedBuffer<Obs> staging_obs, staging_final_obs;
    PinnedBuffer<Real> staging_reward;
    PinnedBuffer<uint8_t> staging_flags, staging_flags2, staging_has_final;
    PinnedBuffer<uint64_t> staging_seeds;
    PinnedBuffer<double> staging_info, staging_final_info;
  };

  // What this simulator holds on the device apart from step and trajectory buffers.
  uint64_t engine_bytes() const {
    return state_.bytes() + elapsed_.bytes() + episode_return_.bytes() + needs_reset_.bytes() + block_stats_.bytes() +
           reduce_temp_.bytes();
  }

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

  void ensure_step_buffers() {
    if (step_) return;
    MemoryRequest req;
    req.env = info_;
    req.num_envs = num_envs();
    req.mode = OutputMode::kStepApi;
    req.device = Device::kCuda;
    req.autoreset = config_.autoreset;
    // The plan counts this simulator's engine again: add back what it holds.
    req.free_bytes = device_free_bytes() + engine_bytes();
    req.host_free_bytes = host_free_bytes();
    const MemoryPlan plan = plan_memory(req);
    if (!plan.fits()) {
      throw ConfigError("step API, num_envs " + std::to_string(num_envs()) + " on " + device_label() + ": " +
                        describe_shortfall(req, plan));
    }
    size_t grid_bytes = 0;
    if constexpr (kMultiAgent<Env>) grid_bytes = static_cast<size_t>(num_envs()) * Env::kGridCells;
    auto fresh = std::make_unique<StepSet>(static_cast<size_t>(num_envs()), rows(), obs_count(), info_count(),
                                           config_.autoreset == AutoresetMode::kSameStep, grid_bytes);
    // The observation grids start zero and the env leaves them zero.
    if (grid_bytes > 0) SIMKIT_CUDA_CHECK(cudaMemsetAsync(fresh->grid.get(), 0, grid_bytes, stream_.get()));
    step_ = std::move(fresh);
  }

  // Trajectory buffers for `cap` = chunk x envs entries, checked against free device and host memory
  // first. The new pair is allocated while the old one is held (the grow peak the plan counts) and
  // replaces it only when every allocation succeeded.
  void reserve_trajectory(int64_t chunk_steps) {
    const size_t cap = static_cast<size_t>(chunk_steps) * static_cast<size_t>(num_envs());
    const size_t held = traj_ ? traj_->capacity : 0;
    if (cap <= held) return;
    MemoryRequest req;
    req.env = info_;
    req.num_envs = num_envs();
    req.chunk = static_cast<int>(chunk_steps);
    req.held_chunk = static_cast<int>(held / static_cast<size_t>(num_envs()));
    req.mode = OutputMode::kTrajectory;
    req.device = Device::kCuda;
    // The plan counts this simulator's engine and held pair again: add back what it holds.
    const uint64_t held_bytes = 2 * held * trajectory_step_bytes(info_) + (traj_ ? traj_->grid.bytes() : 0);
    req.free_bytes = device_free_bytes() + engine_bytes() + held_bytes;
    req.host_free_bytes = host_free_bytes() + held_bytes;
    const MemoryPlan plan = plan_memory(req);
    if (!plan.fits()) {
      throw ConfigError("trajectory mode, chunk " + std::to_string(chunk_steps) + ", num_envs " +
                        std::to_string(num_envs()) + " on " + device_label() + ": " + describe_shortfall(req, plan));
    }
    size_t grid_bytes = 0;
    if constexpr (kMultiAgent<Env>) grid_bytes = static_cast<size_t>(num_envs()) * Env::kGridCells;
    auto fresh = std::make_unique<TrajectoryPair>(cap, static_cast<size_t>(agents_), grid_bytes);
    // The observation grids start zero and the env leaves them zero.
    if (grid_bytes > 0) SIMKIT_CUDA_CHECK(cudaMemsetAsync(fresh->grid.get(), 0, grid_bytes, stream_.get()));
    traj_ = std::move(fresh);
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
    const size_t count = static_cast<size_t>(k_steps) * static_cast<size_t>(num_envs()) * static_cast<size_t>(agents_);
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
    c.num_agents = agents_;
    c.obs = b.host_obs.get();
    c.reward = b.host_reward.get();
    c.terminated = b.host_terminated.get();
    c.truncated = b.host_truncated.get();
    c.actions = b.host_actions.get();
    if (on_chunk) on_chunk(c);
  }

  RolloutStats run(uint64_t steps, int chunk, const TrajectoryCallback* on_chunk) {
    const int64_t n = num_envs();
    const uint64_t chunk_u = static_cast<uint64_t>(chunk);
    SIMKIT_CUDA_CHECK(cudaMemsetAsync(block_stats_.get(), 0, block_stats_.bytes(), stream_.get()));
    start_.record(stream_);
    try {
      uint64_t prev_t0 = 0;
      int prev_steps = 0;
      int index = 0;
      for (uint64_t done = 0; done < steps; ++index) {
        const uint64_t t0 = t_ + done;
        // Chunks end at multiples of 2^32 steps (the kernel's 32-bit step counter); chunking does
        // not change results.
        const uint64_t to_boundary = (uint64_t{1} << 32) - (t0 & 0xFFFFFFFF);
        const int k_steps = static_cast<int>(std::min({chunk_u, steps - done, to_boundary}));
        done += static_cast<uint64_t>(k_steps);
        if (!on_chunk) {
          launch_chunk(t0, k_steps, nullptr);
          continue;
        }
        // Double buffering: chunk `index` fills buffer index % 2 while the copy of the previous chunk
        // (other buffer) runs on copy_stream_ and the host hands it to the callback. Buffer index % 2
        // was last read by the copy of chunk index - 2, which deliver() already waited for.
        TrajectoryBuffers& b = traj_->buffers[index % 2];
        const TrajectoryView<Env> view = b.view(traj_->grid.get());
        launch_chunk(t0, k_steps, &view);
        queue_trajectory_copy(b, k_steps);
        if (index > 0) deliver(traj_->buffers[(index + 1) % 2], prev_t0, prev_steps, *on_chunk);
        prev_t0 = t0;
        prev_steps = k_steps;
      }
      stop_.record(stream_);
      SIMKIT_CUDA_CHECK(cub::DeviceReduce::Reduce(reduce_temp_.get(), reduce_temp_bytes_, block_stats_.get(),
                                                  total_.get(), static_cast<int64_t>(block_stats_.size()), AddStats{},
                                                  EpisodeStats{}, stream_.get()));
      SIMKIT_CUDA_CHECK_LAUNCH(stream_.get());
      copy_to_host(total_host_.get(), total_.get(), 1, stream_);
      if (on_chunk && steps > 0) deliver(traj_->buffers[(index + 1) % 2], prev_t0, prev_steps, *on_chunk);
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
  int device_id_ = current_device();
  bool obs_written_ = false, step_written_ = false;  // which step buffers a kernel has written

  Stream stream_;       // all work of this simulator
  Stream copy_stream_;  // trajectory D2H copies, overlapping the next chunk
  Event start_, stop_;  // rollout timing on stream_
  Event written_{false};  // after the last kernel that wrote the step buffers
  DeviceBuffer<unsigned char> state_;  // StateColumns of num_envs envs
  DeviceBuffer<uint32_t> elapsed_;
  DeviceBuffer<Real> episode_return_;
  DeviceBuffer<uint8_t> needs_reset_;
  DeviceBuffer<EpisodeStats> block_stats_;  // one entry per block, summed over a rollout's chunks
  DeviceBuffer<EpisodeStats> total_;
  DeviceBuffer<unsigned char> reduce_temp_;
  size_t reduce_temp_bytes_ = 0;  // from CUB's size query, made once in the constructor
  PinnedBuffer<EpisodeStats> total_host_;
  std::unique_ptr<TrajectoryPair> traj_;
  std::unique_ptr<StepSet> step_;
};

}  // namespace simkit::cuda
