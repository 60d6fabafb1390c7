// SPDX-License-Identifier: Apache-2.0
// qlearn: tabular Q-learning on TicTacToe-v0 over many envs in lockstep. Prints a progress row every
// --eval-every rounds (training steps/s, epsilon, alpha, the greedy policy's win/draw/loss against
// the random opponent) and appends the same rows to a CSV under results/.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>

#include "cli_common.hpp"
#include "simkit/devices.hpp"
#include "simkit/qlearning.hpp"
#include "simkit/results.hpp"
#include "simkit/system_info.hpp"
#if SIMKIT_HAS_MPI
#include "mpi_cli.hpp"
#endif

using namespace simkit;

namespace {
double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
std::string fmt(double v, const char* f = "%.6g") {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}
constexpr uint64_t kEvalSeedOffset = 0x9E3779B97F4A7C15ull;  // evaluation games use seed + this
}  // namespace

int main(int argc, char** argv) {
  cli::fail_writes_past_file_size_limit();
#if SIMKIT_HAS_MPI
  const std::unique_ptr<distributed::World> world = cli::mpi_world_if_launched(&argc, &argv, "qlearn");
  const bool root = !world || world->is_root();
#else
  const bool root = true;
#endif
  CLI::App app{"simkit qlearn: tabular Q-learning on TicTacToe-v0, many envs in lockstep"};
  app.name("qlearn");
  std::string num_envs_arg = "4096", rounds_arg = "2000", seed_arg = "0", threads_arg = "0";
  std::string eval_every_arg = "250", eval_games_arg = "100000", save, output;
  app.add_option("--num-envs", num_envs_arg, "envs stepped in lockstep (one update each per round)")->capture_default_str();
  app.add_option("--rounds", rounds_arg, "training rounds (every env takes one step per round)")->capture_default_str();
  app.add_option("--seed", seed_arg, "random seed; fixed by default so repeated runs train the same table")
      ->capture_default_str();
  app.add_option("--threads", threads_arg, "CPU threads, 0 = all cores")->capture_default_str();
  app.add_option("--eval-every", eval_every_arg, "rounds between progress rows and greedy evaluations")->capture_default_str();
  app.add_option("--eval-games", eval_games_arg, "games per greedy evaluation")->capture_default_str();
  app.add_option("--save", save, "write the trained table to this .npy file (float32, shape (19683, 9))");
  app.add_option("--output", output, "CSV file to append to (default results/qlearn_cpu_<time>.csv)");
  std::string mpi_timeout_arg;
  app.add_option("--mpi-timeout", mpi_timeout_arg,
                 "under mpirun: seconds a rank waits for the others at a collective before it stops the job (default "
                 "300)");
  std::string parse_error;  // under mpirun, reported once by rank 0 with the configuration check
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
#if SIMKIT_HAS_MPI
    if (e.get_exit_code() == 0 || !world) return cli::parse_error_exit(app, e);
    parse_error = e.what();
#else
    return cli::parse_error_exit(app, e);
#endif
  }

  qlearning::Config config;
  uint64_t rounds = 0, eval_every = 0;
  int64_t eval_games = 0;
  std::string config_error;
  try {
    if (!parse_error.empty()) throw ConfigError(parse_error + " (see --help)");
    config.num_envs = cli::parse_count("num-envs", num_envs_arg, 1, (int64_t{1} << 32) - 1);
    config.seed = static_cast<uint64_t>(cli::parse_count("seed", seed_arg, 0, INT64_MAX));
    config.threads = static_cast<int>(cli::parse_count("threads", threads_arg, 0, cpu::kMaxThreads));
    rounds = static_cast<uint64_t>(cli::parse_count("rounds", rounds_arg, 1, INT64_MAX));
    eval_every = static_cast<uint64_t>(cli::parse_count("eval-every", eval_every_arg, 1, INT64_MAX));
    eval_games = cli::parse_count("eval-games", eval_games_arg, 1, (int64_t{1} << 32) - 1);
    if (!save.empty() && root) cli::check_writable_path("save", save);  // now, not after training
#if SIMKIT_HAS_MPI
    if (world) {
      if (!mpi_timeout_arg.empty()) world->set_timeout(cli::parse_positive("mpi-timeout", mpi_timeout_arg));
      const Shard shard = shard_envs(config.num_envs, world->rank(), world->size(), 1);
      config.total_envs = config.num_envs;
      config.env_offset = shard.offset;
      config.num_envs = shard.count;
      config.threads = distributed::threads_per_rank(config.threads, world->local_size());
    }
#endif
  } catch (const ConfigError& e) {
    config_error = e.what();
  }
#if SIMKIT_HAS_MPI
  if (world) {
    const std::string text = "num_envs=" + std::to_string(config.total_envs) + " rounds=" + std::to_string(rounds) +
                             " seed=" + std::to_string(config.seed) + " eval_every=" + std::to_string(eval_every) +
                             " eval_games=" + std::to_string(eval_games) + " save=" + save;
    if (const int code = distributed::agree_on_config(*world, config_error.empty() ? text : "error: " + config_error)) {
      return code;
    }
  }
