// SPDX-License-Identifier: Apache-2.0
#include "simkit/devices.hpp"

#include <spdlog/spdlog.h>

#include "simkit/planner.hpp"

namespace simkit {

DeviceChoice parse_device(const std::string& s) {
  if (s == "auto") return DeviceChoice::kAuto;
  if (s == "cpu") return DeviceChoice::kCpu;
  if (s == "cuda" || s == "gpu") return DeviceChoice::kCuda;
  throw ConfigError("device must be 'auto', 'cpu' or 'cuda' (got '" + s + "')");
}

Device resolve_device(DeviceChoice choice, int cpu_threads) {
  const CudaStatus& cuda = cuda_status();
  if (choice == DeviceChoice::kCpu) return Device::kCpu;
  if (choice == DeviceChoice::kCuda) {
    if (!cuda.usable) throw ConfigError("device 'cuda' is not available: " + cuda.reason);
    return Device::kCuda;
  }
  static bool logged = false;
  if (cuda.usable) {
    if (!logged) spdlog::info("device auto: CUDA device 0, {}", cuda.devices.front().name);
    logged = true;
    return Device::kCuda;
  }
  if (!logged) spdlog::info("device auto: no usable CUDA device ({}); running on CPU, {} threads", cuda.reason, cpu_threads);
  logged = true;
  return Device::kCpu;
}

uint64_t free_bytes(Device d) {
  if (d == Device::kCuda && cuda_status().usable) return cuda_status().devices.front().free_bytes;
  return host_free_bytes();
}

}  // namespace simkit
