// SPDX-License-Identifier: Apache-2.0
// The CPU backend: OpenMP threads over tiles of envs; inside a tile, `omp simd` loops step every env
// of the tile one step at a time, so the compiler vectorizes across envs, and the tile's state stays
// in L1/L2 for the whole chunk. Ended episodes are reset in a scalar pass after each step.
#pragma once

#include <omp.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "simkit/registry.hpp"
#include "simkit/state_io.hpp"

namespace simkit::cpu {

// Envs per tile: big enough for long vector loops, small enough that a tile's state, counters and
// policy words stay in the 48 KiB L1 of the machines we measured (see results/).
constexpr int kTile = 512;

int resolve_threads(int requested);
void check_batch_size(const EnvInfo& info, int64_t num_envs);

// Runs `steps` steps of the random policy on envs [begin, begin + count) from batch step t0.
template <class Env>
void run_tile(const typename Env::Params& p, const EngineParams& e, const BatchView<Env>& v, uint32_t first_env,
              int64_t begin, int count, uint64_t t0, uint64_t steps, EpisodeStats& stats) {
  using Real = typename Env::Real;
  using Policy = RandomPolicy<Env>;
  alignas(64) uint32_t words[4][kTile];
  alignas(64) uint8_t done[kTile];
  typename Env::State* __restrict state = v.state + begin;
  uint32_t* __restrict elapsed = v.elapsed + begin;
  Real* __restrict ret = v.episode_return + begin;
  const uint32_t env0 = first_env + static_cast<uint32_t>(begin);

  for (uint64_t k = 0; k < steps; ++k) {
    const uint64_t t = t0 + k;
    if (k == 0 || t % Policy::kStepsPerBlock == 0) {
#pragma omp simd
      for (int l = 0; l < count; ++l) {
        const Words4 w = Policy::draw(e.seed_for(env0 + l), env0 + l, t);
        words[0][l] = w.w[0];
        words[1][l] = w.w[1];
        words[2][l] = w.w[2];
        words[3][l] = w.w[3];
      }
    }
    uint64_t episodes = 0, length_sum = 0;
    double return_sum = 0;
#pragma omp simd reduction(+ : episodes, length_sum, return_sum)
    for (int l = 0; l < count; ++l) {
      const Words4 w{{words[0][l], words[1][l], words[2][l], words[3][l]}};
      const auto o = step_one<Env>(p, e, env0 + l, t, state[l], elapsed[l], ret[l], Policy::action(w, t));
      const bool d = o.done();
      done[l] = d;
      episodes += d ? 1 : 0;
      length_sum += d ? elapsed[l] : 0;
      return_sum += d ? static_cast<double>(ret[l]) : 0.0;
    }
    stats.episodes += episodes;
    stats.length_sum += length_sum;
    stats.return_sum += return_sum;
    if (episodes == 0) continue;
    // Scan 8 lanes per load; only ended lanes (about 1 in 20 for CartPole) pay for a reset.
    for (int l = 0; l < count; l += 8) {
      uint64_t eight = 0;
      std::memcpy(&eight, done + l, std::min(8, count - l));
      for (int j = 0; eight != 0; ++j, eight >>= 8) {
        if (eight & 0xFF) reset_one<Env>(p, e, env0 + l + j, t + 1, state[l + j], elapsed[l + j], ret[l + j]);
      }
    }
  }
}

template <class Env>
class CpuSimulator final : public Simulator {
 public:
  using Real = typename Env::Real;
  using State = typename Env::State;
  using Obs = typename Env::Obs;
  using Action = typename Env::Action;

  explicit CpuSimulator(const SimConfig& c)
      : config_(c), info_(make_env_info<Env>()), params_(make_params<Env>(c.params)),
        engine_(make_engine_params<Env>(c)), threads_(resolve_threads(c.threads)) {
    check_batch_size(info_, c.num_envs);
    const size_t n = static_cast<size_t>(c.num_envs);
    state_.resize(n);
    elapsed_.resize(n);
    episode_return_.resize(n);
    needs_reset_.assign(n, 0);
    parallel_for([&](int64_t i) { reset_env(i); });
  }

  const EnvInfo& info() const override { return info_; }
  const SimConfig& config() const override { return config_; }
  std::string device_name() const override;

