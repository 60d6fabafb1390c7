// SPDX-License-Identifier: Apache-2.0
// Lane types. Env code is written once as templates over a lane type V: V = float or double is one
// env per call (a CUDA thread, the CPU reference path), V = a SIMD batch of floats or doubles is
// W envs at once (the CPU tile loop). Conditions are masks and choices are selects, so nothing
// depends on a compiler turning branches into blends.
//
// What env code uses, for any V:
//   arithmetic and comparisons on V (with scalars of its element type), Mask<V> from comparisons,
//   & | ^ ! on masks, Int<V> / UInt<V> / Int8<V> / Float<V> / Double<V> lanes of the same count,
//   lanes::select(mask, a, b), lanes::any/all(mask), lanes::cast<T>(v) (C++ conversion semantics;
//   float -> int truncates, and callers keep values inside the int range), lanes::min/max/abs/
//   sqrt/floor (IEEE, exact), lanes::libm_* (the C library's function, lane by lane: float64
//   Gymnasium parity), lanes::bits (integer reinterpretation) and the integer ops of Int/UInt.
// This header holds the scalar lanes; the SIMD lanes live with the CPU kernels (host/src/cpu/simd.hpp)
// and specialize lanes::Ops, so env headers never name a SIMD library and CUDA never sees one.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "simkit/hd.hpp"

namespace simkit::lanes {

// The customization point: Ops<V> describes lane type V. Specialized below for scalars and by the
// SIMD header for its batches.
template <class V, class = void>
struct Ops;

// Scalar lanes: one value. Int8 lanes are stored as int8_t; arithmetic on them promotes to int as
// usual and is narrowed on assignment.
template <class T>
struct ScalarOps {
  using Scalar = T;
  using Mask = bool;
  template <class U>
  using Rebind = U;
  static constexpr int kWidth = 1;

