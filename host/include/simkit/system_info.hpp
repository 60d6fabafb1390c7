// SPDX-License-Identifier: Apache-2.0
// Facts about the machine and the build that every result row carries.
#pragma once

#include <string>
#include <vector>

namespace simkit {

std::string cpu_model();
std::string host_name();
int cpu_cores();
std::string simkit_version();
// The source tree's commit at run time ("<sha>" or "<sha>-dirty"), else the commit at configure time.
std::string git_commit();
std::string utc_timestamp();        // 2026-11-23T09:41:00Z
std::string compact_timestamp();    // 20261123T094100Z, for file names

// The SIMD targets of the CPU kernels ("scalar", "avx2", "avx512", "neon"), narrowest first:
// compiled into this build, and of those the ones this CPU runs.
std::vector<std::string> compiled_simd_targets();
std::vector<std::string> available_simd_targets();
// The target CPU simulators made now use: SIMKIT_SIMD when set (ConfigError naming the available
// targets when it is unknown or not available here), else the widest available one.
std::string selected_simd_target();

}  // namespace simkit