  RolloutStats rollout(uint64_t steps, int chunk) override {
    check_chunk(chunk);
    const int64_t n = num_envs();
    apply_pending_resets();
    const int64_t tiles = (n + kTile - 1) / kTile;
    std::vector<EpisodeStats> tile_stats(static_cast<size_t>(tiles));
    const BatchView<Env> view = batch_view();
    const uint64_t t0 = t_;
#pragma omp parallel num_threads(threads_)
    for (uint64_t done = 0; done < steps; done += static_cast<uint64_t>(chunk)) {
      const uint64_t k = std::min<uint64_t>(static_cast<uint64_t>(chunk), steps - done);
#pragma omp for schedule(static)
      for (int64_t tile = 0; tile < tiles; ++tile) {
        const int64_t begin = tile * kTile;
        run_tile<Env>(params_, engine_, view, first_env(), begin, static_cast<int>(std::min<int64_t>(kTile, n - begin)),
                      t0 + done, k, tile_stats[static_cast<size_t>(tile)]);
      }
    }
    t_ += steps;
    RolloutStats out;
    out.steps = steps * static_cast<uint64_t>(n);
    for (const auto& s : tile_stats) out.episodes.add(s);  // tile order: independent of threads
    return out;
  }

  // Plain scalar code, written for clarity rather than speed: the reference the CUDA trajectory
  // mode is compared with. Per env and step: observe, policy action, step_one, record, count, and
  // reset_one at t + 1 when the episode ended -- the same sequence as run_tile.
  RolloutStats rollout_trajectory(uint64_t steps, int chunk, const TrajectoryCallback& on_chunk) override {
    check_chunk(chunk);
    using Policy = RandomPolicy<Env>;
    const int64_t n = num_envs();
    apply_pending_resets();
    const size_t cap = static_cast<size_t>(std::min<uint64_t>(static_cast<uint64_t>(chunk), steps)) * static_cast<size_t>(n);
    std::vector<Obs> obs(cap * Env::kObsDim);
    std::vector<Real> reward(cap);
    std::vector<uint8_t> terminated(cap), truncated(cap);
    std::vector<Action> actions(cap);
    const int64_t tiles = (n + kTile - 1) / kTile;
    std::vector<EpisodeStats> tile_stats(static_cast<size_t>(tiles));
    for (uint64_t done = 0; done < steps; done += static_cast<uint64_t>(chunk)) {
      const int k_steps = static_cast<int>(std::min<uint64_t>(static_cast<uint64_t>(chunk), steps - done));
      const uint64_t t0 = t_ + done;
#pragma omp parallel for num_threads(threads_) schedule(static)
      for (int64_t tile = 0; tile < tiles; ++tile) {
        EpisodeStats& stats = tile_stats[static_cast<size_t>(tile)];
        const int64_t end = std::min<int64_t>(n, (tile + 1) * kTile);
        for (int k = 0; k < k_steps; ++k) {
          const uint64_t t = t0 + static_cast<uint64_t>(k);
          for (int64_t i = tile * kTile; i < end; ++i) {
            const size_t slot = static_cast<size_t>(k) * static_cast<size_t>(n) + static_cast<size_t>(i);
            const uint32_t env = env_index(i);
            const Action a = Policy::action(Policy::draw(engine_.seed_for(env), env, t), t);
            Env::observe(params_, state_[i], obs.data() + slot * Env::kObsDim);
            const auto o = step_one<Env>(params_, engine_, env, t, state_[i], elapsed_[i], episode_return_[i], a);
            reward[slot] = o.reward;
            terminated[slot] = o.terminated;
            truncated[slot] = o.truncated;
            actions[slot] = a;
            count_episode(stats, o.done(), elapsed_[i], episode_return_[i]);
            if (o.done()) reset_one<Env>(params_, engine_, env, t + 1, state_[i], elapsed_[i], episode_return_[i]);
          }
        }
      }
      TrajectoryChunk c;
      c.t0 = t0;
      c.steps = k_steps;
      c.num_envs = n;
      c.obs = obs.data();
      c.reward = reward.data();
      c.terminated = terminated.data();
      c.truncated = truncated.data();
      c.actions = actions.data();
      if (on_chunk) on_chunk(c);
    }
    t_ += steps;
    RolloutStats out;
    out.steps = steps * static_cast<uint64_t>(n);
    for (const auto& s : tile_stats) out.episodes.add(s);
    return out;
  }

  void reset(const std::vector<uint64_t>& seeds, const uint8_t* mask, void* obs) override {
    const int64_t n = num_envs();
    if (!seeds.empty() && seeds.size() != 1 && static_cast<int64_t>(seeds.size()) != n) {
      throw ConfigError("seed: expected one seed or num_envs=" + std::to_string(n) + " seeds, got " +
                        std::to_string(seeds.size()));
    }
    if (seeds.size() == 1) {
      engine_.seed = seeds[0];
      engine_.env_seeds = nullptr;
      t_ = 0;
    } else if (!seeds.empty()) {
      env_seeds_ = seeds;
      engine_.env_seeds = env_seeds_.data();
      t_ = 0;
    }
    Obs* o = static_cast<Obs*>(obs);
    parallel_for([&](int64_t i) {
      if (!mask || mask[i]) {
        reset_env(i);
        needs_reset_[i] = 0;
      }
      if (o) Env::observe(params_, state_[i], o + i * Env::kObsDim);
    });
    t_ += 1;  // two resets in a row draw different states
  }

