// SPDX-License-Identifier: Apache-2.0
// The SIMD targets of the CPU kernels: every available target computes the same bits as the scalar
// reference for every env and precision (rollouts, trajectories and the step API in each autoreset
// mode); SIMKIT_SIMD picks a target or is a clear error; no code compiled for a wider ISA can be
// called by baseline code.
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <unistd.h>

#include "engine_env.hpp"
#include "simkit/system_info.hpp"

using namespace simkit;

namespace {

// Sets SIMKIT_SIMD for the lifetime of the object.
class ForcedTarget {
 public:
  explicit ForcedTarget(const std::string& target) {
    const char* old = std::getenv("SIMKIT_SIMD");
    if (old) old_ = old;
    had_ = old != nullptr;
    setenv("SIMKIT_SIMD", target.c_str(), 1);
  }
  ~ForcedTarget() {
    if (had_) setenv("SIMKIT_SIMD", old_.c_str(), 1);
    else unsetenv("SIMKIT_SIMD");
  }

 private:
  std::string old_;
  bool had_ = false;
};

struct Trace {
  std::vector<double> numbers;  // everything observable, in order
  uint64_t episodes = 0, length_sum = 0;
};

// A rollout with resets inside it, a trajectory rollout, then step-API calls with varied actions
// (continuous ones outside the Box too), all observable results appended.
Trace run(const std::string& id, Precision precision, AutoresetMode mode) {
  SimConfig c;
  c.env_id = id;
  c.precision = precision;
  c.num_envs = 1100;  // two full tiles and a partial one whose last vector is partial too
  c.seed = 99;
  c.threads = 2;
  c.max_episode_steps = 15;
  c.autoreset = mode;
  c.params = {{"num_agents", 3}};  // multi-agent envs only: others have no such parameter
  const bool multi_agent = describe_env(id, precision).num_agents > 1;
  if (!multi_agent) c.params.clear();
  auto sim = make_cpu_simulator(c);
  const EnvInfo& info = sim->info();
  Trace tr;
  const auto add_state = [&] {
    std::vector<double> s(static_cast<size_t>(c.num_envs) * info.state_fields.size());
    sim->get_state(s.data());
    tr.numbers.insert(tr.numbers.end(), s.begin(), s.end());
  };
  RolloutStats stats = sim->rollout(40, 7);
  tr.episodes += stats.episodes.episodes;
  tr.length_sum += stats.episodes.length_sum;
  tr.numbers.push_back(stats.episodes.return_sum);
  add_state();
  stats = sim->rollout_trajectory(9, 4, [&](const TrajectoryChunk& ch) {
    const size_t m = static_cast<size_t>(ch.steps) * static_cast<size_t>(ch.num_envs) * static_cast<size_t>(ch.num_agents);
    for (size_t k = 0; k < m; ++k) {
      tr.numbers.push_back(info.discrete ? static_cast<const int32_t*>(ch.actions)[k]
                                         : precision == Precision::kFloat32 ? static_cast<const float*>(ch.actions)[k]
                                                                            : static_cast<const double*>(ch.actions)[k]);
      tr.numbers.push_back(precision == Precision::kFloat32 ? static_cast<const float*>(ch.reward)[k]
                                                            : static_cast<const double*>(ch.reward)[k]);
      tr.numbers.push_back(ch.terminated[k] + 2 * ch.truncated[k]);
    }
    for (size_t k = 0; k < m * static_cast<size_t>(info.obs_dim); ++k) {
      tr.numbers.push_back(info.obs_dtype == "int8" ? static_cast<const int8_t*>(ch.obs)[k]
                                                    : static_cast<const float*>(ch.obs)[k]);
    }
  });
  tr.numbers.push_back(stats.episodes.return_sum);

  // Per-env seeds, then the step API.
  std::vector<uint64_t> seeds(static_cast<size_t>(c.num_envs));
  for (size_t i = 0; i < seeds.size(); ++i) seeds[i] = 1000 + 7 * i;
  const size_t n = static_cast<size_t>(c.num_envs) * static_cast<size_t>(info.num_agents);  // rows
  std::vector<unsigned char> obs(n * info.obs_bytes), reward(n * info.reward_bytes), final_obs(n * info.obs_bytes);
  std::vector<uint8_t> terminated(n), truncated(n), has_final(n);
  std::vector<double> infos(static_cast<size_t>(c.num_envs) * info.info_fields.size());
  sim->reset(seeds, nullptr, obs.data(), infos.empty() ? nullptr : infos.data());
  std::vector<unsigned char> actions(n * info.action_bytes);
  for (int k = 0; k < 30; ++k) {
    for (size_t i = 0; i < n; ++i) {
      const uint64_t h = (i * 2654435761u + static_cast<uint64_t>(k) * 40503u) >> 7;
      if (info.discrete) {
        reinterpret_cast<int32_t*>(actions.data())[i] = static_cast<int32_t>(h % static_cast<uint64_t>(info.num_actions));
      } else {
        const double a = (static_cast<double>(h % 1000) / 999.0 - 0.5) * 3 * info.action_high;  // beyond the Box too
        if (precision == Precision::kFloat32) reinterpret_cast<float*>(actions.data())[i] = static_cast<float>(a);
        else reinterpret_cast<double*>(actions.data())[i] = a;
      }
    }
    StepBuffers b;
    b.obs = obs.data();
    b.reward = reward.data();
    b.terminated = terminated.data();
    b.truncated = truncated.data();
    b.final_obs = mode == AutoresetMode::kSameStep ? final_obs.data() : nullptr;
    b.has_final = mode == AutoresetMode::kSameStep ? has_final.data() : nullptr;
    b.info = infos.empty() ? nullptr : infos.data();
    sim->step(actions.data(), b);
    for (size_t i = 0; i < n; ++i) {
      tr.numbers.push_back(precision == Precision::kFloat32 ? reinterpret_cast<const float*>(reward.data())[i]
                                                            : reinterpret_cast<const double*>(reward.data())[i]);
      tr.numbers.push_back(terminated[i] + 2 * truncated[i] + 4 * (mode == AutoresetMode::kSameStep ? has_final[i] : 0));
    }
    if (multi_agent) {
      // Every observation bit, folded (FNV-1a): 1100 worlds x 3 agents x 676 values per step.
      uint64_t h = 1469598103934665603ull;
      for (unsigned char byte : obs) h = (h ^ byte) * 1099511628211ull;
      tr.numbers.push_back(static_cast<double>(h >> 11));
    }
    for (size_t j = 0; !multi_agent && j < n * static_cast<size_t>(info.obs_dim); ++j) {
      tr.numbers.push_back(info.obs_dtype == "int8" ? reinterpret_cast<const int8_t*>(obs.data())[j]
                                                    : reinterpret_cast<const float*>(obs.data())[j]);
    }
    tr.numbers.insert(tr.numbers.end(), infos.begin(), infos.end());
  }
  add_state();
  return tr;
}

// Bitwise equality (NaN equals NaN with the same bits).
bool same_bits(const std::vector<double>& a, const std::vector<double>& b, size_t& first) {
  if (a.size() != b.size()) {
    first = std::min(a.size(), b.size());
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::memcmp(&a[i], &b[i], sizeof(double)) != 0) {
      first = i;
      return false;
    }
  }
  return true;
}

}  // namespace