#endif
  if (!config_error.empty()) {
    std::fprintf(stderr, "qlearn: error: %s\n", config_error.c_str());
    return 2;
  }
  int ranks = 1;
  // Games [first, first + count) of each evaluation are this process's; the counts meet at rank 0.
  int64_t first_game = 0, my_games = eval_games;
  std::function<qlearning::Evaluation(const qlearning::Evaluation&)> sum_evaluations = [](const auto& e) { return e; };
  std::function<double(double)> slowest = [](double s) { return s; };
#if SIMKIT_HAS_MPI
  if (world) {
    ranks = world->size();
    const Shard games = shard_envs(eval_games, world->rank(), world->size(), 1);
    first_game = games.offset;
    my_games = games.count;
    sum_evaluations = [&](const qlearning::Evaluation& mine) {
      std::string bytes(reinterpret_cast<const char*>(&mine), sizeof mine);
      qlearning::Evaluation total{};
      for (const std::string& b : world->gather(bytes, "the evaluation reduction")) {
        qlearning::Evaluation e;
        std::memcpy(&e, b.data(), sizeof e);
        total.games += e.games;
        total.wins += e.wins;
        total.draws += e.draws;
        total.losses += e.losses;
      }
      return total;
    };
    slowest = [&](double seconds) {
      double most = 0;
      for (const std::string& b : world->gather(std::string(reinterpret_cast<const char*>(&seconds), sizeof seconds),
                                                "the timing reduction")) {
        double s;
        std::memcpy(&s, b.data(), sizeof s);
        most = std::max(most, s);
      }
      return most;
    };
  }
#endif

  try {
    qlearning::Trainer trainer(config);
#if SIMKIT_HAS_MPI
    if (world) {
      trainer.set_exchange([&](const std::vector<qlearning::Experience>& mine, std::vector<qlearning::Experience>& all) {
        const std::string bytes(reinterpret_cast<const char*>(mine.data()), mine.size() * sizeof(qlearning::Experience));
        all.clear();
        for (const std::string& b : world->allgather(bytes, "the round's experience exchange")) {
          const auto* e = reinterpret_cast<const qlearning::Experience*>(b.data());
          all.insert(all.end(), e, e + b.size() / sizeof(qlearning::Experience));
        }
      });
    }
#endif
    std::unique_ptr<CsvWriter> csv;
    if (root) {
      csv = std::make_unique<CsvWriter>(
          output.empty() ? default_results_path("qlearn", "cpu") : output,
          std::vector<std::string>{"timestamp", "git_commit", "simkit_version", "host", "env", "backend", "device",
                                   "cpu_model", "threads", "num_envs", "seed", "round", "env_steps", "seconds",
                                   "steps_per_s", "epsilon", "alpha", "eval_games", "win_rate", "draw_rate",
                                   "loss_rate", "ranks"});
      std::printf("%8s %12s %13s %9s %10s %7s %7s %7s\n", "round", "env_steps", "steps/s", "epsilon", "alpha", "win",
                  "draw", "loss");
    }
    const std::string device = cpu_model() + " (" + std::to_string(trainer.threads()) + " threads" +
                               (ranks > 1 ? " x " + std::to_string(ranks) + " ranks" : "") + ")";
    double train_seconds = 0;
    while (trainer.rounds() < rounds) {
      const uint64_t k = std::min(eval_every, rounds - trainer.rounds());
      const double t0 = now_seconds();
      trainer.train(k);
      const double dt = slowest(now_seconds() - t0);
      train_seconds += dt;
      const double rate = static_cast<double>(k * static_cast<uint64_t>(trainer.total_envs())) / dt;
      const qlearning::Evaluation ev =
          sum_evaluations(trainer.evaluate_games(first_game, my_games, config.seed + kEvalSeedOffset));
      if (!root) continue;
      std::printf("%8llu %12llu %13.4e %9.4f %10.3e %7.4f %7.4f %7.4f\n",
                  static_cast<unsigned long long>(trainer.rounds()), static_cast<unsigned long long>(trainer.env_steps()),
                  rate, trainer.epsilon(), trainer.alpha(), ev.win_rate(), ev.draw_rate(), ev.loss_rate());
      std::fflush(stdout);
      csv->write({utc_timestamp(), git_commit(), simkit_version(), host_name(), qlearning::Env::kId, "cpu", device,
                 cpu_model(), std::to_string(trainer.threads()), std::to_string(trainer.total_envs()),
                 std::to_string(config.seed), std::to_string(trainer.rounds()), std::to_string(trainer.env_steps()),
                 fmt(train_seconds), fmt(rate, "%.6e"), fmt(trainer.epsilon()), fmt(trainer.alpha()),
                 std::to_string(eval_games), fmt(ev.win_rate()), fmt(ev.draw_rate()), fmt(ev.loss_rate()),
                 std::to_string(ranks)});
    }
    if (!root) return 0;
    if (!save.empty()) {
      qlearning::save_npy(save, trainer.table());
      std::printf("table: %s\n", save.c_str());
    }
    std::printf("results: %s\n", csv->path().c_str());
  } catch (const ConfigError& e) {
#if SIMKIT_HAS_MPI
    if (world) world->abort(e.what(), 2);
#endif
    std::fprintf(stderr, "qlearn: error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
#if SIMKIT_HAS_MPI
    if (world) world->abort(std::string("failed: ") + e.what(), 1);
#endif
    std::fprintf(stderr, "qlearn: failed: %s\n", e.what());
    return 1;
  }
  return 0;
}
