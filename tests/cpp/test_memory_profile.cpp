// SPDX-License-Identifier: Apache-2.0
// The memory-profile CLI, run as a separate process (its CPU points fork, which the OpenMP runtime of
// this test process must not see): the planner's prediction holds against the measured peak RSS, and
// bad input gets one line and exit code 2 before any CSV row.
#include <sys/wait.h>

#include <catch2/catch.hpp>

#include "temp_files.hpp"
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct Result {
  int code;
  std::string output;
};

Result run(const std::string& args) {
  const std::string cmd = std::string(SIMKIT_MEMORY_PROFILE_EXE) + " " + args + " 2>&1";
  Result r{-1, ""};
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p);
  char buf[512];
  while (fgets(buf, sizeof buf, p)) r.output += buf;
  const int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string temp_csv(const std::string& name) {
  const auto path = simkit::testing::temp_path("memory_profile_" + name + ".csv");
  std::filesystem::remove(path);
  return path.string();
}

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> cells;
  std::string cell;
  bool quoted = false;
  for (char c : line) {
    if (c == '"') quoted = !quoted;
    else if (c == ',' && !quoted) cells.push_back(cell), cell.clear();
    else cell += c;
  }
  cells.push_back(cell);
  return cells;
}

// Rows as column -> value maps.
std::vector<std::vector<std::pair<std::string, std::string>>> read_csv(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  const auto header = split(line);
  std::vector<std::vector<std::pair<std::string, std::string>>> rows;
  while (std::getline(in, line)) {
    const auto cells = split(line);
    REQUIRE(cells.size() == header.size());
    std::vector<std::pair<std::string, std::string>> row;
    for (size_t i = 0; i < cells.size(); ++i) row.emplace_back(header[i], cells[i]);
    rows.push_back(row);
  }
  return rows;
}

std::string get(const std::vector<std::pair<std::string, std::string>>& row, const std::string& key) {
  for (const auto& kv : row) if (kv.first == key) return kv.second;
  FAIL("no column " << key);
  return "";
}

}  // namespace

TEST_CASE("memory-profile: CPU prediction within 20% of the measured peak, CartPole 1e6 envs", "[cli][memory][cpu][unsanitized]") {
  const std::string csv = temp_csv("cartpole_1e6");
  const Result r = run("--device cpu --profile envs --env CartPole-v1 --num-envs 1e6 --chunk 32 --output " + csv);
  INFO(r.output);
  REQUIRE(r.code == 0);
  const auto rows = read_csv(csv);
  REQUIRE(rows.size() == 1);
  const auto& row = rows.front();
  CHECK(get(row, "env") == "CartPole-v1");
  CHECK(get(row, "backend") == "cpu");
  CHECK(get(row, "mode") == "statistics");
  CHECK(get(row, "batches") == "1");
  CHECK_FALSE(get(row, "git_commit").empty());
  CHECK_FALSE(get(row, "cpu_model").empty());
  const double predicted = std::stod(get(row, "predicted_bytes"));
  const double measured = std::stod(get(row, "measured_peak_bytes"));
  CHECK(predicted == 26.0 * 1000000 + (1 << 20));
  CHECK(measured == Approx(predicted).epsilon(0.20));
  CHECK(std::stod(get(row, "ratio")) == Approx(measured / predicted).epsilon(1e-3));
  CHECK(std::stod(get(row, "bytes_per_env")) == Approx(measured / 1e6).epsilon(1e-3));
  std::filesystem::remove(csv);
}

TEST_CASE("memory-profile: trajectory buffers are predicted within 20% on CPU", "[cli][memory][cpu][unsanitized]") {
  const std::string csv = temp_csv("trajectory");
  const Result r = run("--device cpu --profile chunk --num-envs 1e5 --chunk 16 64 --output " + csv);
  INFO(r.output);
  REQUIRE(r.code == 0);
  const auto rows = read_csv(csv);
  REQUIRE(rows.size() == 2);
  for (const auto& row : rows) {
    CHECK(get(row, "mode") == "trajectory");
    CHECK(std::stod(get(row, "ratio")) == Approx(1.0).margin(0.20));
  }
}

