// SPDX-License-Identifier: Apache-2.0
// Math used inside env code, written once over lane types (simkit/lanes.hpp).
// float: polynomial sin/cos/exp/log built from IEEE adds, multiplies and conversions, so a CPU lane,
// a SIMD lane and a CUDA thread compute the same bits (with FMA contraction off, as the CPU builds
// always are). double: the C library's functions, lane by lane, so the float64 variants match
// Python's math module bit for bit.
#pragma once

#include <cstdint>
#include <type_traits>

#include "simkit/lanes.hpp"

namespace simkit::math {

template <class V>
constexpr bool kIsFloat = std::is_same_v<lanes::Scalar<V>, float>;

// x / k for a constant k: float variants multiply by the reciprocal (within an ulp of the quotient,
// and a division costs ~10 multiplies); float64 variants divide, as Gymnasium does.
template <class V, class K>
SIMKIT_HD V over(const V& x, K k) {
  using T = lanes::Scalar<V>;
  if constexpr (kIsFloat<V>) {
    return x * (T(1) / static_cast<T>(k));
  } else {
    return x / static_cast<T>(k);
  }
}

// Cephes sinf/cosf minimax polynomials of r in [-pi/4, pi/4].
template <class V>
SIMKIT_HD void sincos_quadrant0(const V& r, V& s, V& c) {
  const V z = r * r;
  s = r + r * z * (-1.6666654611e-1f + z * (8.3321608736e-3f + z * -1.9515295891e-4f));
  c = 1.0f - 0.5f * z + z * z * (4.166664568298827e-2f + z * (-1.388731625493765e-3f + z * 2.443315711809948e-5f));
}

// sin and cos of float lanes for |x| < ~8e3 (Cody-Waite reduction by pi/2 in three parts, then
// sincos_quadrant0; max error about 2 ulp).
template <class V>
SIMKIT_HD void sincos_poly(const V& x, V& s, V& c) {
  using I = lanes::Int<V>;
  // The nearest quadrant: x / (pi/2) rounded to an integer (ties to even) by adding and subtracting
  // 1.5 * 2^23, which IEEE adds do exactly alike everywhere; the clamp keeps |q| < 2^22, where the
  // trick is exact, for any input.
  const V q = lanes::min(lanes::max(x * 0.636619772367581f, V(-4.0e6f)), V(4.0e6f));
  const V fj = (q + 12582912.0f) - 12582912.0f;
  const I j = lanes::cast<int32_t>(fj);
  V r = x - fj * 1.5703125f;
  r = r - fj * 4.837512969970703125e-4f;
  r = r - fj * 7.54978995489188216e-8f;
  V sp, cp;
  sincos_quadrant0(r, sp, cp);
  // Odd quadrants swap sin and cos; quadrants 2, 3 negate sin and 1, 2 negate cos (sign-bit flips).
  const auto odd = (j & 1) == I(1);
  const V s_abs = lanes::select(odd, cp, sp);
  const V c_abs = lanes::select(odd, sp, cp);
  s = lanes::bit_cast<float>(lanes::bit_cast<int32_t>(s_abs) ^ ((j & 2) << 30));
  c = lanes::bit_cast<float>(lanes::bit_cast<int32_t>(c_abs) ^ (((j + 1) & 2) << 30));
}

template <class V>
SIMKIT_HD void sincos(const V& x, V& s, V& c) {
  if constexpr (kIsFloat<V>) {
    sincos_poly(x, s, c);
  } else {
    s = lanes::libm_sin(x);
    c = lanes::libm_cos(x);
  }
}
// sincos for angles that are nearly always small (CartPole's pole, which terminates at 0.21): when
// every lane is below 0.78 (< pi/4), the quadrant is 0, the reduction would leave r = x and flip no
// sign, so the polynomials alone give the same bits, ~17 instructions fewer per CUDA thread. Angles
// over the whole circle (Pendulum, Acrobot) call sincos: there the test would only cost.
template <class V>
SIMKIT_HD void sincos_mostly_small(const V& x, V& s, V& c) {
  if constexpr (kIsFloat<V>) {
    if (lanes::all(lanes::abs(x) < V(0.78f))) {
      sincos_quadrant0(x, s, c);
      return;
    }
  }
  sincos(x, s, c);
}

template <class V>
SIMKIT_HD V sin(const V& x) {
  if constexpr (kIsFloat<V>) {
    V s, c;
    sincos_poly(x, s, c);
    return s;
  } else {
    return lanes::libm_sin(x);
  }
}
template <class V>
SIMKIT_HD V cos(const V& x) {
  if constexpr (kIsFloat<V>) {
    V s, c;
    sincos_poly(x, s, c);
    return c;
  } else {
    return lanes::libm_cos(x);
  }
}

// 2^n for integer lanes n in [-126, 127], exactly.
template <class V>
SIMKIT_HD V exp2_int(const lanes::Int<V>& n) {
  return lanes::from_bits<float>((n + 127) << 23);
}

// e^x for float lanes (Cephes expf: x = n ln2 + r, |r| <= ln2 / 2, degree-6 polynomial; within
// 2 ulp). Below -87.3 gives 0, above 88.72 gives inf; NaN stays NaN.
template <class V>
SIMKIT_HD V exp_poly(const V& x) {
  using I = lanes::Int<V>;
  const V xc = lanes::min(lanes::max(x, V(-87.3f)), V(88.72f));
  const V fn = lanes::min(lanes::floor(xc * 1.44269504088896341f + 0.5f), V(127.0f));
  const I n = lanes::cast<int32_t>(fn);
  V r = xc - fn * 0.693359375f;
  r = r + fn * 2.12194440e-4f;
  const V p = ((((1.9875691500e-4f * r + 1.3981999507e-3f) * r + 8.3334519073e-3f) * r + 4.1665795894e-2f) * r +
               1.6666665459e-1f) * r + 5.0000001201e-1f;
  const V e = (p * (r * r) + r + 1.0f) * exp2_int<V>(n);
  const V out = lanes::select(x > 88.72f, V(HUGE_VALF), lanes::select(x < -87.3f, V(0.0f), e));
  return lanes::select(x != x, x, out);
}

// ln x for float lanes (Cephes logf: x = m 2^e, m in [sqrt(1/2), sqrt(2)), degree-8 polynomial in
// m - 1; within 2 ulp for normal x). 0 gives -inf, negatives NaN, inf inf; subnormals are treated
// as 0.
template <class V>
SIMKIT_HD V log_poly(const V& x) {
  using I = lanes::Int<V>;
  const I bits = lanes::to_bits(x);
  I e = ((bits >> 23) & 0xff) - 126;
  V m = lanes::from_bits<float>((bits & 0x007fffff) | 0x3f000000);  // in [0.5, 1)
  const auto small = m < 0.707106781186547524f;
  e = lanes::select(small, e - 1, e);
  m = lanes::select(small, m + m - 1.0f, m - 1.0f);
  const V fe = lanes::cast<float>(e);
  const V z = m * m;
  V y = ((((((((7.0376836292e-2f * m - 1.1514610310e-1f) * m + 1.1676998740e-1f) * m - 1.2420140846e-1f) * m +
             1.4249322787e-1f) * m - 1.6668057665e-1f) * m + 2.0000714765e-1f) * m - 2.4999993993e-1f) * m +
       3.3333331174e-1f) * m * z;
  y = y + fe * -2.12194440e-4f;
  y = y - 0.5f * z;
  const V out = (m + y) + fe * 0.693359375f;
  const V special = lanes::select(x == HUGE_VALF, x, lanes::select(x >= 0.0f, V(-HUGE_VALF), V(NAN)));
  return lanes::select((x >= 1.17549435e-38f) & (x < HUGE_VALF), out, special);
}

template <class V>
SIMKIT_HD V exp(const V& x) {
  if constexpr (kIsFloat<V>) return exp_poly(x);
  else return lanes::libm_exp(x);
}
template <class V>
SIMKIT_HD V log(const V& x) {
  if constexpr (kIsFloat<V>) return log_poly(x);
  else return lanes::libm_log(x);
}
// x^y for x > 0 (float: exp(y ln x); double: the C library's pow).
template <class V>
SIMKIT_HD V pow_positive(const V& x, const V& y) {
  if constexpr (kIsFloat<V>) return exp_poly(y * log_poly(x));
  else return lanes::libm_pow(x, y);
}

// Python's x**2: CPython's float ** and NumPy's scalar ** call libm pow/powf, which is not always the
// correctly rounded x*x (1 ulp apart for a few inputs). The float64 variants (Real = double) of the
// Gymnasium envs reproduce it on the host; the exponent is read through a volatile so the compiler
// cannot fold pow(x, 2) back into x*x. float variants, and device code, use x*x.
template <class Real, class V>
SIMKIT_HD V py_square(const V& x) {
#if defined(__CUDA_ARCH__)
  return x * x;
#else
  if constexpr (std::is_same_v<Real, double>) {
    volatile lanes::Scalar<V> two = 2;
    return lanes::libm_pow(x, V(two));
  } else {
    return x * x;
  }
#endif
}

// np.clip / Python's min(max(x, lo), hi) (NaN passes through).
template <class V>
SIMKIT_HD V clip(const V& x, const V& lo, const V& hi) {
  const V above_lo = lanes::select(x < lo, lo, x);
  return lanes::select(above_lo > hi, hi, above_lo);
}

template <class V>
SIMKIT_HD V ceil(const V& x) {
  return -lanes::floor(-x);
}

// Python's a % b (also NumPy's remainder) for b > 0: the result has the sign of the divisor.
// double: exactly CPython's float_rem (fmod, then one correction). float: a - b * floor(a / b),
// folded back into [0, b); a few ulp from the exact remainder.
template <class V>
SIMKIT_HD V floor_mod(const V& a, const V& b) {
  if constexpr (kIsFloat<V>) {
    V m = a - b * lanes::floor(a / b);
    m = lanes::select(m < 0.0f, m + b, m);
    return lanes::select(m >= b, m - b, m);
  } else {
    const V m = lanes::libm_fmod(a, b);
    // m != 0: add b when the signs of b and m differ; m == 0: +0.0 (the sign of b > 0).
    return lanes::select(m != 0.0, lanes::select(m < 0.0, m + b, m), V(0.0));
  }
}

// Gymnasium's acrobot wrap(x, lo, hi): subtract (hi - lo) while x > hi, then add it while x < lo
// (hi itself is kept). double: the same loops, lane by lane, bit for bit, for |x| < 1e6; beyond
// that (Gymnasium would loop more than 1e5 times, or forever for inf) x is first reduced with
// floor_mod. float: the loop counts in closed form (within a few ulp of the loops).
template <class V>
SIMKIT_HD V wrap(V x, const V& lo, const V& hi) {
  const V diff = hi - lo;
  if constexpr (kIsFloat<V>) {
    x = lanes::select(x > hi, x - diff * ceil((x - hi) / diff), x);
    return lanes::select(x < lo, x + diff * ceil((lo - x) / diff), x);
  } else {
    x = lanes::select(lanes::abs(x) < 1e6, x, lo + floor_mod(x - lo, diff));
    for (auto above = x > hi; lanes::any(above); above = x > hi) x = lanes::select(above, x - diff, x);
    for (auto below = x < lo; lanes::any(below); below = x < lo) x = lanes::select(below, x + diff, x);
    return x;
  }
}

}  // namespace simkit::math
