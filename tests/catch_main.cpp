// SPDX-License-Identifier: Apache-2.0
// The CPU suite's main. ctest runs the suite once per SIMD target this build has (SIMKIT_SIMD=...);
// a target this CPU cannot run exits with 77, which ctest reports as skipped.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "simkit/system_info.hpp"

int main(int argc, char** argv) {
  const char* forced = std::getenv("SIMKIT_SIMD");
  if (forced != nullptr && *forced != '\0') {
    const auto available = simkit::available_simd_targets();
    if (std::find(available.begin(), available.end(), forced) == available.end()) {
      std::fprintf(stderr, "SIMKIT_SIMD=%s: not available on this CPU; skipping\n", forced);
      return 77;
    }
  }
  return Catch::Session().run(argc, argv);
}
