// SPDX-License-Identifier: Apache-2.0
// Facts about the machine and the build that every result row carries.
#pragma once

#include <string>

namespace simkit {

std::string cpu_model();
std::string host_name();
int cpu_cores();
std::string simkit_version();
// The source tree's commit at run time ("<sha>" or "<sha>-dirty"), else the commit at configure time.
std::string git_commit();
std::string utc_timestamp();        // 2026-11-23T09:41:00Z
std::string compact_timestamp();    // 20261123T094100Z, for file names

}  // namespace simkit
