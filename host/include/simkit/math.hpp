// SPDX-License-Identifier: Apache-2.0
// Math used inside env code. float: a polynomial sin/cos that vectorizes on the CPU (glibc sinf/cosf
// do not: g++ fuses them into a scalar sincosf call) and gives the same bits on CPU and GPU.
// double: the platform's sin/cos, so float64 variants match Python's math module bit for bit.
#pragma once

#include <cmath>
#include <cstdint>

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

SIMKIT_HD float exp(float x) { return ::expf(x); }
SIMKIT_HD double exp(double x) { return ::exp(x); }
SIMKIT_HD float log(float x) { return ::logf(x); }
SIMKIT_HD double log(double x) { return ::log(x); }
SIMKIT_HD float pow(float x, float y) { return ::powf(x, y); }
SIMKIT_HD double pow(double x, double y) { return ::pow(x, y); }
SIMKIT_HD float abs(float x) { return ::fabsf(x); }
SIMKIT_HD double abs(double x) { return ::fabs(x); }

template <class T>
SIMKIT_HD T clip(T x, T lo, T hi) {
  return x < lo ? lo : (x > hi ? hi : x);
}

}  // namespace simkit::math
