// SPDX-License-Identifier: Apache-2.0
// Math used inside env code. float: a polynomial sin/cos that vectorizes on the CPU (glibc sinf/cosf
// do not: g++ fuses them into a scalar sincosf call) and gives the same bits on CPU and GPU.
// double: the platform's sin/cos, so float64 variants match Python's math module bit for bit.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

#include "simkit/hd.hpp"

namespace simkit::math {

// sin and cos of x for |x| < ~8e3 (Cody-Waite reduction by pi/2 in three parts, Cephes sinf/cosf
// minimax polynomials on [-pi/4, pi/4]; max error about 2 ulp).
SIMKIT_HD void sincos_poly(float x, float& s, float& c) {
  const float q = x * 0.636619772367581f;                                 // x / (pi/2)
  const int32_t j = static_cast<int32_t>(q >= 0.0f ? q + 0.5f : q - 0.5f);  // nearest quadrant
  const float fj = static_cast<float>(j);
  float r = x - fj * 1.5703125f;
  r = r - fj * 4.837512969970703125e-4f;
  r = r - fj * 7.54978995489188216e-8f;
  const float z = r * r;
  const float sp = r + r * z * (-1.6666654611e-1f + z * (8.3321608736e-3f + z * -1.9515295891e-4f));
  const float cp = 1.0f - 0.5f * z +
                   z * z * (4.166664568298827e-2f + z * (-1.388731625493765e-3f + z * 2.443315711809948e-5f));
  const int32_t quadrant = j & 3;
  const float s_abs = (quadrant & 1) ? cp : sp;
  const float c_abs = (quadrant & 1) ? sp : cp;
  s = (quadrant & 2) ? -s_abs : s_abs;
  c = ((quadrant + 1) & 2) ? -c_abs : c_abs;
}

SIMKIT_HD void sincos(float x, float& s, float& c) { sincos_poly(x, s, c); }
SIMKIT_HD void sincos(double x, double& s, double& c) {
  s = ::sin(x);
  c = ::cos(x);
}
SIMKIT_HD float sin(float x) {
  float s, c;
  sincos_poly(x, s, c);
  return s;
}
SIMKIT_HD float cos(float x) {
  float s, c;
  sincos_poly(x, s, c);
  return c;
}
SIMKIT_HD double sin(double x) { return ::sin(x); }
SIMKIT_HD double cos(double x) { return ::cos(x); }

// a if flag != 0, else b, for a flag that is the same for every env of a batch (a Params field).
// A ?: on such a flag is a select with a scalar condition, which gcc 12 does not vectorize;
// this bitwise blend is exact and does.
SIMKIT_HD float select_uniform(int32_t flag, float a, float b) {
  uint32_t ua, ub;
  memcpy(&ua, &a, 4);
  memcpy(&ub, &b, 4);
  const uint32_t mask = 0u - static_cast<uint32_t>(flag != 0);
  const uint32_t r = (ua & mask) | (ub & ~mask);
  float out;
  memcpy(&out, &r, 4);
  return out;
}
SIMKIT_HD double select_uniform(int32_t flag, double a, double b) {
  uint64_t ua, ub;
  memcpy(&ua, &a, 8);
  memcpy(&ub, &b, 8);
  const uint64_t mask = 0ull - static_cast<uint64_t>(flag != 0);
  const uint64_t r = (ua & mask) | (ub & ~mask);
  double out;
  memcpy(&out, &r, 8);
  return out;
}

// np.clip / Python's min(max(x, lo), hi): NaN passes through.
template <class T>
SIMKIT_HD T clip(T x, T lo, T hi) {
  return x < lo ? lo : (x > hi ? hi : x);
}

// floor and ceil of a float without a libm call, so loops over them vectorize on any x86-64 level.
// Exact for every float (from 2^23 on every float is an integer); NaN stays NaN.
SIMKIT_HD float floor(float x) {
  constexpr float kBig = 8388608.0f;                            // 2^23
  const float c = x >= -kBig ? (x <= kBig ? x : kBig) : -kBig;  // NaN -> -kBig: the cast stays defined
  const float t = static_cast<float>(static_cast<int32_t>(c));  // c rounded toward zero
  const float f = t > c ? t - 1.0f : t;
  return std::fabs(x) < kBig ? f : x;
}
SIMKIT_HD float ceil(float x) { return -floor(-x); }

// Python's a % b (also NumPy's remainder): the result has the sign of the divisor.
// double: exactly CPython's float_rem (fmod, then one correction). float: a - b * floor(a / b), folded
// back into [0, b); a few ulp from the exact remainder, for b > 0 only, and it vectorizes.
SIMKIT_HD double floor_mod(double a, double b) {
  double m = ::fmod(a, b);
  if (m != 0) {
    if ((b < 0) != (m < 0)) m += b;
  } else {
    m = ::copysign(0.0, b);
  }
  return m;
}
SIMKIT_HD float floor_mod(float a, float b) {
  float m = a - b * floor(a / b);
  m = m < 0.0f ? m + b : m;
  return m >= b ? m - b : m;
}

// Gymnasium's acrobot wrap(x, lo, hi): subtract (hi - lo) while x > hi, then add it while x < lo
// (hi itself is kept). double: the same loops, bit for bit, for |x| < 1e6; beyond that (Gymnasium
// would loop more than 1e5 times, or forever for inf) x is first reduced with floor_mod.
// float: the loop counts in closed form (vectorizes; within a few ulp of the loops).
SIMKIT_HD double wrap(double x, double lo, double hi) {
  const double diff = hi - lo;
  if (!(::fabs(x) < 1e6)) x = lo + floor_mod(x - lo, diff);
  while (x > hi) x = x - diff;
  while (x < lo) x = x + diff;
  return x;
}
SIMKIT_HD float wrap(float x, float lo, float hi) {
  const float diff = hi - lo;
  x = x > hi ? x - diff * ceil((x - hi) / diff) : x;
  return x < lo ? x + diff * ceil((lo - x) / diff) : x;
}

}  // namespace simkit::math
