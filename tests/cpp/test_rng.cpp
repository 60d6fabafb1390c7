// SPDX-License-Identifier: Apache-2.0
// simkit's Philox (written over lane types) against Random123's reference implementation, the
// uniform conversions against their defining formulas, and ExactSum's order independence.
#include <Random123/philox.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <random>
#include <vector>

#include "simkit/exact_sum.hpp"
#include "simkit/rng.hpp"

using namespace simkit;

TEST_CASE("Philox4x32-10 equals Random123's philox4x32", "[rng]") {
  std::mt19937_64 gen(1);  // test inputs only
  for (int i = 0; i < 20000; ++i) {
    const uint64_t a = gen(), b = gen(), k = gen();
    const philox4x32_ctr_t ctr = {{uint32_t(a), uint32_t(a >> 32), uint32_t(b), uint32_t(b >> 32)}};
    const philox4x32_key_t key = {{uint32_t(k), uint32_t(k >> 32)}};
    const philox4x32_ctr_t want = philox4x32_R(10, ctr, key);
    const Words4<uint32_t> got = philox4x32_10<uint32_t>(ctr.v[0], ctr.v[1], ctr.v[2], ctr.v[3], key.v[0], key.v[1]);
    for (int w = 0; w < 4; ++w) REQUIRE(got.w[w] == want.v[w]);
  }
}

TEST_CASE("uniform draws are exactly their formulas", "[rng]") {
  for (uint32_t hi : {0u, 1u, 0x7fffffffu, 0x80000000u, 0xffffffffu, 0x12345678u}) {
    for (uint32_t lo : {0u, 0x7ffu, 0x800u, 0xffffffffu, 0x9abcdef0u}) {
      const double want = static_cast<double>((static_cast<uint64_t>(hi) << 21) ^ (lo >> 11)) * 0x1.0p-53;
      CHECK(u01_double<uint32_t>(hi, lo) == want);
      CHECK(u01_double<uint32_t>(hi, lo) < 1.0);
    }
    CHECK(u01_float<uint32_t>(hi) == static_cast<float>(hi >> 8) * 0x1.0p-24f);
  }
}

TEST_CASE("ExactSum is exact and independent of the order of its terms", "[rng][statistics]") {
  std::mt19937_64 gen(7);
  std::vector<double> x;
  for (int i = 0; i < 5000; ++i) {
    const double mag = std::ldexp(1.0, static_cast<int>(gen() % 120) - 60);
    x.push_back((gen() % 2 ? 1 : -1) * mag * (1.0 + static_cast<double>(gen() % 1000) / 1000));
  }
  x.push_back(1e100);
  x.push_back(-1e100);  // cancels exactly; a naive sum loses everything below 1e84
  ExactSum forward, backward, halves;
  for (double v : x) forward.add(v);
  for (auto it = x.rbegin(); it != x.rend(); ++it) backward.add(*it);
  ExactSum a, b;
  for (size_t i = 0; i < x.size(); ++i) (i % 2 ? a : b).add(x[i]);
  halves.add(a);
  halves.add(b);
  std::vector<double> sorted = x;
  std::sort(sorted.begin(), sorted.end(), [](double p, double q) { return std::fabs(p) < std::fabs(q); });
  long double reference = 0;  // small terms first, in extended precision: exact enough to compare
  for (double v : sorted) {
    if (std::fabs(v) < 1e99) reference += v;
  }
  CHECK(forward.value() == backward.value());
  CHECK(forward.value() == halves.value());
  CHECK(forward.value() == Approx(static_cast<double>(reference)).epsilon(1e-15));
  ExactSum special;
  special.add(1.0);
  special.add(HUGE_VAL);
  CHECK(special.value() == HUGE_VAL);
  special.add(-HUGE_VAL);
  CHECK(std::isnan(special.value()));
}
