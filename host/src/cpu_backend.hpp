// SPDX-License-Identifier: Apache-2.0
// The CPU backend: OpenMP threads over tiles of envs; inside a tile, `omp simd` loops step every env
// of the tile one step at a time, so the compiler vectorizes across envs, and the tile's state stays
// in L1/L2 for the whole chunk. Ended episodes are reset in a scalar pass after each step.
#pragma once

#include <omp.h>

#include <algorithm>
#include <cstring>
#include <type_traits>
#include <vector>

#include "simkit/registry.hpp"
#include "simkit/state_io.hpp"

namespace simkit::cpu {

// Envs per tile: big enough for long vector loops, small enough that a tile's state, counters and
// policy words stay in the 48 KiB L1 of the machines we measured (see results/).
constexpr int kTile = 512;

int resolve_threads(int requested);
void check_batch_size(const EnvInfo& info, int64_t num_envs);

// A tile's env states as structure of arrays: field k of lane l in column k. Envs keep their state as
// plain structs; columns turn the per-field accesses of the step loop into unit-stride vector loads.
template <class Env>
class SoaTile {
 public:
  using State = typename Env::State;

  State load(int l) const {
    State s;
    size_t offset = 0;
    Env::visit_state(s, [&](const char*, auto& field) {
      using T = std::remove_reference_t<decltype(field)>;
      field = reinterpret_cast<const T*>(bytes_ + offset)[l];
      offset += sizeof(T) * kTile;
    });
    return s;
  }
  void store(int l, const State& s) {
    size_t offset = 0;
    Env::visit_state(s, [&](const char*, const auto& field) {
      using T = std::remove_cv_t<std::remove_reference_t<decltype(field)>>;
      reinterpret_cast<T*>(bytes_ + offset)[l] = field;
      offset += sizeof(T) * kTile;
    });
  }

