// SPDX-License-Identifier: Apache-2.0
#include "simkit/distributed.hpp"

#include <mpi.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <utility>

#include "simkit/devices.hpp"

namespace simkit::distributed {

namespace {

// Plain values in and out of the byte strings the collectives carry (every rank runs the same build).
class Writer {
 public:
  template <class T>
  Writer& put(const T& v) {
    bytes_.append(reinterpret_cast<const char*>(&v), sizeof v);
    return *this;
  }
  Writer& put_string(const std::string& s) {
    put<uint64_t>(s.size());
    bytes_ += s;
    return *this;
  }
  Writer& put_doubles(const std::vector<double>& v) {
    put<uint64_t>(v.size());
    bytes_.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(double));
    return *this;
  }
  const std::string& bytes() const { return bytes_; }

 private:
  std::string bytes_;
};

class Reader {
 public:
  explicit Reader(const std::string& bytes) : bytes_(bytes) {}
  template <class T>
  T get() {
    T v;
    std::memcpy(&v, take(sizeof v), sizeof v);
    return v;
  }
  std::string get_string() {
    const size_t n = get<uint64_t>();
    return std::string(take(n), n);
  }
  std::vector<double> get_doubles() {
    const size_t n = get<uint64_t>();
    std::vector<double> v(n);
    std::memcpy(v.data(), take(n * sizeof(double)), n * sizeof(double));
    return v;
  }

 private:
  const char* take(size_t n) {
    if (pos_ + n > bytes_.size()) throw std::runtime_error("distributed: truncated message from another rank");
    const char* p = bytes_.data() + pos_;
    pos_ += n;
    return p;
  }
  const std::string& bytes_;
  size_t pos_ = 0;
};

void put_stats(Writer& w, const RolloutStats& s) {
  w.put(s.steps).put(s.episodes.episodes).put(s.episodes.length_sum).put(s.returns().special());
  w.put_doubles(s.returns().partials());
}
void merge_stats(Reader& r, RolloutStats& into) {
  const uint64_t steps = r.get<uint64_t>();
  EpisodeStats counts;
  counts.episodes = r.get<uint64_t>();
  counts.length_sum = r.get<uint64_t>();
  const double special = r.get<double>();
  into.merge(steps, counts, ExactSum(r.get_doubles(), special));
}

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

World::World(int* argc, char*** argv, std::string program, double timeout_seconds)
    : program_(std::move(program)), timeout_(timeout_seconds) {
  MPI_Init(argc, argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
  MPI_Comm node;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node);
  MPI_Comm_rank(node, &local_rank_);
  MPI_Comm_size(node, &local_size_);
  MPI_Comm_free(&node);
  if (rank_ != 0) spdlog::set_level(spdlog::level::warn);  // rank 0's info lines speak for every rank
}

World::~World() { MPI_Finalize(); }

void World::set_timeout(double seconds) {
  if (!(seconds > 0 && std::isfinite(seconds))) {
    throw ConfigError("mpi-timeout must be a positive number of seconds (got " + std::to_string(seconds) + ")");
  }
  timeout_ = seconds;
}

void World::abort(const std::string& message, int code) const {
  std::fprintf(stderr, "%s: error: rank %d: %s\n", program_.c_str(), rank_, message.c_str());
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);  // MPI_Abort does not return; this keeps [[noreturn]] honest
}