  void step(const void* actions, const StepBuffers& out) override {
    const Action* a = static_cast<const Action*>(actions);
    validate_actions(a);
    const BatchView<Env> v = batch_view();
    Obs* obs = static_cast<Obs*>(out.obs);
    Obs* final_obs = static_cast<Obs*>(out.final_obs);
    Real* reward = static_cast<Real*>(out.reward);
    const AutoresetMode mode = config_.autoreset;
    const uint64_t t = t_;
    const int64_t n_info = static_cast<int64_t>(info_.info_fields.size());
    parallel_for([&](int64_t i) {
      const StepSlot<Env> slot{obs + i * Env::kObsDim, reward + i, out.terminated + i, out.truncated + i,
                               final_obs ? final_obs + i * Env::kObsDim : nullptr, out.has_final ? out.has_final + i : nullptr,
                               out.info ? out.info + i * n_info : nullptr};
      api_step_one<Env>(params_, engine_, mode, env_index(i), t, v.state[i], v.elapsed[i], v.episode_return[i],
                        needs_reset_[i], a[i], slot);
    });
    t_ += 1;
  }

  void get_state(double* out) const override { states_to_doubles<Env>(state_.data(), num_envs(), out); }
  void set_state(const double* in) override { doubles_to_states<Env>(in, num_envs(), state_.data()); }
  void get_elapsed(uint32_t* out) const override { std::copy(elapsed_.begin(), elapsed_.end(), out); }
  void set_elapsed(const uint32_t* in) override { std::copy(in, in + num_envs(), elapsed_.begin()); }

 private:
  int64_t num_envs() const { return config_.num_envs; }
  uint32_t first_env() const { return static_cast<uint32_t>(config_.env_offset); }
  uint32_t env_index(int64_t i) const { return first_env() + static_cast<uint32_t>(i); }
  BatchView<Env> batch_view() { return {state_.data(), elapsed_.data(), episode_return_.data()}; }
  void reset_env(int64_t i) {
    reset_one<Env>(params_, engine_, env_index(i), t_, state_[i], elapsed_[i], episode_return_[i]);
  }

  static void check_chunk(int chunk) {
    if (chunk < 1) throw ConfigError("chunk must be at least 1 (got " + std::to_string(chunk) + ")");
  }
  // Envs the step API left waiting for a reset (next_step mode) restart at the current clock.
  void apply_pending_resets() {
    parallel_for([&](int64_t i) {
      if (needs_reset_[i]) {
        reset_env(i);
        needs_reset_[i] = 0;
      }
    });
  }

  // Small batches stay on the calling thread: waking the pool costs more than the work.
  template <class F>
  void parallel_for(F&& f) {
    const int64_t n = num_envs();
#pragma omp parallel for num_threads(threads_) schedule(static) if (n >= 4096)
    for (int64_t i = 0; i < n; ++i) f(i);
  }

  void validate_actions(const Action* a) const {
    for (int64_t i = 0; i < num_envs(); ++i) {
      if constexpr (kDiscreteActions<Env>) {
        if (a[i] < 0 || a[i] >= Env::kNumActions) {
          throw ConfigError("actions[" + std::to_string(i) + "] = " + std::to_string(a[i]) + " is outside [0, " +
                            std::to_string(Env::kNumActions) + ")");
        }
      } else {
        if (!(a[i] >= Env::kActionLow && a[i] <= Env::kActionHigh)) {  // false for NaN
          throw ConfigError("actions[" + std::to_string(i) + "] = " + std::to_string(a[i]) + " is outside [" +
                            std::to_string(Env::kActionLow) + ", " + std::to_string(Env::kActionHigh) + "]");
        }
      }
    }
  }

  SimConfig config_;
  EnvInfo info_;
  typename Env::Params params_;
  EngineParams engine_;
  int threads_;
  uint64_t t_ = 0;  // the batch clock: index of the next step
  std::vector<State> state_;
  std::vector<uint32_t> elapsed_;
  std::vector<Real> episode_return_;
  std::vector<uint8_t> needs_reset_;
  std::vector<uint64_t> env_seeds_;
};

std::string cpu_device_name(int threads);

template <class Env>
std::string CpuSimulator<Env>::device_name() const {
  return cpu_device_name(threads_);
}

}  // namespace simkit::cpu
