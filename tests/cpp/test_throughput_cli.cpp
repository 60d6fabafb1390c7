// The throughput CLI from the outside: bad input is a one-line error with exit code 2 and no CSV row;
// a good run appends one row with its citation metadata.
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

namespace {

struct Result {
  int code;
  std::string output;  // stdout and stderr
};

Result run(const std::string& args) {
  const std::string cmd = std::string(SIMKIT_THROUGHPUT_EXE) + " " + args + " 2>&1";
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

std::string temp_csv(const std::string& name) {
  const auto path = std::filesystem::temp_directory_path() / ("simkit_cli_" + name + ".csv");
  std::filesystem::remove(path);
  return path.string();
}

}  // namespace

TEST_CASE("throughput rejects bad input with one line and exit code 2", "[cli]") {
  struct Case {
    const char* args;
    const char* mentions;
  };
  const Case cases[] = {
      {"--num-envs 0", "num-envs"},
      {"--num-envs -5", "num-envs"},
      {"--num-envs abc", "num-envs"},
      {"--num-envs 4000000000", "bytes"},  // more than this machine's memory: bytes needed vs usable
      {"--chunk 0", "chunk"},
      {"--env NoSuchEnv-v0", "CartPole-v1"},  // lists the known envs
      {"--device cuda", "cuda"},
      {"--device tpu", "device"},
      {"--precision float16", "precision"},
      {"--seconds -1", "seconds"},
      {"--repeat 0", "repeat"},
      {"--no-such-flag", "no-such-flag"},
  };
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
