// SPDX-License-Identifier: Apache-2.0
// The CUDA entry points of a build without the CUDA backend (SIMKIT_CUDA=OFF or no nvcc).
#include "simkit/devices.hpp"

namespace simkit {

const CudaStatus& cuda_status() {
  static const CudaStatus status = [] {
    CudaStatus s;
    s.reason = "simkit was built without CUDA (SIMKIT_CUDA=OFF or no nvcc at build time)";
    return s;
  }();
  return status;
}

DeviceMemory cuda_memory_now(int) { throw ConfigError("device 'cuda': " + cuda_status().reason); }

std::unique_ptr<Simulator> make_cuda_simulator(const SimConfig&) { throw ConfigError("device 'cuda': " + cuda_status().reason); }

int use_cuda_device(int) { return -1; }

}  // namespace simkit
