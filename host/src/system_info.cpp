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

std::string cpu_model() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(' ', colon + 1));
    }
  }
  return "unknown CPU";
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
