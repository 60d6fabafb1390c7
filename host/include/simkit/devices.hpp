// SPDX-License-Identifier: Apache-2.0
// Device discovery and choice. Host code only: the CUDA side lives in cuda/.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "simkit/simulator.hpp"

namespace simkit {

struct CudaDeviceInfo {
  int index = 0;
  std::string name;
  int cc_major = 0, cc_minor = 0;
  int sm_count = 0;
  int clock_mhz = 0;         // SM clock, 0 if unknown
  int memory_clock_mhz = 0;  // 0 if unknown
  uint64_t total_bytes = 0, free_bytes = 0;
};

struct CudaStatus {
  bool compiled = false;      // this build has the CUDA backend
  bool usable = false;        // at least one device answered
  std::string reason;         // why not usable, e.g. "cudaErrorInsufficientDriver: ..."
  std::string driver_version;   // "13.0", empty if no driver
  std::string runtime_version;  // "13.0", empty if not compiled
  std::vector<CudaDeviceInfo> devices;
};

// Never throws; queried once per process.
const CudaStatus& cuda_status();

enum class DeviceChoice { kAuto, kCpu, kCuda };
DeviceChoice parse_device(const std::string& s);  // "auto" | "cpu" | "cuda"

// auto: CUDA when usable, else CPU, logging why once. cuda: ConfigError unless usable.
Device resolve_device(DeviceChoice choice, int cpu_threads);

namespace cpu {
// More threads than this is a mistake, not a machine: libgomp crashes or exits on ~1e5.
constexpr int kMaxThreads = 4096;
// CPU threads a run uses: `requested`, or every core for 0. ConfigError outside [0, kMaxThreads].
int resolve_threads(int requested);
}  // namespace cpu

// Free bytes on the device a run would use (host MemAvailable for the CPU).
uint64_t free_bytes(Device d);

// Device memory now, from the driver (cudaMemGetInfo on `device`), not the value cached in
// cuda_status(). Throws ConfigError in a build without CUDA, CudaError when the call fails.
struct DeviceMemory {
  uint64_t free_bytes = 0;
  uint64_t total_bytes = 0;
  uint64_t used_bytes() const { return total_bytes - free_bytes; }
};
DeviceMemory cuda_memory_now(int device = 0);

// Makes usable CUDA device `index` modulo their count current for this process's simulators (one
// GPU per MPI rank); returns its index, -1 where no device is usable.
int use_cuda_device(int index);

}  // namespace simkit