 private:
  alignas(64) unsigned char bytes_[sizeof(State) * kTile];
};

// Runs `steps` steps of the random policy on envs [begin, begin + count) from batch step t0. The
// tile's state is transposed into columns once per chunk and stays in L1 for the whole chunk.
// `tile` is the calling thread's, on the heap: gcc does not vectorize through a stack or TLS tile.
//
// The step loop is vectorized by gcc's loop vectorizer (`GCC ivdep`), not `omp simd`: omp simd
// privatizes the loop's State local into an array of structs that gcc 12 then cannot vectorize.
// Ended episodes are counted and reset in a scalar pass over the lanes that ended, which also keeps
// floating-point reductions out of the vector loop.
template <class Env>
void run_tile(const typename Env::Params& p, const EngineParams& e, const BatchView<Env>& v, uint32_t first_env,
              int64_t begin, int count, uint64_t t0, uint64_t steps, SoaTile<Env>& tile, EpisodeStats& stats) {
  using Real = typename Env::Real;
  using Policy = RandomPolicy<Env>;
  alignas(64) uint32_t words[4][kTile];
  alignas(64) uint8_t done[kTile];
  alignas(64) int32_t ended_lanes[kTile];
  typename Env::State* __restrict state = v.state + begin;
  uint32_t* __restrict elapsed = v.elapsed + begin;
  Real* __restrict ret = v.episode_return + begin;
  const uint32_t env0 = first_env + static_cast<uint32_t>(begin);
  const typename Env::Params params = p;  // a local copy: loads from it need no alias analysis
  const EngineParams engine = e;

  for (int l = 0; l < count; ++l) tile.store(l, state[l]);
  for (uint64_t k = 0; k < steps; ++k) {
    const uint64_t t = t0 + k;
    if (k == 0 || t % Policy::kStepsPerBlock == 0) {
      // Two loops rather than seed_for() inside one: a conditional load keeps gcc from vectorizing.
      const auto draw = [&](auto seed_of) {
#pragma GCC ivdep
        for (int l = 0; l < count; ++l) {
          const Words4 w = Policy::draw(seed_of(l), env0 + l, t);
          words[0][l] = w.w[0];
          words[1][l] = w.w[1];
          words[2][l] = w.w[2];
          words[3][l] = w.w[3];
        }
      };
      if (engine.env_seeds) {
        draw([&](int l) { return engine.env_seeds[env0 + l]; });
      } else {
        draw([&](int) { return engine.seed; });
      }
    }
    uint32_t ended = 0;
    const uint32_t* __restrict word = words[Policy::word_index(t)];
#pragma GCC ivdep
    for (int l = 0; l < count; ++l) {
      typename Env::State s = tile.load(l);
      const auto o =
          step_one<Env>(params, engine, env0 + l, t, s, elapsed[l], ret[l], Policy::action_from_word(word[l], t));
      tile.store(l, s);
      done[l] = o.done();
      ended += o.done();
    }
    if (ended == 0) continue;
    // The lanes that ended (about 1 in 20 for CartPole), in lane order; then their statistics and
    // resets in a loop over that list, which gcc vectorizes with gathers and scatters.
    int m = 0;
    for (int l = 0; l < count; ++l) {
      ended_lanes[m] = l;
      m += done[l];
    }
    for (int j = 0; j < m; ++j) count_episode(stats, true, elapsed[ended_lanes[j]], ret[ended_lanes[j]]);
#pragma GCC ivdep
    for (int j = 0; j < m; ++j) {
      const int l = ended_lanes[j];
      typename Env::State s;
      reset_one<Env>(params, engine, env0 + l, t + 1, s, elapsed[l], ret[l]);
      tile.store(l, s);
    }
  }
  for (int l = 0; l < count; ++l) state[l] = tile.load(l);
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
  {
    const auto tile = std::make_unique<SoaTile<Env>>();
    for (uint64_t done = 0; done < steps; done += static_cast<uint64_t>(chunk)) {
      const uint64_t k = std::min<uint64_t>(static_cast<uint64_t>(chunk), steps - done);
#pragma omp for schedule(static)
      for (int64_t tile_index = 0; tile_index < tiles; ++tile_index) {
        const int64_t begin = tile_index * kTile;
        run_tile<Env>(params_, engine_, view, first_env(), begin, static_cast<int>(std::min<int64_t>(kTile, n - begin)),
                      t0 + done, k, *tile, tile_stats[static_cast<size_t>(tile_index)]);
      }
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
      // seed_for() indexes by global env index; this batch's envs start at env_offset.
      engine_.env_seeds = env_seeds_.data() - config_.env_offset;
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
    validate_actions<Env>(a, num_envs());
    const BatchView<Env> v = batch_view();
    Obs* obs = static_cast<Obs*>(out.obs);
    Obs* final_obs = static_cast<Obs*>(out.final_obs);
    Real* reward = static_cast<Real*>(out.reward);
    const uint64_t t = t_;
    const int64_t n_info = static_cast<int64_t>(info_.info_fields.size());
    double* info = out.info;
    if (kHasInfo<Env> && !info) {  // the env writes its info fields on every step
      info_scratch_.resize(static_cast<size_t>(num_envs() * n_info));
      info = info_scratch_.data();
    }
    const typename Env::Params params = params_;  // locals: loads from them need no alias analysis
    const EngineParams engine = engine_;
    const int64_t n = num_envs();
    const int64_t blocks = (n + kTile - 1) / kTile;
    uint8_t* terminated = out.terminated;
    uint8_t* truncated = out.truncated;
    uint8_t* has_final = out.has_final;
    uint8_t* needs_reset = needs_reset_.data();
    const uint32_t env0 = first_env();
    with_autoreset_mode(config_.autoreset, [&](auto mode_tag) {
      constexpr AutoresetMode kMode = decltype(mode_tag)::value;
      constexpr bool kSameStep = kMode == AutoresetMode::kSameStep;
      // Per block of envs: the transition for every env (vectorized), then the resets one by one.
#pragma omp parallel for num_threads(threads_) schedule(static) if (n >= 4096)
      for (int64_t block = 0; block < blocks; ++block) {
        const int64_t begin = block * kTile, end = std::min(n, begin + kTile);
        alignas(64) uint8_t finish[kTile];
        // Block-local copies: read through the OpenMP closure, these pointers would be reloaded per env.
        Obs* const o = obs;
        Obs* const fo = final_obs;
        Real* const r = reward;
        uint8_t *const te = terminated, *const tr = truncated, *const hf = has_final, *const nr = needs_reset;
        double* const in = info;
        const Action* const act = a;
        typename Env::State* const st = v.state;
        uint32_t* const el = v.elapsed;
        Real* const ret = v.episode_return;
        const auto slot = [&](int64_t i) {
          return StepSlot<Env>{o + i * Env::kObsDim, r + i, te + i, tr + i, kSameStep ? fo + i * Env::kObsDim : nullptr,
                               kSameStep ? hf + i : nullptr, kHasInfo<Env> ? in + i * n_info : nullptr};
        };
#pragma GCC ivdep
        for (int64_t i = begin; i < end; ++i) {
          finish[i - begin] = api_step_transition<Env, kMode>(params, engine, env0 + static_cast<uint32_t>(i), t,
                                                              st[i], el[i], ret[i], nr[i], act[i], slot(i));
        }
        for (int64_t i = begin; i < end; ++i) {
          if (finish[i - begin]) {
            api_step_finish<Env, kMode>(params, engine, env0 + static_cast<uint32_t>(i), t, st[i], el[i], ret[i],
                                        slot(i));
          }
        }
      }
    });
    t_ += 1;
  }

  void set_params(const std::map<std::string, double>& params) override {
    std::map<std::string, double> merged = config_.params;
    for (const auto& [name, value] : params) merged[name] = value;
    params_ = make_params<Env>(merged);  // validates every name before anything changes
    config_.params = std::move(merged);
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
  std::vector<double> info_scratch_;  // info values when the caller asks for none
};

std::string cpu_device_name(int threads);

template <class Env>
std::string CpuSimulator<Env>::device_name() const {
  return cpu_device_name(threads_);
}

}  // namespace simkit::cpu
