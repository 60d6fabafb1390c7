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

TEST_CASE("uniform(low, high) is low + (high - low) * uniform01() bit for bit", "[rng]") {
  // uniform() moves uniform01's power-of-two scale onto the span; these spans include every env's.
  const double spans[][2] = {{-0.05, 0.05}, {-0.6, -0.4}, {-0.1, 0.1}, {-3.14159265358979, 3.14159265358979},
                             {0.75, 0.85}, {325, 335}, {-1e-30, 1e-30}, {1, 1}, {-1e6, 3e7}};
  const Seeds seeds{12345};
  for (const auto& span : spans) {
    for (uint32_t env = 0; env < 64; ++env) {
      for (uint64_t t : {uint64_t{0}, uint64_t{17}, uint64_t{1} << 33}) {
        RandomStream<float> f(seeds, env, Stream::kReset, t), f_ref(seeds, env, Stream::kReset, t);
        RandomStream<double> d(seeds, env, Stream::kReset, t), d_ref(seeds, env, Stream::kReset, t);
        const float lo_f = static_cast<float>(span[0]), hi_f = static_cast<float>(span[1]);
        for (int k = 0; k < 6; ++k) {
          const float want_f = lo_f + (hi_f - lo_f) * f_ref.uniform01();
          REQUIRE(f.uniform(lo_f, hi_f) == want_f);
          const double want_d = span[0] + (span[1] - span[0]) * d_ref.uniform01();
          REQUIRE(d.uniform(span[0], span[1]) == want_d);
        }
      }
    }
  }
}

TEST_CASE("step_words_before(t, back) is the counter of step t - back, borrow included", "[rng]") {
  std::mt19937_64 gen(3);
  const uint64_t edges[] = {0, 1, 0xFFFFFFFFull, 0x100000000ull, 0x100000001ull, 0x1FFFFFFFFull, 0xFFFFFF00000000ull};
  for (int i = 0; i < 20000; ++i) {
    const uint64_t t = i < 7 ? edges[i] : (i % 2 ? gen() >> (gen() % 40) : (gen() % 5 + 1) << 32);
    const uint32_t back = static_cast<uint32_t>(i % 3 ? gen() % 0x80000000u : gen() % 40);
    const StepWords<uint32_t> got = step_words_before<uint32_t>(Stream::kAutoreset, t, back);
    const StepWords<uint32_t> want = step_words<uint32_t>(Stream::kAutoreset, t - back);
    REQUIRE(got.low == want.low);
    REQUIRE(got.high == want.high);
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
