// SPDX-License-Identifier: Apache-2.0
// Math used inside env code. float: a polynomial sin/cos that vectorizes on the CPU (glibc sinf/cosf
// do not: g++ fuses them into a scalar sincosf call) and gives the same bits on CPU and GPU.
// double: the platform's sin/cos, so float64 variants match Python's math module bit for bit.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

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

// a if c else b, as a bitwise blend. A plain ?: is a branch that gcc 12 often fails to if-convert once
// jump threading has merged neighbouring choices, and a failed if-conversion keeps the whole env loop
// scalar; a blend stays a blend.
SIMKIT_HD float select(bool c, float a, float b) {
  uint32_t ua, ub;
  memcpy(&ua, &a, 4);
  memcpy(&ub, &b, 4);
  const uint32_t mask = 0u - static_cast<uint32_t>(c);
  const uint32_t r = (ua & mask) | (ub & ~mask);
  float out;
  memcpy(&out, &r, 4);
  return out;
}
// double: a plain ?:. gcc 12 at -O2 and above miscompiled the blend in MountainCarContinuous's
// float64 step (a double->float->double rounding vanished; the classic-control tests caught it), and
// the float64 variants are about exactness, not speed.
SIMKIT_HD double select(bool c, double a, double b) { return c ? a : b; }

// select() on a flag that is the same for every env of a batch (a Params field): the blend also avoids
// gcc 12's failure to vectorize a select whose condition is not per lane.
template <class T>
SIMKIT_HD T select_uniform(int32_t flag, T a, T b) {
  return select(flag != 0, a, b);
}

SIMKIT_HD float exp(float x) { return ::expf(x); }
SIMKIT_HD double exp(double x) { return ::exp(x); }
SIMKIT_HD float log(float x) { return ::logf(x); }
SIMKIT_HD double log(double x) { return ::log(x); }
SIMKIT_HD float pow(float x, float y) { return ::powf(x, y); }
SIMKIT_HD double pow(double x, double y) { return ::pow(x, y); }
SIMKIT_HD float abs(float x) { return ::fabsf(x); }
SIMKIT_HD double abs(double x) { return ::fabs(x); }

// Python's x**2: CPython's float ** and NumPy's scalar ** call libm pow/powf, which is not always the
// correctly rounded x*x (1 ulp apart for a few inputs). The float64 variants reproduce it; the
// exponent is read through a volatile so gcc cannot fold pow(x, 2) back into x*x. The float32
// variants, and device code (no bit parity with CPython there), use x*x.
template <class Real, class T>
SIMKIT_HD T py_square(T x) {
#if defined(__CUDA_ARCH__)
  return x * x;
#else
  if constexpr (std::is_same_v<Real, double>) {
    volatile T two = 2;
    if constexpr (std::is_same_v<T, float>) {
      return ::powf(x, two);
    } else {
      return ::pow(x, two);
    }
  } else {
    return x * x;
  }
#endif
}

// np.clip / Python's min(max(x, lo), hi) (NaN passes through).
template <class T>
SIMKIT_HD T clip(T x, T lo, T hi) {
  const T above_lo = select(x < lo, lo, x);
  return select(above_lo > hi, hi, above_lo);
}

// floor and ceil of a float without a libm call, so loops over them vectorize on any x86-64 level.
// Exact for every float (from 2^23 on every float is an integer); NaN stays NaN.
SIMKIT_HD float floor(float x) {
  constexpr float kBig = 8388608.0f;                            // 2^23
  const float below = select(x <= kBig, x, kBig);                // NaN -> kBig: the cast stays defined
  const float c = select(below >= -kBig, below, -kBig);
  const float t = static_cast<float>(static_cast<int32_t>(c));  // c rounded toward zero
  const float f = select(t > c, t - 1.0f, t);
  return select(std::fabs(x) < kBig, f, x);
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
  m = select(m < 0.0f, m + b, m);
  return select(m >= b, m - b, m);
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
  x = select(x > hi, x - diff * ceil((x - hi) / diff), x);
  return select(x < lo, x + diff * ceil((lo - x) / diff), x);
}

}  // namespace simkit::math
