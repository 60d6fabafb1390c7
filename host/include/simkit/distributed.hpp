// SPDX-License-Identifier: Apache-2.0
// Runs over MPI ranks (built when SIMKIT_MPI finds MPI; SIMKIT_HAS_MPI=1): each rank steps its slice
// of the global env range (shard.hpp) and statistics meet at rank 0 in rank order. Every collective
// is bounded by a timeout: a rank that died or runs a different configuration stops the job with a
// message instead of hanging it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "simkit/simulator.hpp"
#include "simkit/throughput.hpp"

namespace simkit::distributed {

constexpr double kDefaultTimeoutSeconds = 300;
constexpr int kTimeoutExitCode = 3;

// MPI_COMM_WORLD for the life of the object (MPI_Init .. MPI_Finalize); one per process. Ranks other
// than 0 log warnings and errors only.
class World {
 public:
  // program: the CLI's name, the prefix of every message.
  World(int* argc, char*** argv, std::string program, double timeout_seconds = kDefaultTimeoutSeconds);
  ~World();
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  int local_rank() const { return local_rank_; }  // rank among the ranks of this node
  int local_size() const { return local_size_; }
  bool is_root() const { return rank_ == 0; }
  const std::string& program() const { return program_; }
  void set_timeout(double seconds);  // ConfigError unless positive and finite

  // Bounded collectives; `what` names the step in the timeout message.
  void barrier(const char* what) const;
  // Every rank's bytes, in rank order, at rank 0 (empty elsewhere) or at every rank.
  std::vector<std::string> gather(const std::string& bytes, const char* what) const;
  std::vector<std::string> allgather(const std::string& bytes, const char* what) const;
  int broadcast(int value, const char* what) const;  // rank 0's value, at every rank

  // Prints "<program>: error: rank <r>: <message>" and ends every rank with `code`.
  [[noreturn]] void abort(const std::string& message, int code) const;

 private:
  void wait(void* request, const char* what) const;

  std::string program_;
  double timeout_;
  int rank_ = 0, size_ = 1, local_rank_ = 0, local_size_ = 1;
};

// CPU threads for one rank: `requested`, or the cores shared evenly by the ranks of the node (at
// least one).
int threads_per_rank(int requested, int local_size);

// Makes the CUDA device local_rank modulo the visible devices current; returns its index, -1 in a
// build or on a machine without CUDA devices.
int select_cuda_device(int local_rank);

// Rank 0 compares every rank's configuration text (or "error: <message>" from a rank whose arguments
// failed) and prints the first problem once. Returns 0 when all agree, else 2 on every rank.
int agree_on_config(const World& world, const std::string& config_or_error);

// Every rank's statistics at rank 0, merged in rank order: counts add, return sums merge exactly, so
// the mean return is bit for bit the one-process value. Other ranks get their own back.
RolloutStats reduce_stats(const World& world, const RolloutStats& mine);

// One throughput measurement over the ranks, at rank 0: statistics reduced as above, each repeat
// timed by its slowest rank, the spec of the whole run (num_envs = total_envs), the ranks and each
// rank's device. Other ranks get their own result back.
ThroughputResult reduce_throughput(const World& world, const ThroughputResult& mine);

}  // namespace simkit::distributed