  SIMKIT_HD static T select(bool m, T a, T b) { return m ? a : b; }
  SIMKIT_HD static T load(const T* p) { return *p; }
  SIMKIT_HD static void store(T v, T* p) { *p = v; }
  SIMKIT_HD static bool load_flags(const uint8_t* p) { return *p != 0; }
  SIMKIT_HD static void scatter(T v, T* base, const uint32_t* rows) { base[rows[0]] = v; }
  // rows[d] = cols[d] (one env's row of `dims` values; SIMD lanes write one row per lane).
  SIMKIT_HD static void store_rows(const T* cols, int dims, T* rows) {
    for (int d = 0; d < dims; ++d) rows[d] = cols[d];
  }
  template <class U>
  SIMKIT_HD static U cast(T v) {
    return static_cast<U>(v);
  }
  template <class U>
  SIMKIT_HD static U bit_cast(T v) {
    static_assert(sizeof(U) == sizeof(T), "bit_cast between types of one size");
    U u;
    memcpy(&u, &v, sizeof(U));
    return u;
  }
  // x86's minps/maxps: b when either is NaN (every lane type does the same).
  SIMKIT_HD static T min(T a, T b) { return a < b ? a : b; }
  SIMKIT_HD static T max(T a, T b) { return a > b ? a : b; }
  // High half of the 64-bit product (unsigned 32-bit lanes).
  SIMKIT_HD static T mul_high(T a, T b) {
    return static_cast<T>((static_cast<uint64_t>(a) * static_cast<uint64_t>(b)) >> 32);
  }
  // base[index], for the lane's index.
  template <class U, class I>
  SIMKIT_HD static U gather(const U* base, I index) {
    return base[index];
  }
};

template <class T>
struct Ops<T, std::enable_if_t<std::is_arithmetic_v<T>>> : ScalarOps<T> {};

template <class V>
using Mask = typename Ops<V>::Mask;
template <class T, class V>
using Rebind = typename Ops<V>::template Rebind<T>;
template <class V>
using Int = Rebind<int32_t, V>;
template <class V>
using UInt = Rebind<uint32_t, V>;
template <class V>
using Int8 = Rebind<int8_t, V>;
template <class V>
using Float = Rebind<float, V>;
template <class V>
using Double = Rebind<double, V>;
template <class V>
using Scalar = typename Ops<V>::Scalar;
template <class V>
constexpr int kWidth = Ops<V>::kWidth;

// a where m, else b (per lane). The mask may come from lanes of another type with the same count.
template <class M, class V>
SIMKIT_HD V select(const M& m, const V& a, const V& b) {
  return Ops<V>::select(m, a, b);
}

// Masks: scalar masks are bool (or the int that bool | bool gives); SIMD masks bring their own.
template <class M, class = void>
struct MaskOps {
  SIMKIT_HD static bool any(M m) { return m != 0; }
  SIMKIT_HD static bool all(M m) { return m != 0; }
  SIMKIT_HD static void store_flags(M m, uint8_t* p) { *p = m != 0; }
  SIMKIT_HD static uint32_t bits(M m) { return m != 0; }
};
template <class M>
SIMKIT_HD bool any(const M& m) {
  return MaskOps<M>::any(m);
}
template <class M>
SIMKIT_HD bool all(const M& m) {
  return MaskOps<M>::all(m);
}

// 0/1 bytes, one per lane, from a mask and back (the engine's flag buffers).
template <class M>
SIMKIT_HD void store_flags(const M& m, uint8_t* p) {
  MaskOps<M>::store_flags(m, p);
}
template <class V>
SIMKIT_HD Mask<V> load_flags(const uint8_t* p) {
  return Ops<V>::load_flags(p);
}
// Bit l set when lane l of the mask is set.
template <class M>
SIMKIT_HD uint32_t bits(const M& m) {
  return MaskOps<M>::bits(m);
}

// Memory, for the engine: kWidth<V> consecutive values, and rows of an env-major array
// (rows[l * dims + d] = lane l of cols[d]).
template <class V>
SIMKIT_HD V load(const Scalar<V>* p) {
  return Ops<V>::load(p);
}
template <class V>
SIMKIT_HD void store(const V& v, Scalar<V>* p) {
  Ops<V>::store(v, p);
}
// base[rows[l]] = lane l of v.
template <class V>
SIMKIT_HD void scatter(const V& v, Scalar<V>* base, const uint32_t* rows) {
  Ops<V>::scatter(v, base, rows);
}
template <class V>
SIMKIT_HD void store_rows(const V* cols, int dims, Scalar<V>* rows) {
  Ops<V>::store_rows(cols, dims, rows);
}

// Rebind<T, V>(v), converted as static_cast converts.
template <class T, class V>
SIMKIT_HD Rebind<T, V> cast(const V& v) {
  return Ops<V>::template cast<T>(v);
}

// The same bits as lanes of T (of the same size).
template <class T, class V>
SIMKIT_HD Rebind<T, V> bit_cast(const V& v) {
  return Ops<V>::template bit_cast<T>(v);
}
template <class V>
SIMKIT_HD auto to_bits(const V& v) {
  return bit_cast<std::conditional_t<sizeof(Scalar<V>) == 8, int64_t, int32_t>>(v);
}
template <class T, class I>
SIMKIT_HD Rebind<T, I> from_bits(const I& i) {
  return bit_cast<T>(i);
}

// High 32 bits of the 64-bit products of unsigned 32-bit lanes (Philox's mulhi).
template <class U>
SIMKIT_HD U mul_high(const U& a, const U& b) {
  return Ops<U>::mul_high(a, b);
}

// base[index] for each lane's index (index: UInt or Int lanes); the result has index's lane count.
template <class T, class I>
SIMKIT_HD Rebind<T, I> gather(const T* base, const I& index) {
  return Ops<I>::gather(base, index);
}

template <class V>
SIMKIT_HD V min(const V& a, const V& b) {
  return Ops<V>::min(a, b);
}
template <class V>
SIMKIT_HD V max(const V& a, const V& b) {
  return Ops<V>::max(a, b);
}

// Exact IEEE operations and the C library's functions. Scalars call the platform's (on CUDA the
// device's) functions; SIMD lanes use exact instructions, or call the C library lane by lane.
template <class V, class = void>
struct MathOps {
  SIMKIT_HD static V abs(V x) { return ::fabs(x); }
  SIMKIT_HD static V sqrt(V x) { return ::sqrt(x); }
  SIMKIT_HD static V floor(V x) { return ::floor(x); }
  SIMKIT_HD static V libm_sin(V x) { return ::sin(x); }
  SIMKIT_HD static V libm_cos(V x) { return ::cos(x); }
  SIMKIT_HD static V libm_exp(V x) { return ::exp(x); }
  SIMKIT_HD static V libm_log(V x) { return ::log(x); }
  SIMKIT_HD static V libm_pow(V x, V y) { return ::pow(x, y); }
  SIMKIT_HD static V libm_fmod(V x, V y) { return ::fmod(x, y); }
};
template <>
struct MathOps<float> {
  SIMKIT_HD static float abs(float x) { return ::fabsf(x); }
  SIMKIT_HD static float sqrt(float x) { return ::sqrtf(x); }
  SIMKIT_HD static float floor(float x) { return ::floorf(x); }
  SIMKIT_HD static float libm_pow(float x, float y) { return ::powf(x, y); }
};

template <class V>
SIMKIT_HD V abs(const V& x) {
  return MathOps<V>::abs(x);
}
template <class V>
SIMKIT_HD V sqrt(const V& x) {
  return MathOps<V>::sqrt(x);
}
template <class V>
SIMKIT_HD V floor(const V& x) {
  return MathOps<V>::floor(x);
}
template <class V>
SIMKIT_HD V libm_sin(const V& x) {
  return MathOps<V>::libm_sin(x);
}
template <class V>
SIMKIT_HD V libm_cos(const V& x) {
  return MathOps<V>::libm_cos(x);
}
template <class V>
SIMKIT_HD V libm_exp(const V& x) {
  return MathOps<V>::libm_exp(x);
}
template <class V>
SIMKIT_HD V libm_log(const V& x) {
  return MathOps<V>::libm_log(x);
}
template <class V>
SIMKIT_HD V libm_pow(const V& x, const V& y) {
  return MathOps<V>::libm_pow(x, y);
}
template <class V>
SIMKIT_HD V libm_fmod(const V& x, const V& y) {
  return MathOps<V>::libm_fmod(x, y);
}

// x rounded to float and back, in a way no optimizer can fold away: gcc 12's SLP vectorizer and FRE
// once deleted such a round trip (Acrobot's float32-rounded reset). The empty asm makes the float
// value opaque; CUDA has no such pass.
template <class V>
SIMKIT_HD V round_through_float(const V& x) {
  Float<V> f = cast<float>(x);
#if !defined(__CUDA_ARCH__)
  asm("" : "+m"(f));
#endif
  return cast<Scalar<V>>(f);
}

}  // namespace simkit::lanes
