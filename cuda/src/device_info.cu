// SPDX-License-Identifier: Apache-2.0
// Device discovery: never throws; a machine without a driver reports why.
#include "simkit/cuda/check.cuh"
#include "simkit/devices.hpp"

namespace simkit {

namespace {
std::string version_string(int v) { return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10); }
}  // namespace

const CudaStatus& cuda_status() {
  static const CudaStatus status = [] {
    CudaStatus s;
    s.compiled = true;
    s.runtime_version = version_string(CUDART_VERSION);
    int driver = 0;
    if (cudaDriverGetVersion(&driver) == cudaSuccess && driver > 0) s.driver_version = version_string(driver);
    int count = 0;
    const cudaError_t err = cudaGetDeviceCount(&count);
    if (err != cudaSuccess) {
      s.reason = std::string(cudaGetErrorName(err)) + ": " + cudaGetErrorString(err);
      cudaGetLastError();  // clear the sticky error so later calls start clean
      return s;
    }
    if (count == 0) {
      s.reason = "no CUDA device found";
      return s;
    }
    // Enumeration visits every device; the caller's current device stays current afterwards.
    int current = 0;
    cudaGetDevice(&current);
    for (int i = 0; i < count; ++i) {
      cudaDeviceProp p{};
      if (cudaGetDeviceProperties(&p, i) != cudaSuccess) continue;
      CudaDeviceInfo d;
      d.index = i;
      d.name = p.name;
      d.cc_major = p.major;
      d.cc_minor = p.minor;
      d.sm_count = p.multiProcessorCount;
      int clock_khz = 0, mem_clock_khz = 0;
      if (cudaDeviceGetAttribute(&clock_khz, cudaDevAttrClockRate, i) == cudaSuccess) d.clock_mhz = clock_khz / 1000;
      if (cudaDeviceGetAttribute(&mem_clock_khz, cudaDevAttrMemoryClockRate, i) == cudaSuccess)
        d.memory_clock_mhz = mem_clock_khz / 1000;
      d.total_bytes = p.totalGlobalMem;
      size_t free_b = 0, total_b = 0;
      if (cudaSetDevice(i) == cudaSuccess && cudaMemGetInfo(&free_b, &total_b) == cudaSuccess) d.free_bytes = free_b;
      s.devices.push_back(d);
    }
    cudaSetDevice(current);
    s.usable = !s.devices.empty();
    if (!s.usable) s.reason = "CUDA devices found but none answered";
    return s;
  }();
  return status;
}

DeviceMemory cuda_memory_now(int device) {
  if (!cuda_status().usable) throw ConfigError("device 'cuda' is not available: " + cuda_status().reason);
  size_t free_b = 0, total_b = 0;
  SIMKIT_CUDA_CHECK(cudaSetDevice(device));
  SIMKIT_CUDA_CHECK(cudaMemGetInfo(&free_b, &total_b));
  DeviceMemory m;
  m.free_bytes = free_b;
  m.total_bytes = total_b;
  return m;
}

int use_cuda_device(int index) {
  const CudaStatus& status = cuda_status();  // first: the query visits every device
  if (!status.usable) return -1;
  const int device = status.devices[static_cast<size_t>(index) % status.devices.size()].index;
  SIMKIT_CUDA_CHECK(cudaSetDevice(device));
  return device;
}

}  // namespace simkit
