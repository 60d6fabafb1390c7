// The throughput CLI from the outside: bad input is a one-line error with exit code 2 and no CSV row;
// a good run appends one row with its citation metadata.
#include <sys/wait.h>

#include <algorithm>
#include <catch2/catch.hpp>

#include "temp_files.hpp"
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "simkit/devices.hpp"

namespace {

struct Result {
  int code;
  std::string output;  // stdout and stderr
};

// `shell` runs first in the same sh, e.g. to set limits for the CLI.
Result run(const std::string& args, const std::string& shell = "") {
  const std::string cmd = shell + " exec " + SIMKIT_THROUGHPUT_EXE + " " + args + " 2>&1";
  Result r{-1, ""};
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p);
  char buf[512];
  while (fgets(buf, sizeof buf, p)) r.output += buf;
  const int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

size_t lines(const std::string& s) {
  size_t n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

// Every line of a CSV, each with its field count (no quoted commas in these files); `complete` is
// false when the last line has no newline.
struct CsvLines {
  std::vector<size_t> fields;
  bool complete = true;
};
CsvLines csv_lines(const std::string& path) {
  std::ifstream in(path);
  CsvLines out;
  std::string line;
  while (std::getline(in, line)) {
    out.complete = !in.eof();
    out.fields.push_back(1 + static_cast<size_t>(std::count(line.begin(), line.end(), ',')));
  }
  return out;
}

std::string temp_csv(const std::string& name) {
  const auto path = simkit::testing::temp_path("cli_" + name + ".csv");
  std::filesystem::remove(path);
  return path.string();
}

}  // namespace

TEST_CASE("throughput rejects bad input with one line and exit code 2", "[cli]") {
  struct Case {
    const char* args;
    const char* mentions;
  };
  std::vector<Case> cases = {
      {"--num-envs 0", "num-envs"},
      {"--num-envs -5", "num-envs"},
      {"--num-envs abc", "num-envs"},
      {"--num-envs 4000000000", "bytes"},  // more than this machine's memory: bytes needed vs usable
      {"--chunk 0", "chunk"},
      {"--env NoSuchEnv-v0", "CartPole-v1"},  // lists the known envs
      {"--device tpu", "device"},
      {"--precision float16", "precision"},
      {"--seconds -1", "seconds"},
      {"--repeat 0", "repeat"},
      {"--no-such-flag", "no-such-flag"},
      // numbers are read exactly, in one documented form (digits, 1e6, 1_000_000), nothing looser
      {"--num-envs 0x10", "num-envs"},
      {"--num-envs ' 1000'", "num-envs"},
      {"--num-envs 1__000", "num-envs"},
      {"--num-envs 1.5", "num-envs"},
      {"--num-envs 1000,", "num-envs"},
      {"--num-envs ,1000", "num-envs"},
      {"--num-envs ''", "num-envs"},
      {"--chunk 8,,16", "chunk"},
      {"--seed 9223372036854775808", "seed"},  // 2^63: beyond int64
      {"--seed 1e19", "seed"},
      {"--seconds 0x1p3", "seconds"},
      {"--seconds ' 1'", "seconds"},
      {"--param euler=0x1", "euler"},
      // parameter values the env cannot take, refused before any point runs
      {"--param euler=0.9", "'euler' of CartPole-v1 must be 0 or 1"},
      {"--param reset_low=0.1", "reset_low=0.1 of CartPole-v1 is greater than reset_high=0.05"},
  };
  // Asking for CUDA is bad input only where no usable CUDA device is present.
  if (!simkit::cuda_status().usable) cases.push_back({"--device cuda", "cuda"});
  for (const Case& c : cases) {
    const std::string csv = temp_csv("bad");
    const std::string args = c.args;
    const Result r = run(args + (args.rfind("--device", 0) == 0 ? "" : " --device cpu") + " --output " + csv);
    INFO(c.args << " -> " << r.output);
    CHECK(r.code == 2);
    CHECK(lines(r.output) == 1);
    CHECK(r.output.find(c.mentions) != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(csv));
  }
}

TEST_CASE("throughput appends one CSV row per point with citation metadata", "[cli]") {
  const std::string csv = temp_csv("good");
  const Result r = run("--device cpu --num-envs 1000,2000 --chunk 8 --steps 16 --repeat 1 --warmup 0 --output " + csv);
  INFO(r.output);
  REQUIRE(r.code == 0);
  std::ifstream in(csv);
  std::string header, row;
  std::getline(in, header);
  CHECK(header.rfind("timestamp,git_commit,simkit_version,host,env,precision,backend,device,cpu_model", 0) == 0);
  int rows = 0;
  while (std::getline(in, row)) {
    ++rows;
    CHECK(row.find(",CartPole-v1,float32,cpu,") != std::string::npos);
  }
  CHECK(rows == 2);
  std::filesystem::remove(csv);
}

TEST_CASE("throughput --resume measures only the points missing from the CSV", "[cli]") {
  const std::string csv = temp_csv("resume");
  const std::string common = "--device cpu --chunk 8 --steps 8 --repeat 1 --warmup 0 --output " + csv;
  REQUIRE(run("--num-envs 1000,2000 " + common).code == 0);
  const Result r = run("--num-envs 1000,2000,3000 --resume " + common);
  INFO(r.output);
  REQUIRE(r.code == 0);
  CHECK(r.output.find("resume: 2 of 3 points") != std::string::npos);
  std::ifstream in(csv);
  std::string line;
  int rows = -1;  // the header
  while (std::getline(in, line)) ++rows;
  CHECK(rows == 3);
  std::filesystem::remove(csv);
}

TEST_CASE("throughput: SIMKIT_SIMD naming a missing target is one line and exit code 2", "[cli][simd]") {
  const std::string csv = temp_csv("bad_simd");
  for (const char* target : {"sse9", "neon-or-avx"}) {
    const std::string cmd = std::string("SIMKIT_SIMD=") + target + " " + SIMKIT_THROUGHPUT_EXE +
                            " --device cpu --num-envs 10 --steps 2 --output " + csv + " 2>&1";
    FILE* p = popen(cmd.c_str(), "r");
    REQUIRE(p);
    std::string out;
    char buf[512];
    while (fgets(buf, sizeof buf, p)) out += buf;
    const int status = pclose(p);
    INFO(out);
    CHECK(WEXITSTATUS(status) == 2);
    CHECK(out.find(std::string("SIMKIT_SIMD=") + target) != std::string::npos);
    CHECK(out.find("available: scalar") != std::string::npos);
    CHECK(lines(out) == 1);
  }
}

TEST_CASE("throughput: a failed write exits 1 and leaves only complete rows", "[cli]") {
  const std::string csv = temp_csv("fsize");
  // SIGXFSZ ignored as a Python parent leaves it; a 1 kB file size limit cuts the sweep short.
  const Result r = run("--device cpu --num-envs 1000,2000,3000,4000,5000,6000 --chunk 8 --steps 8 --repeat 1 "
                       "--warmup 0 --output " + csv, "trap '' XFSZ; ulimit -f 2;");
  INFO(r.output);
  CHECK(r.code == 1);
  CHECK(r.output.find("writing failed (File too large)") != std::string::npos);
  const CsvLines lines = csv_lines(csv);
  CHECK(lines.complete);
  REQUIRE(lines.fields.size() >= 1);
  CHECK(lines.fields.size() < 7);  // the header and fewer than six rows
  const auto header_width = std::count(lines.fields.begin(), lines.fields.end(), lines.fields.front());
  CHECK(header_width == static_cast<long>(lines.fields.size()));
  std::filesystem::remove(csv);
}

TEST_CASE("throughput: a full disk exits 1 naming the file", "[cli]") {
  const Result r = run("--device cpu --num-envs 1000 --steps 8 --repeat 1 --output /dev/full");
  INFO(r.output);
  CHECK(r.code == 1);
  CHECK(r.output.find("output '/dev/full': writing failed (No space left on device)") != std::string::npos);
}

TEST_CASE("throughput --resume drops a cut-off last row and measures its point again", "[cli]") {
  const std::string csv = temp_csv("resume_cut");
  const std::string common = "--device cpu --chunk 8 --steps 8 --repeat 1 --warmup 0 --output " + csv;
  REQUIRE(run("--num-envs 1000,2000 " + common).code == 0);
  const auto size = std::filesystem::file_size(csv);
  std::filesystem::resize_file(csv, size - 40);  // the 2000-env row, cut in its last fields
  const Result r = run("--num-envs 1000,2000,3000 --resume " + common);
  INFO(r.output);
  REQUIRE(r.code == 0);
  CHECK(r.output.find("resume: 1 of 3 points") != std::string::npos);
  const CsvLines lines = csv_lines(csv);
  CHECK(lines.complete);
  CHECK(lines.fields.size() == 4);  // the header and three rows
  CHECK(std::count(lines.fields.begin(), lines.fields.end(), lines.fields.front()) == 4);
  std::filesystem::remove(csv);
}

TEST_CASE("throughput: an unusable --output path exits 2 naming it before measuring", "[cli]") {
  const std::string dir = std::filesystem::temp_directory_path().string();
  for (const std::string& path : {std::string("/etc/passwd/x.csv"), dir}) {
    const Result r = run("--device cpu --num-envs 1000 --steps 8 --repeat 1 --output " + path);
    INFO(r.output);
    CHECK(r.code == 2);
    CHECK(r.output.find("error: output '" + path + "'") != std::string::npos);
    CHECK(r.output.find("CartPole-v1") == std::string::npos);  // no row measured
  }
}

TEST_CASE("throughput: integers are read exactly, with grouping and exponents", "[cli]") {
  const std::string csv = temp_csv("exact");
  const Result r = run("--device cpu --num-envs 1_000,2e3 --chunk 8 --steps 8 --repeat 1 --warmup 0 "
                       "--seed 9007199254740993 --output " + csv);  // 2^53 + 1: not a double
  INFO(r.output);
  REQUIRE(r.code == 0);
  std::ifstream in(csv);
  std::string line;
  std::getline(in, line);
  int rows = 0;
  while (std::getline(in, line)) {
    ++rows;
    CHECK(line.find(rows == 1 ? ",1000,8," : ",2000,8,") != std::string::npos);
    CHECK(line.find(",9007199254740993,") != std::string::npos);
  }
  CHECK(rows == 2);
  std::filesystem::remove(csv);
}

TEST_CASE("throughput --step-api times step() calls and says so in the api column", "[cli]") {
  const std::string csv = temp_csv("step_api");
  const Result r = run("--device cpu --num-envs 1000 --step-api --steps 20 --repeat 1 --warmup 0 --output " + csv);
  INFO(r.output);
  REQUIRE(r.code == 0);
  std::ifstream in(csv);
  std::string header, row;
  std::getline(in, header);
  std::getline(in, row);
  CHECK(header.substr(header.rfind(',') + 1) == "api");
  CHECK(row.substr(row.rfind(',') + 1) == "step");
  CHECK(row.find(",1000,32,1,20,20000,") != std::string::npos);  // num_envs, chunk, batches, steps, env_steps
  std::filesystem::remove(csv);
}

TEST_CASE("throughput --step-api on a multi-agent env: buffers of a row per agent", "[cli][foraging]") {
  // It wrote env-sized buffers and crashed (signal 11) before.
  const std::string csv = temp_csv("step_api_agents");
  const Result r = run("--device cpu --env Foraging-v0 --num-envs 20 --param num_agents=30 --step-api --steps 5 "
                       "--repeat 1 --warmup 0 --output " + csv);
  INFO(r.output);
  REQUIRE(r.code == 0);
  std::ifstream in(csv);
  std::string header, row;
  std::getline(in, header);
  std::getline(in, row);
  CHECK(row.find(",20,32,1,5,100,") != std::string::npos);  // num_envs, chunk, batches, steps, env_steps
  std::filesystem::remove(csv);
}