TEST_CASE("every SIMD target computes the scalar reference's bits, for every env", "[simd][determinism]") {
  const std::vector<std::string> targets = available_simd_targets();
  REQUIRE(targets.front() == "scalar");
  for (const std::string& id : env_ids()) {
    for (const Precision precision : {Precision::kFloat32, Precision::kFloat64}) {
      for (const AutoresetMode mode : {AutoresetMode::kNextStep, AutoresetMode::kSameStep, AutoresetMode::kDisabled}) {
        Trace reference;
        {
          ForcedTarget scalar("scalar");
          reference = run(id, precision, mode);
        }
        for (size_t t = 1; t < targets.size(); ++t) {
          ForcedTarget forced(targets[t]);
          const Trace got = run(id, precision, mode);
          size_t first = 0;
          INFO(id << " " << to_string(precision) << " autoreset " << static_cast<int>(mode) << " target " << targets[t]);
          CHECK(got.episodes == reference.episodes);
          CHECK(got.length_sum == reference.length_sum);
          const bool same = same_bits(got.numbers, reference.numbers, first);
          INFO("first difference at number " << first << " of " << reference.numbers.size());
          CHECK(same);
        }
      }
    }
  }
}

TEST_CASE("SIMKIT_SIMD names a target or is an error listing the available ones", "[simd]") {
  for (const std::string& t : available_simd_targets()) {
    ForcedTarget forced(t);
    CHECK(selected_simd_target() == t);
    SimConfig c;
    c.num_envs = 10;
    CHECK(make_cpu_simulator(c)->simd_target() == t);
  }
  {
    ForcedTarget forced("sse9");
    CHECK_THROWS_WITH(selected_simd_target(),
                      Catch::Contains("SIMKIT_SIMD=sse9 is not a SIMD target") && Catch::Contains("available: scalar"));
    SimConfig c;
    CHECK_THROWS_AS(make_cpu_simulator(c), ConfigError);
  }
  for (const std::string t : {"avx2", "avx512", "neon"}) {
    const auto available = available_simd_targets();
    if (std::find(available.begin(), available.end(), t) != available.end()) continue;
    ForcedTarget forced(t);
    CHECK_THROWS_WITH(selected_simd_target(), Catch::Contains("SIMKIT_SIMD=" + t) && Catch::Contains("available:"));
  }
}

