// SPDX-License-Identifier: Apache-2.0
#include "simkit/qlearning.hpp"

#include <algorithm>
#include <cstring>
#include <fstream>

#include "simkit/devices.hpp"
#include "simkit/planner.hpp"
#include "simkit/simulator.hpp"

namespace simkit::qlearning {

namespace {
// Rates and factors are fractions; NaN fails the test too.
void check_fraction(const char* name, float v) {
  if (!(v >= 0.0f && v <= 1.0f)) {
    throw ConfigError(std::string(name) + " must be in [0, 1] (got " + std::to_string(v) + ")");
  }
}
}  // namespace

namespace {
Config with_total(Config c) {
  if (c.total_envs == 0) c.total_envs = c.num_envs;
  return c;
}
}  // namespace

Trainer::Trainer(const Config& c)
    : config_(with_total(c)), threads_(cpu::resolve_threads(c.threads)), epsilon_(c.epsilon), alpha_(c.alpha),
      q_(static_cast<size_t>(kStates) * kActions, 0.0f) {
  if (c.num_envs <= 0 || c.num_envs >= (int64_t{1} << 32)) {
    throw ConfigError("num_envs must be in [1, 2^32) (got " + std::to_string(c.num_envs) + ")");
  }
  if (c.env_offset < 0 || c.env_offset + c.num_envs > config_.total_envs || config_.total_envs >= (int64_t{1} << 32)) {
    throw ConfigError("env slice [" + std::to_string(c.env_offset) + ", " + std::to_string(c.env_offset + c.num_envs) +
                      ") must lie in [0, total_envs " + std::to_string(config_.total_envs) + " < 2^32)");
  }
  check_fraction("gamma", c.gamma);
  check_fraction("alpha", c.alpha);
  check_fraction("alpha_decay", c.alpha_decay);
  check_fraction("alpha_min", c.alpha_min);
  check_fraction("epsilon", c.epsilon);
  check_fraction("epsilon_decay", c.epsilon_decay);
  check_fraction("epsilon_min", c.epsilon_min);
  // Per env, its board and its transition of the round; beyond that only the table (708 kB).
  const uint64_t per_env = sizeof(Env::State) + sizeof(Experience);
  const uint64_t needed = per_env * static_cast<uint64_t>(c.num_envs) + q_.size() * sizeof(float);
  const uint64_t free = host_free_bytes();
  const uint64_t usable = free / 10 * 9;  // the planner's margin
  if (needed > usable) {
    throw ConfigError("num_envs=" + std::to_string(c.num_envs) + ": needs " + format_bytes(needed) + " (" +
                      std::to_string(per_env) + " bytes x " + std::to_string(c.num_envs) + " envs + the table) but " +
                      format_bytes(usable) + " are usable (" + std::to_string(free) + " bytes free, 90%)");
  }
  state_.resize(static_cast<size_t>(c.num_envs));
  experience_.resize(static_cast<size_t>(c.num_envs));
  const Env::Params p{};
  for (int64_t i = 0; i < c.num_envs; ++i) {
    RandomStream<float> rng(Seeds{c.seed}, static_cast<uint32_t>(c.env_offset + i), Stream::kReset, 0);
    Env::reset(p, state_[static_cast<size_t>(i)], rng);
  }
}

void Trainer::train(uint64_t rounds) {
  const int64_t n = config_.num_envs;
  const uint32_t first_env = static_cast<uint32_t>(config_.env_offset);
  for (uint64_t k = 0; k < rounds; ++k) {
    const RoundParams rp{config_.seed, round_, epsilon_};
    const float* q = q_.data();
#pragma omp parallel for num_threads(threads_) schedule(static) if (n >= 1024)
    for (int64_t i = 0; i < n; ++i) act_one(q, rp, first_env + static_cast<uint32_t>(i), state_[i], experience_[i]);
    if (exchange_) exchange_(experience_, all_experience_);
    for (const Experience& e : exchange_ ? all_experience_ : experience_) apply_update(q_.data(), e, alpha_, config_.gamma);
    round_ += 1;
    epsilon_ = std::max(config_.epsilon_min, epsilon_ * config_.epsilon_decay);
    alpha_ = std::max(config_.alpha_min, alpha_ * config_.alpha_decay);
  }
}

Evaluation Trainer::evaluate_games(int64_t first, int64_t games, uint64_t seed) const {
  if (games < 0 || first < 0 || first + games >= kMaxEnvs || (first == 0 && games == 0)) {  // one game per 32-bit env index
    throw ConfigError("games must be in [1, 2^32) (got " + std::to_string(first + games) + ")");
  }
  int64_t wins = 0, draws = 0, losses = 0;
  const float* q = q_.data();
#pragma omp parallel for num_threads(threads_) schedule(static) reduction(+ : wins, draws, losses)
  for (int64_t g = first; g < first + games; ++g) {
    const Env::Params p{};
    const uint32_t env = static_cast<uint32_t>(g);
    Env::State s;
    const Seeds seeds{seed};
    RandomStream<float> reset_rng(seeds, env, Stream::kReset, 0);
    Env::reset(p, s, reset_rng);
    for (uint64_t t = 1; t <= 5; ++t) {  // the agent moves at most 5 times
      RandomStream<float> agent(seeds, env, Stream::kAgent, t);
      RandomStream<float> env_rng(seeds, env, Stream::kStep, t);
      const int a = greedy_action(q + state_index(s) * kActions, Env::legal_mask(s), agent);
      const Transition<float> tr = Env::step(p, s, a, env_rng);
      if (tr.terminated) {
        wins += tr.reward > 0 ? 1 : 0;
        losses += tr.reward < 0 ? 1 : 0;
        draws += tr.reward == 0 ? 1 : 0;
        break;
      }
    }
  }
  return {games, wins, draws, losses};
}

void Trainer::set_table(std::vector<float> q) {
  if (q.size() != q_.size()) {
    throw ConfigError("Q table must have " + std::to_string(q_.size()) + " entries (got " + std::to_string(q.size()) + ")");
  }
  q_ = std::move(q);
}

namespace {
const char kMagic[] = "\x93NUMPY";
const std::string kShape = "(" + std::to_string(kStates) + ", " + std::to_string(kActions) + ")";
}  // namespace

void save_npy(const std::string& path, const std::vector<float>& q) {
  if (q.size() != static_cast<size_t>(kStates) * kActions) throw ConfigError("Q table has the wrong size");
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': " + kShape + ", }";
  const size_t unpadded = 6 + 2 + 2 + header.size() + 1;  // magic, version, length, header, '\n'
  header.append((64 - unpadded % 64) % 64, ' ');
  header += '\n';
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw ConfigError("cannot write '" + path + "'");
  const uint16_t len = static_cast<uint16_t>(header.size());
  const unsigned char version_and_len[4] = {1, 0, static_cast<unsigned char>(len & 0xFF), static_cast<unsigned char>(len >> 8)};
  out.write(kMagic, 6);
  out.write(reinterpret_cast<const char*>(version_and_len), 4);
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  out.write(reinterpret_cast<const char*>(q.data()), static_cast<std::streamsize>(q.size() * sizeof(float)));
  if (!out) throw ConfigError("failed writing '" + path + "'");
}

std::vector<float> load_npy(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError("cannot read '" + path + "'");
  char magic[6];
  unsigned char version_and_len[4];
  in.read(magic, 6);
  in.read(reinterpret_cast<char*>(version_and_len), 4);
  if (!in || std::memcmp(magic, kMagic, 6) != 0 || version_and_len[0] != 1) {
    throw ConfigError("'" + path + "' is not a version 1 .npy file");
  }
  std::string header(static_cast<size_t>(version_and_len[2] | (version_and_len[3] << 8)), ' ');
  in.read(header.data(), static_cast<std::streamsize>(header.size()));
  const bool f4 = header.find("'descr': '<f4'") != std::string::npos;
  const bool f8 = header.find("'descr': '<f8'") != std::string::npos;
  if (!in || !(f4 || f8) || header.find("'fortran_order': False") == std::string::npos ||
      header.find("'shape': " + kShape) == std::string::npos) {
    throw ConfigError("'" + path + "' must hold a C-order float32 or float64 array of shape " + kShape);
  }
  std::vector<float> q(static_cast<size_t>(kStates) * kActions);
  if (f4) {
    in.read(reinterpret_cast<char*>(q.data()), static_cast<std::streamsize>(q.size() * sizeof(float)));
  } else {
    std::vector<double> d(q.size());
    in.read(reinterpret_cast<char*>(d.data()), static_cast<std::streamsize>(d.size() * sizeof(double)));
    std::copy(d.begin(), d.end(), q.begin());
  }
  if (!in) throw ConfigError("'" + path + "' is shorter than its header says");
  return q;
}

}  // namespace simkit::qlearning
