// SPDX-License-Identifier: Apache-2.0
// make_cuda_simulator: the CUDA backend's entry point (the kernels live in cuda_backend.cuh and are
// instantiated per precision by cuda_precision.cu).
#include "simkit/cuda/check.cuh"
#include "simkit/devices.hpp"

namespace simkit {

namespace cuda {
std::unique_ptr<Simulator> make_simulator_float(const SimConfig& c);
std::unique_ptr<Simulator> make_simulator_double(const SimConfig& c);

std::string device_label() {
  int device = 0;
  SIMKIT_CUDA_CHECK(cudaGetDevice(&device));
  cudaDeviceProp p{};
  SIMKIT_CUDA_CHECK(cudaGetDeviceProperties(&p, device));
  return std::string(p.name) + " (CUDA device " + std::to_string(device) + ", sm_" + std::to_string(p.major) +
         std::to_string(p.minor) + ")";
}

int current_device() {
  int device = 0;
  SIMKIT_CUDA_CHECK(cudaGetDevice(&device));
  return device;
}

uint64_t device_free_bytes() {
  size_t free_b = 0, total_b = 0;
  SIMKIT_CUDA_CHECK(cudaMemGetInfo(&free_b, &total_b));
  return free_b;
}
}  // namespace cuda

std::unique_ptr<Simulator> make_cuda_simulator(const SimConfig& config) {
  if (!cuda_status().usable) throw ConfigError("device 'cuda' is not available: " + cuda_status().reason);
  check_env_id(config.env_id);
  return config.precision == Precision::kFloat32 ? cuda::make_simulator_float(config)
                                                 : cuda::make_simulator_double(config);
}

}  // namespace simkit
