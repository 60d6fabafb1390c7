// SPDX-License-Identifier: Apache-2.0
#include "simkit/memory_profile.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>
#include <utility>

#include "simkit/system_info.hpp"
#include "simkit/throughput.hpp"

namespace simkit {

namespace {

std::string fmt(double v, const char* f = "%.6g") {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

// The simulator(s) of one point, batch by batch as measure_throughput() runs them: each batch is
// created, runs `steps` batch steps and is destroyed before the next one. `after_rollout` is called
// while the batch's simulator is still alive.
template <class AfterRollout>
void run_batches(const MemoryProfileResult& r, AfterRollout&& after_rollout) {
  const MemoryProfileSpec& s = r.spec;
  for (int64_t b = 0; b < r.plan.num_batches; ++b) {
    SimConfig c;
    c.env_id = s.env_id;
    c.precision = s.precision;
    c.env_offset = b * r.plan.batch_envs;
    c.num_envs = std::min(r.plan.batch_envs, s.num_envs - c.env_offset);
    c.threads = s.threads;
    auto sim = make_simulator(c, s.device);
    if (s.mode == OutputMode::kTrajectory) {
      sim->rollout_trajectory(r.steps, s.chunk, [](const TrajectoryChunk&) {});
    } else if (s.mode == OutputMode::kStepApi) {
      StepApiLoop(*sim).run(r.steps);
    } else {
      sim->rollout(r.steps, s.chunk);
    }
    after_rollout(*sim);
  }
}

// ---- host: peak RSS growth, measured in a forked child --------------------------------------------
//
// Why a child: VmHWM (the peak resident set) only ever grows within a process, and a process that
// has run earlier points keeps freed memory in malloc's arenas and an OpenMP thread pool, so an
// in-process delta would under-count later points. Each point therefore runs in a fresh fork of the
// CLI, which has allocated nothing large and never started OpenMP threads. The child resets its
// peak to its current RSS (writing 5 to /proc/self/clear_refs, Linux >= 4.0; fork itself also starts
// the child's peak at its RSS), reads VmRSS as the baseline, creates the simulator(s), runs the short
// rollout, and reports VmHWM - baseline through a pipe. The growth therefore counts everything the
// run touched: the engine's arrays, the trajectory chunk buffer, per-tile statistics, OpenMP thread
// stacks and tiles, and code pages faulted in for the first time (a few hundred kB), which is the
// honest answer to "how much memory does this run take".

struct ProcStatus {
  uint64_t rss = 0, hwm = 0;  // bytes
};

ProcStatus read_proc_status() {
  std::ifstream f("/proc/self/status");
  ProcStatus s;
  std::string key;
  while (f >> key) {
    uint64_t kb = 0;
    if (key == "VmRSS:" && f >> kb) s.rss = kb * 1024;
    else if (key == "VmHWM:" && f >> kb) s.hwm = kb * 1024;
    std::string rest;
    std::getline(f, rest);
  }
  return s;
}

struct ChildReport {
  int ok = 0;
  uint64_t baseline = 0;
  uint64_t peak = 0;
  char error[480] = {};
};

void write_all(int fd, const void* data, size_t n) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    p += w;
    n -= static_cast<size_t>(w);
  }
}

[[noreturn]] void child_measure(const MemoryProfileResult& r, int fd) {
  ChildReport rep;
  try {
    {
      std::ofstream clear("/proc/self/clear_refs");
      if (clear) clear << "5" << std::flush;
    }
    const ProcStatus start = read_proc_status();
    if (start.rss == 0) throw std::runtime_error("cannot read VmRSS from /proc/self/status");
    // A peak above the current RSS (by more than a page-table's worth) means neither the reset nor
    // fork started it afresh: the difference would be someone else's memory.
    if (start.hwm > start.rss + (256u << 10)) {
      throw std::runtime_error("cannot reset VmHWM (/proc/self/clear_refs not writable): peak RSS is not measurable");
    }
    rep.baseline = start.rss;
    run_batches(r, [](Simulator&) {});
    rep.peak = read_proc_status().hwm;
    rep.ok = 1;
  } catch (const std::exception& e) {
    std::snprintf(rep.error, sizeof rep.error, "%s", e.what());
  }
  write_all(fd, &rep, sizeof rep);
  ::close(fd);
  std::fflush(nullptr);
  ::_exit(0);
}

uint64_t measure_host_peak(const MemoryProfileResult& r) {
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error(std::string("memory-profile: pipe: ") + std::strerror(errno));
  std::fflush(nullptr);  // no buffered output duplicated into the child
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    throw std::runtime_error(std::string("memory-profile: fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    ::close(fds[0]);
    child_measure(r, fds[1]);
  }
  ::close(fds[1]);
  ChildReport rep;
  size_t got = 0;
  char* p = reinterpret_cast<char*>(&rep);
  while (got < sizeof rep) {
    const ssize_t n = ::read(fds[0], p + got, sizeof rep - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFSIGNALED(status)) {
    throw std::runtime_error("measurement child killed by signal " + std::to_string(WTERMSIG(status)) +
                             (WTERMSIG(status) == SIGKILL ? " (out of memory?)" : ""));
  }
  if (got != sizeof rep) throw std::runtime_error("measurement child exited without a report");
  if (!rep.ok) throw std::runtime_error(rep.error);
  return rep.peak > rep.baseline ? rep.peak - rep.baseline : 0;
}

// ---- CUDA: device memory in use, from the driver ------------------------------------------------
//
// In process (a forked child cannot use the parent's CUDA context). Before the first point of an
// (env, precision, mode) a one-env simulator runs one rollout, so that the context and the lazily
// loaded kernel modules are not charged to the point. Each batch's usage is the drop in free device
// memory from before its simulator exists to after its rollout, while it is still alive; the peak is
// the largest batch. Allocations made and freed inside a rollout are not seen (the backend sizes its
// temporary storage once and keeps it), and other processes on the same GPU would show up as noise.
uint64_t measure_cuda_peak(const MemoryProfileResult& r, uint64_t& host_peak) {
  static std::vector<std::string> warmed;
  const std::string key = r.spec.env_id + "/" + to_string(r.spec.precision) + "/" + to_string(r.spec.mode);
  if (std::find(warmed.begin(), warmed.end(), key) == warmed.end()) {
    SimConfig c;
    c.env_id = r.spec.env_id;
    c.precision = r.spec.precision;
    c.num_envs = 1;
    auto sim = make_simulator(c, Device::kCuda);
    if (r.spec.mode == OutputMode::kTrajectory) sim->rollout_trajectory(1, 1, [](const TrajectoryChunk&) {});
    else if (r.spec.mode == OutputMode::kStepApi) StepApiLoop(*sim).run(1);
    else sim->rollout(1, 1);
    warmed.push_back(key);
  }
  uint64_t peak = 0;
  DeviceMemory before = cuda_memory_now();
  uint64_t rss_before = read_proc_status().rss;
  const auto after = [&](Simulator&) {
    const DeviceMemory now = cuda_memory_now();
    if (before.free_bytes > now.free_bytes) peak = std::max(peak, before.free_bytes - now.free_bytes);
    const uint64_t rss = read_proc_status().rss;  // pinned pages are resident
    if (rss > rss_before) host_peak = std::max(host_peak, rss - rss_before);
  };
  // Re-read "before" per batch: the previous batch's simulator is gone by then.
  for (int64_t b = 0; b < r.plan.num_batches; ++b) {
    MemoryProfileResult one = r;
    one.plan.num_batches = 1;
    one.spec.num_envs = std::min(r.plan.batch_envs, r.spec.num_envs - b * r.plan.batch_envs);
    one.plan.batch_envs = one.spec.num_envs;
    before = cuda_memory_now();
    rss_before = read_proc_status().rss;
    run_batches(one, after);
  }
  return peak;
}

}  // namespace

const char* to_string(OutputMode m) {
  switch (m) {
    case OutputMode::kStatistics: return "statistics";
    case OutputMode::kTrajectory: return "trajectory";
    case OutputMode::kStepApi: return "step_api";
  }
  return "?";
}

OutputMode parse_output_mode(const std::string& s) {
  if (s == "statistics") return OutputMode::kStatistics;
  if (s == "trajectory") return OutputMode::kTrajectory;
  if (s == "step_api") return OutputMode::kStepApi;
  throw ConfigError("mode must be 'statistics', 'trajectory' or 'step_api' (got '" + s + "')");
}

MemoryRequest memory_profile_request(const MemoryProfileSpec& spec) {
  ThroughputSpec t;
  t.env_id = spec.env_id;
  t.precision = spec.precision;
  t.device = spec.device;
  t.num_envs = spec.num_envs;
  t.chunk = spec.chunk;
  MemoryRequest req = memory_request(t, spec.mode);
  if (spec.free_bytes > 0) req.free_bytes = spec.free_bytes;
  return req;
}

MemoryProfileResult profile_memory(const MemoryProfileSpec& spec) {
  check_env_id(spec.env_id);
  if (spec.num_envs <= 0) throw ConfigError("num-envs must be at least 1 (got " + std::to_string(spec.num_envs) + ")");
  if (spec.num_envs >= kMaxEnvs) throw ConfigError("num-envs must be below 2^32 (got " + std::to_string(spec.num_envs) + ")");
  if (spec.chunk < 1) throw ConfigError("chunk must be at least 1 (got " + std::to_string(spec.chunk) + ")");

  MemoryProfileResult r;
  r.spec = spec;
  r.request = memory_profile_request(spec);
  r.plan = plan_memory(r.request);
  r.steps = spec.steps > 0 ? spec.steps : 2 * static_cast<uint64_t>(spec.chunk);
  r.threads = spec.device == Device::kCpu ? cpu::resolve_threads(spec.threads) : 0;
  r.device_name = spec.device == Device::kCuda && !cuda_status().devices.empty() ? cuda_status().devices.front().name
                                                                                 : cpu_model() + " (" + std::to_string(r.threads) + (r.threads == 1 ? " thread)" : " threads)");
  r.predicted_bytes = r.plan.fits() ? r.plan.batch_bytes() : r.plan.needed_bytes;
  r.host_predicted_bytes = r.plan.fits() ? r.plan.host_batch_bytes() : r.plan.host_needed_bytes;
  r.method = spec.device == Device::kCuda ? "drop in cudaMemGetInfo free bytes; host: VmRSS growth (in process)"
                                          : "VmHWM - VmRSS in a forked child";
  if (!r.plan.fits()) return r;  // refused: nothing is allocated, the row shows the shortfall

  r.measured_peak_bytes =
      spec.device == Device::kCuda ? measure_cuda_peak(r, r.host_measured_bytes) : measure_host_peak(r);
  r.measured = true;
  r.bytes_per_env = static_cast<double>(r.measured_peak_bytes) / static_cast<double>(r.plan.batch_envs);
  r.ratio = r.predicted_bytes ? static_cast<double>(r.measured_peak_bytes) / static_cast<double>(r.predicted_bytes) : 0;
  return r;
}

std::vector<std::string> memory_profile_columns() {
  std::vector<std::string> columns = citation_columns();
  for (const char* c : {"profile", "num_envs", "chunk", "mode", "steps", "free_bytes", "usable_bytes", "per_env_bytes",
                        "fixed_bytes", "batch_envs", "batches", "predicted_bytes", "measured_peak_bytes",
                        "bytes_per_env", "ratio", "host_predicted_bytes", "host_measured_bytes", "method"}) {
    columns.push_back(c);
  }
  return columns;
}

std::vector<std::string> memory_profile_row(const MemoryProfileResult& r) {
  std::vector<std::string> row =
      citation_values(r.spec.env_id, r.spec.precision, r.spec.device, r.device_name, r.threads);
  for (std::string v : {r.spec.profile,
                        std::to_string(r.spec.num_envs),
                        std::to_string(r.spec.chunk),
                        std::string(to_string(r.spec.mode)),
                        std::to_string(r.steps),
                        std::to_string(r.request.free_bytes),
                        std::to_string(r.plan.usable_bytes),
                        std::to_string(r.plan.per_env_bytes),
                        std::to_string(r.plan.fixed_bytes),
                        std::to_string(r.plan.batch_envs),
                        std::to_string(r.plan.num_batches),
                        std::to_string(r.predicted_bytes),
                        r.measured ? std::to_string(r.measured_peak_bytes) : "",
                        r.measured ? fmt(r.bytes_per_env, "%.4f") : "",
                        r.measured ? fmt(r.ratio, "%.4f") : "",
                        std::to_string(r.host_predicted_bytes),
                        r.measured && r.spec.device == Device::kCuda ? std::to_string(r.host_measured_bytes) : "",
                        r.measured ? r.method : "not run: the plan refused"}) {
    row.push_back(std::move(v));
  }
  return row;
}

}  // namespace simkit