TEST_CASE("memory-profile takes the comma lists throughput takes", "[cli][memory][cpu]") {
  const std::string csv = temp_csv("lists");
  const Result r = run("--device cpu --profile envs --env CartPole-v1,Acrobot-v1 --num-envs 1e3,2_000 --chunk 8 "
                       "--output " + csv);
  INFO(r.output);
  REQUIRE(r.code == 0);
  const auto rows = read_csv(csv);
  REQUIRE(rows.size() == 4);
  CHECK(get(rows[0], "env") == "CartPole-v1");
  CHECK(get(rows[1], "num_envs") == "2000");
  CHECK(get(rows[3], "env") == "Acrobot-v1");
  std::filesystem::remove(csv);
}

TEST_CASE("memory-profile: a refused point is reported, not run", "[cli][memory][cpu]") {
  const std::string csv = temp_csv("refused");
  const Result r = run("--device cpu --profile envs --num-envs 1e6 --free-bytes 1e7 --output " + csv);
  INFO(r.output);
  REQUIRE(r.code == 0);
  CHECK(r.output.find("refuses from num_envs 1000000") != std::string::npos);
  const auto rows = read_csv(csv);
  REQUIRE(rows.size() == 1);
  CHECK(get(rows.front(), "batches") == "0");
  CHECK(get(rows.front(), "measured_peak_bytes").empty());
}

TEST_CASE("memory-profile rejects bad input with one line and exit code 2", "[cli][memory]") {
  struct Case {
    const char* args;
    const char* mentions;
  };
  const Case cases[] = {
      {"--profile sideways", "profile"},     {"--num-envs 0", "num-envs"},      {"--num-envs 1.5", "num-envs"},
      {"--chunk 0", "chunk"},                {"--env NoSuchEnv-v0", "NoSuchEnv"}, {"--mode replay", "mode"},
      {"--precision float16", "precision"},  {"--device tpu", "device"},        {"--free-bytes lots", "free-bytes"},
      {"--threads -1", "threads"},           {"--no-such-flag", "no-such-flag"},
      {"--num-envs 1000,", "num-envs"},      {"--chunk 0x10", "chunk"},
  };
  for (const auto& c : cases) {
    const std::string csv = temp_csv("bad");
    const Result r = run(std::string("--device cpu ") + c.args + " --output " + csv);
    INFO(c.args << " -> " << r.output);
    CHECK(r.code == 2);
    const auto err_line = r.output.find("error:");
    REQUIRE(err_line != std::string::npos);
    const std::string line = r.output.substr(err_line);
    CHECK(line.find('\n') == line.size() - 1);  // one line
    CHECK(line.find(c.mentions) != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(csv));  // validation happens before any row
  }
}

TEST_CASE("memory-profile: the step API is planned and measured on CPU", "[cli][memory][cpu][unsanitized]") {
  const std::string csv = temp_csv("step_api");
  const Result r = run("--device cpu --profile envs --mode step_api --num-envs 1e6 --steps 2 --output " + csv);
  INFO(r.output);
  REQUIRE(r.code == 0);
  const auto rows = read_csv(csv);
  REQUIRE(rows.size() == 1);
  const auto& row = rows.front();
  CHECK(get(row, "mode") == "step_api");
  // memory-profile is a C++ caller: the engine (25 B/env) and the step buffers it passes (obs 16,
  // reward 4, flags 2, actions 4), planned within 20% of the measured peak.
  const double predicted = std::stod(get(row, "predicted_bytes"));
  const double measured = std::stod(get(row, "measured_peak_bytes"));
  CHECK(predicted == 51.0 * 1000000 + (1 << 20));
  CHECK(std::abs(predicted - measured) <= 0.2 * measured);
  CHECK(get(row, "host_predicted_bytes") == "0");  // the CPU's host memory is the main figure
  std::filesystem::remove(csv);
}

TEST_CASE("memory-profile: the step API of a multi-agent env, a row per agent", "[cli][memory][cpu][foraging][unsanitized]") {
  const std::string csv = temp_csv("step_api_agents");
  const Result r = run("--device cpu --env Foraging-v0 --profile envs --mode step_api --num-envs 1000 --steps 2 --output " + csv);
  INFO(r.output);
  REQUIRE(r.code == 0);
  const auto rows = read_csv(csv);
  REQUIRE(rows.size() == 1);
  const double predicted = std::stod(get(rows.front(), "predicted_bytes"));
  const double measured = std::stod(get(rows.front(), "measured_peak_bytes"));
  CHECK(std::abs(predicted - measured) <= 0.2 * measured);
  std::filesystem::remove(csv);
}
