// SPDX-License-Identifier: Apache-2.0
// Time limits of a throughput measurement: rollouts run in pieces, so --seconds holds with any chunk,
// tiny budgets still give a valid row, and a caller can watch progress or stop between pieces.
#include <sys/wait.h>

#include <catch2/catch.hpp>

#include "temp_files.hpp"
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "simkit/results.hpp"
#include "simkit/throughput.hpp"

using namespace simkit;

namespace {

struct Run {
  int code;
  std::string output;
  double seconds;  // wall time of the CLI
};

// `wrapper` runs the CLI, e.g. "timeout -s INT 3".
Run run_cli(const std::string& args, const std::string& wrapper = "exec") {
  const std::string cmd = wrapper + " " + SIMKIT_THROUGHPUT_EXE + " --device cpu " + args + " 2>&1";
  const auto t0 = std::chrono::steady_clock::now();
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p);
  Run r{-1, "", 0};
  char buf[512];
  while (fgets(buf, sizeof buf, p)) r.output += buf;
  const int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

std::string temp_csv(const std::string& name) {
  const auto path = simkit::testing::temp_path("limits_" + name + ".csv");
  std::filesystem::remove(path);
  return path.string();
}

}  // namespace

TEST_CASE("pacer: one step first, then about the asked time in whole chunks", "[throughput][cpu]") {
  PiecePacer pacer(8);
  CHECK(pacer.next(1000) == 1);
  pacer.record(100, 1.0);  // 100 steps/s
  CHECK(pacer.next(1000, 0.25) == 24);  // 25 steps fit: three whole chunks
  CHECK(pacer.next(1000, 0.05) == 5);   // less than a chunk fits: part of one
  CHECK(pacer.next(20, 10.0) == 20);    // the rest, when it fits
  CHECK(pacer.next(1000, -1.0) == 1);   // out of time: still one step
}

TEST_CASE("throughput: --seconds holds with a chunk far longer than the budget", "[cli][throughput]") {
  // One 2^20-step chunk of 1e4 CartPoles is 1e10 env steps (tens of seconds); the budget is 0.2 s per
  // repeat and for the warmup, so the run takes well under 5 s even on a loaded machine.
  const std::string csv = temp_csv("chunk");
  const Run r = run_cli("--num-envs 1e4 --chunk 1048576 --seconds 0.2 --repeat 2 --output " + csv);
  INFO(r.output);
  REQUIRE(r.code == 0);
  CHECK(r.seconds < 5);
  const auto rows = read_csv_rows(csv);
  REQUIRE(rows.size() == 1);
  CHECK(std::stod(rows[0].at("seconds")) < 1.0);
  CHECK(std::stoull(rows[0].at("steps")) < 1048576);
  std::filesystem::remove(csv);
}

TEST_CASE("throughput: a tiny --seconds still gives a valid row", "[cli][throughput]") {
  const std::string csv = temp_csv("tiny");
  const Run r = run_cli("--num-envs 100 --seconds 1e-300 --repeat 1 --output " + csv);
  INFO(r.output);
  REQUIRE(r.code == 0);
  CHECK(r.output.find("nan") == std::string::npos);
  const auto rows = read_csv_rows(csv);
  REQUIRE(rows.size() == 1);
  CHECK(std::stoull(rows[0].at("steps")) >= 1);  // each repeat takes at least one batch step
  const double rate = std::stod(rows[0].at("steps_per_s"));
  CHECK((std::isfinite(rate) && rate > 0));
  std::filesystem::remove(csv);
}

TEST_CASE("throughput: a point that takes years says so at once", "[cli][throughput]") {
  const std::string csv = temp_csv("years");
  const Run r = run_cli("--num-envs 1e5 --steps 1e12 --output " + csv, "timeout -s INT 3");
  INFO(r.output);
  CHECK(r.output.find("years left (Ctrl-C stops") != std::string::npos);
  CHECK(r.seconds < 10);
  std::filesystem::remove(csv);
}

TEST_CASE("measure_throughput: progress between pieces, and a monitor can stop it", "[throughput][cpu]") {
  ThroughputSpec spec;
  spec.num_envs = 1000;
  spec.chunk = 32;
  spec.steps = 1000000;  // 1e9 env steps: seconds of work
  spec.repeat = 3;
  int calls = 0;
  double first_estimate = 0;
  CHECK_THROWS_AS(measure_throughput(spec,
                                     [&](const ThroughputProgress& p) {
                                       if (++calls == 1) first_estimate = p.remaining_seconds;
                                       return calls < 3;
                                     }),
                  Interrupted);
  CHECK(calls == 3);
  CHECK(first_estimate > 0.1);  // 3e9 env steps left
}