#if defined(__x86_64__)
TEST_CASE("no AVX code outside the SIMD targets' own functions", "[simd][isa]") {
  // A function compiled with AVX instructions in a kernel unit could be merged by the linker with
  // one of the same name from a baseline unit, and then run on a CPU without AVX. Every such
  // function must be one of a target's own: named with its Highway namespace (N_AVX2, N_AVX3) or
  // its kernel table (kernels_avx2, kernels_avx512), or local to its unit. Only code from the
  // headers simkit compiles is checked (simkit, the C++ library, Highway); linked third-party
  // archives are not. (gcc and clang differ in what they inline: clang found a leak gcc hid.)
  const std::string cmd = "objdump -d --no-show-raw-insn -C /proc/" + std::to_string(getpid()) + "/exe 2>/dev/null";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(cmd.c_str(), "r"), pclose);
  REQUIRE(pipe);
  const std::regex header(R"(^[0-9a-f]+ <(.*)>:$)");
  const std::regex own(R"(^(simkit::|std::|__gnu_cxx::|hwy::|void simkit::|void std::))");
  char line[16384];
  std::string function;
  bool checked = false, avx = false;
  std::set<std::string> leaks;
  size_t functions = 0;
  // Functions with internal linkage ("(anonymous namespace)") are each unit's own and cannot merge.
  const auto finish = [&] {
    if (checked && avx && function.find("N_AVX2") == std::string::npos && function.find("N_AVX3") == std::string::npos &&
        function.find("kernels_avx") == std::string::npos && function.find("(anonymous namespace)") == std::string::npos) {
      leaks.insert(function);
    }
  };
  while (fgets(line, sizeof line, pipe.get())) {
    std::string text(line);
    if (!text.empty() && text.back() == '\n') text.pop_back();
    std::smatch m;
    if (std::regex_match(text, m, header)) {
      finish();
      function = m[1];
      checked = std::regex_search(function, own);
      avx = false;
      functions += 1;
      continue;
    }
    // "  abc123:\tvmovaps ..." : an AVX (VEX/EVEX-encoded) instruction mnemonic starts with v.
    const size_t tab = text.find('\t');
    if (checked && !avx && tab != std::string::npos && tab + 1 < text.size() && text[tab + 1] == 'v') avx = true;
  }
  finish();
  REQUIRE(functions > 1000);  // objdump ran
  std::string list;
  for (const auto& f : leaks) list += f.substr(0, 200) + "\n";
  INFO(leaks.size() << " functions with AVX code outside the SIMD targets:\n" << list);
  CHECK(leaks.empty());
}
#endif
