// SPDX-License-Identifier: Apache-2.0
// Temporary file paths unique to this process: ctest runs the suite several times at once (once per
// SIMD target), and two runs must never share a file.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>

namespace simkit::testing {

inline std::filesystem::path temp_path(const std::string& name) {
  return std::filesystem::temp_directory_path() / ("simkit_" + std::to_string(getpid()) + "_" + name);
}

}  // namespace simkit::testing
