// Determinism for every registered env at both precisions: identical states and episode statistics
// for 1 vs 2 threads, chunk 1 vs 32, and one batch vs the same envs split into two simulators.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "simkit/simulator.hpp"

using namespace simkit;

namespace {

constexpr int64_t kEnvs = 1300;  // spans several 512-env tiles, the last one partial
constexpr int64_t kSplit = 512;  // first batch of the split run: a whole number of tiles
constexpr uint64_t kSteps = 64;

struct Run {
  std::vector<double> state;
  RolloutStats stats;
};

Run run(const std::string& id, Precision precision, int threads, int chunk, int64_t num_envs, int64_t offset) {
  SimConfig c;
  c.env_id = id;
  c.precision = precision;
  c.num_envs = num_envs;
  c.env_offset = offset;
  c.seed = 7;
  c.threads = threads;
  c.max_episode_steps = 20;  // episodes end (and reset) inside the run for every env
  auto sim = make_cpu_simulator(c);
  Run r;
  r.stats = sim->rollout(kSteps, chunk);
  r.state.resize(static_cast<size_t>(num_envs) * sim->info().state_fields.size());
  sim->get_state(r.state.data());
  return r;
}

}  // namespace

TEST_CASE("every env is deterministic across threads, chunks and batch splits", "[envs][cpu][determinism]") {
  for (const std::string& id : env_ids()) {
    for (const Precision precision : {Precision::kFloat32, Precision::kFloat64}) {
      INFO(id << " " << to_string(precision));
      const Run base = run(id, precision, 1, 1, kEnvs, 0);
      REQUIRE(base.stats.episodes.episodes > 0);

      const Run threaded = run(id, precision, 2, 32, kEnvs, 0);
      CHECK(threaded.state == base.state);
      CHECK(threaded.stats.steps == base.stats.steps);
      CHECK(threaded.stats.episodes.episodes == base.stats.episodes.episodes);
      CHECK(threaded.stats.episodes.length_sum == base.stats.episodes.length_sum);
      CHECK(threaded.stats.episodes.return_sum == base.stats.episodes.return_sum);

      const Run chunked = run(id, precision, 1, 32, kEnvs, 0);
      CHECK(chunked.state == base.state);
      CHECK(chunked.stats.episodes.return_sum == base.stats.episodes.return_sum);

      const Run first = run(id, precision, 2, 32, kSplit, 0);
      const Run second = run(id, precision, 2, 32, kEnvs - kSplit, kSplit);
      std::vector<double> joined = first.state;
      joined.insert(joined.end(), second.state.begin(), second.state.end());
      CHECK(joined == base.state);
      // Split at a tile boundary the tiles are the same, and their exact sum does not depend on
      // how they are grouped: the merged statistics equal the single run's, to the last bit.
      RolloutStats merged = first.stats;
      merged.merge(second.stats);
      CHECK(merged.episodes.episodes == base.stats.episodes.episodes);
      CHECK(merged.episodes.length_sum == base.stats.episodes.length_sum);
      CHECK(merged.episodes.return_sum == base.stats.episodes.return_sum);
    }
  }
}
