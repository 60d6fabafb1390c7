// SPDX-License-Identifier: Apache-2.0
// Logging for the CUDA backend's destructors, compiled by the host compiler.
#include <spdlog/spdlog.h>

namespace simkit::cuda::detail {

void log_error(const char* what, const char* name, const char* text) noexcept {
  try {
    spdlog::error("{} failed while releasing a CUDA resource: {}: {}", what, name, text);
  } catch (...) {
  }
}

}  // namespace simkit::cuda::detail
