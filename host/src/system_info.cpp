// SPDX-License-Identifier: Apache-2.0
#include "simkit/system_info.hpp"

#include <unistd.h>

#include <array>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <thread>

#ifndef SIMKIT_VERSION
#define SIMKIT_VERSION "0.0.0"
#endif
#ifndef SIMKIT_SOURCE_DIR
#define SIMKIT_SOURCE_DIR "."
#endif
#ifndef SIMKIT_BUILD_COMMIT
#define SIMKIT_BUILD_COMMIT "unknown"
#endif

namespace simkit {

// The model name plus, on x86, the CPUID family and model: VMs often report only "AMD EPYC", which
// hides the generation (family 25 is Zen 3/4, 26 is Zen 5) that decides the speed.
std::string cpu_model() {
  std::ifstream f("/proc/cpuinfo");
  std::string line, name, family, model;
  const auto value = [&line] {
    const auto colon = line.find(':');
    const auto start = colon == std::string::npos ? std::string::npos : line.find_first_not_of(' ', colon + 1);
    return start == std::string::npos ? std::string() : line.substr(start);
  };
  while (std::getline(f, line) && (name.empty() || family.empty() || model.empty())) {
    if (line.rfind("model name", 0) == 0) name = value();
    else if (line.rfind("cpu family", 0) == 0) family = value();
    else if (line.rfind("model\t", 0) == 0 || line.rfind("model ", 0) == 0) model = value();
  }
  if (name.empty()) return "unknown CPU";
  return family.empty() || model.empty() ? name : name + " (family " + family + " model " + model + ")";
}

std::string host_name() {
  char buf[256] = {};
  return gethostname(buf, sizeof buf - 1) == 0 ? buf : "unknown";
}

int cpu_cores() { return static_cast<int>(std::thread::hardware_concurrency()); }

std::string simkit_version() { return SIMKIT_VERSION; }

namespace {
std::string run_command(const std::string& cmd) {
  std::string out;
  if (FILE* p = popen(cmd.c_str(), "r")) {
    std::array<char, 256> buf{};
    while (fgets(buf.data(), buf.size(), p)) out += buf.data();
    pclose(p);
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}
}  // namespace

std::string git_commit() {
  static const std::string commit = [] {
    const std::string dir = SIMKIT_SOURCE_DIR;
    std::string sha = run_command("git -C '" + dir + "' rev-parse --short=12 HEAD 2>/dev/null");
    if (sha.empty()) return std::string(SIMKIT_BUILD_COMMIT);
    const std::string dirty =
        run_command("git -C '" + dir + "' status --porcelain --untracked-files=no -- host cuda python 2>/dev/null");
    return dirty.empty() ? sha : sha + "-dirty";
  }();
  return commit;
}

namespace {
std::string format_now(const char* fmt) {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, fmt, &tm);
  return buf;
}
}  // namespace

std::string utc_timestamp() { return format_now("%Y-%m-%dT%H:%M:%SZ"); }
std::string compact_timestamp() { return format_now("%Y%m%dT%H%M%SZ"); }

}  // namespace simkit
