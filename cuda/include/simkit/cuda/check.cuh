// SPDX-License-Identifier: Apache-2.0
// Every CUDA runtime call goes through SIMKIT_CUDA_CHECK: a failure becomes simkit::CudaError naming
// the call, the file, the line and CUDA's error name and text.
#pragma once

#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

namespace simkit {

class CudaError : public std::runtime_error {
 public:
  CudaError(cudaError_t code, const char* call, const char* file, int line)
      : std::runtime_error(std::string(call) + " failed at " + file + ":" + std::to_string(line) + ": " +
                           cudaGetErrorName(code) + ": " + cudaGetErrorString(code)),
        code_(code) {}
  cudaError_t code() const { return code_; }

 private:
  cudaError_t code_;
};

}  // namespace simkit

#define SIMKIT_CUDA_CHECK(expr)                                                   \
  do {                                                                            \
    const cudaError_t simkit_cuda_status_ = (expr);                               \
    if (simkit_cuda_status_ != cudaSuccess) {                                     \
      throw ::simkit::CudaError(simkit_cuda_status_, #expr, __FILE__, __LINE__);  \
    }                                                                             \
  } while (0)

// After every kernel launch: launch-configuration errors surface here; debug builds also wait for
// the stream so that a fault inside the kernel is reported at its launch site.
#ifdef NDEBUG
#define SIMKIT_CUDA_CHECK_LAUNCH(stream) SIMKIT_CUDA_CHECK(cudaGetLastError())
#else
#define SIMKIT_CUDA_CHECK_LAUNCH(stream)       \
  do {                                          \
    SIMKIT_CUDA_CHECK(cudaGetLastError());      \
    SIMKIT_CUDA_CHECK(cudaStreamSynchronize(stream)); \
  } while (0)
#endif