// Polls a nonblocking collective until it completes or the deadline passes: yielding for the first
// couple of milliseconds (a reduction among ranks that arrive together takes microseconds), then
// sleeping between polls, which keeps a rank that waits long off the cores other ranks compute on.
void World::wait(void* request, const char* what) const {
  MPI_Request* req = static_cast<MPI_Request*>(request);
  const double start = now_seconds(), deadline = start + timeout_;
  int done = 0;
  while (true) {
    MPI_Test(req, &done, MPI_STATUS_IGNORE);
    if (done) return;
    if (now_seconds() > deadline) {
      char msg[256];
      std::snprintf(msg, sizeof msg,
                    "timed out after %.0f s waiting for the other ranks at %s (a rank died, hangs, or runs a "
                    "different configuration; --mpi-timeout sets the limit)",
                    timeout_, what);
      abort(msg, kTimeoutExitCode);
    }
    if (now_seconds() - start < 2e-3) {
      std::this_thread::yield();
    } else {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  }
}

void World::barrier(const char* what) const {
  MPI_Request req;
  MPI_Ibarrier(MPI_COMM_WORLD, &req);
  wait(&req, what);
}

int World::broadcast(int value, const char* what) const {
  MPI_Request req;
  MPI_Ibcast(&value, 1, MPI_INT, 0, MPI_COMM_WORLD, &req);
  wait(&req, what);
  return value;
}

std::vector<std::string> World::gather(const std::string& bytes, const char* what) const {
  const int n = static_cast<int>(bytes.size());
  std::vector<int> sizes(is_root() ? static_cast<size_t>(size_) : 0);
  MPI_Request req;
  MPI_Igather(&n, 1, MPI_INT, sizes.data(), 1, MPI_INT, 0, MPI_COMM_WORLD, &req);
  wait(&req, what);
  std::vector<int> offsets(sizes.size(), 0);
  for (size_t i = 1; i < sizes.size(); ++i) offsets[i] = offsets[i - 1] + sizes[i - 1];
  std::string all(sizes.empty() ? 0 : static_cast<size_t>(offsets.back() + sizes.back()), '\0');
  MPI_Igatherv(bytes.data(), n, MPI_BYTE, all.data(), sizes.data(), offsets.data(), MPI_BYTE, 0, MPI_COMM_WORLD,
               &req);
  wait(&req, what);
  std::vector<std::string> out;
  for (size_t i = 0; i < sizes.size(); ++i) out.push_back(all.substr(offsets[i], sizes[i]));
  return out;
}

std::vector<std::string> World::allgather(const std::string& bytes, const char* what) const {
  const int n = static_cast<int>(bytes.size());
  std::vector<int> sizes(static_cast<size_t>(size_));
  MPI_Request req;
  MPI_Iallgather(&n, 1, MPI_INT, sizes.data(), 1, MPI_INT, MPI_COMM_WORLD, &req);
  wait(&req, what);
  std::vector<int> offsets(sizes.size(), 0);
  for (size_t i = 1; i < sizes.size(); ++i) offsets[i] = offsets[i - 1] + sizes[i - 1];
  std::string all(static_cast<size_t>(offsets.back() + sizes.back()), '\0');
  MPI_Iallgatherv(bytes.data(), n, MPI_BYTE, all.data(), sizes.data(), offsets.data(), MPI_BYTE, MPI_COMM_WORLD, &req);
  wait(&req, what);
  std::vector<std::string> out;
  for (size_t i = 0; i < sizes.size(); ++i) out.push_back(all.substr(offsets[i], sizes[i]));
  return out;
}

int threads_per_rank(int requested, int local_size) {
  if (requested > 0) return requested;
  return std::max(1, cpu::resolve_threads(0) / std::max(1, local_size));
}

int select_cuda_device(int local_rank) { return use_cuda_device(local_rank); }

int agree_on_config(const World& world, const std::string& config_or_error) {
  const std::vector<std::string> all = world.gather(config_or_error, "the configuration check");
  int verdict = 0;
  if (world.is_root()) {
    std::string problem;
    for (size_t r = 0; r < all.size() && problem.empty(); ++r) {
      if (all[r].rfind("error: ", 0) == 0) {
        problem = (r == 0 ? "" : "rank " + std::to_string(r) + ": ") + all[r].substr(7);
      } else if (all[r] != all[0]) {
        problem = "rank " + std::to_string(r) + " runs a different configuration from rank 0 (" + all[r] + " vs " +
                  all[0] + "); every rank must be given the same arguments and device kind";
      }
    }
    if (!problem.empty()) {
      std::fprintf(stderr, "%s: error: %s\n", world.program().c_str(), problem.c_str());
      verdict = 2;
    }
  }
  return world.broadcast(verdict, "the configuration check");
}

RolloutStats reduce_stats(const World& world, const RolloutStats& mine) {
  Writer w;
  put_stats(w, mine);
  const std::vector<std::string> all = world.gather(w.bytes(), "the statistics reduction");
  if (!world.is_root()) return mine;
  RolloutStats total;
  for (const std::string& bytes : all) {
    Reader r(bytes);
    merge_stats(r, total);
  }
  return total;
}

ThroughputResult reduce_throughput(const World& world, const ThroughputResult& mine) {
  Writer w;
  put_stats(w, mine.stats);
  w.put_doubles(mine.repeat_seconds);
  w.put<uint64_t>(mine.repeat_env_steps.size());
  for (uint64_t s : mine.repeat_env_steps) w.put(s);
  w.put_string(mine.device_name);
  const std::vector<std::string> all = world.gather(w.bytes(), "the throughput reduction");
  if (!world.is_root()) return mine;
  ThroughputResult total = mine;
  total.stats = RolloutStats{};
  total.repeat_seconds.assign(mine.repeat_seconds.size(), 0.0);
  total.repeat_env_steps.assign(mine.repeat_env_steps.size(), 0);
  total.rank_devices.clear();
  for (size_t rank = 0; rank < all.size(); ++rank) {
    Reader r(all[rank]);
    merge_stats(r, total.stats);
    const std::vector<double> seconds = r.get_doubles();
    const size_t repeats = r.get<uint64_t>();
    if (seconds.size() != total.repeat_seconds.size() || repeats != seconds.size()) {
      throw std::runtime_error("rank " + std::to_string(rank) + " timed a different number of repeats");
    }
    for (size_t k = 0; k < repeats; ++k) {
      total.repeat_seconds[k] = std::max(total.repeat_seconds[k], seconds[k]);  // the slowest rank
      total.repeat_env_steps[k] += r.get<uint64_t>();
    }
    total.rank_devices += (rank ? "; " : "") + std::to_string(rank) + ": " + r.get_string();
  }
  total.ranks = world.size();
  total.spec.num_envs = mine.spec.total_envs > 0 ? mine.spec.total_envs : mine.spec.num_envs;
  total.spec.env_offset = 0;
  summarize_repeats(total);
  return total;
}

}  // namespace simkit::distributed
