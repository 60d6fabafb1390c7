// SPDX-License-Identifier: Apache-2.0
// SIMD lanes for the CPU kernels, on Google Highway (static target: the ISA this translation unit
// is compiled for, see host/CMakeLists.txt). Lanes<T, W> is W values of T held in one or more
// vector registers ("parts"): every operation runs on each part in turn, so a vector of two
// registers carries two independent dependency chains that the CPU overlaps. Int8 lanes are stored
// as int8_t and computed in int32. Everything lives in Highway's per-target namespace, so the AVX2,
// AVX-512 and NEON builds of the same templates are different symbols in one binary.
//
// Included by the kernel translation units only: env headers see simkit/lanes.hpp, which this
// header specializes (lanes::Ops, lanes::MaskOps, lanes::MathOps).
#pragma once

#include <hwy/highway.h>

#include <cmath>
#include <cstdint>
#include <type_traits>

#include "simkit/lanes.hpp"

namespace simkit::simd {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

#define SIMKIT_SIMD_INLINE HWY_INLINE HWY_FLATTEN

template <class T>
using ComputeOf = std::conditional_t<std::is_same_v<T, int8_t>, int32_t, T>;

// W lanes of C as parts of at most one vector register each.
template <class C, size_t W>
struct Parts {
  static constexpr size_t kNative = HWY_LANES(C);
  static constexpr size_t kLanes = W < kNative ? W : kNative;  // lanes per part
  static constexpr size_t kCount = W / kLanes;
  static_assert(kCount * kLanes == W, "lane counts are whole registers or a fraction of one");
  using D = hn::FixedTag<C, kLanes>;
};

#define SIMKIT_FOR_PARTS for (size_t part = 0; part < kParts; ++part)

// The lanes of a comparison. One mask type per lane size: the masks of float, int32, uint32 and
// int8 lanes (all computed in 32 bits) mix freely; a mask of double lanes converts where it meets
// one of 32-bit lanes (float64 envs with integer fields).
template <size_t Bytes, size_t W>
struct LaneMask {
  using P = Parts<std::conditional_t<Bytes == 8, uint64_t, uint32_t>, W>;
  using D = typename P::D;
  static constexpr size_t kParts = P::kCount;
  hn::Mask<D> raw[kParts];

  LaneMask() = default;
  // A mask that is the same for every lane (a Params flag).
  SIMKIT_SIMD_INLINE LaneMask(bool b) {
    SIMKIT_FOR_PARTS raw[part] = hn::FirstN(D(), b ? P::kLanes : 0);
  }
  template <size_t B2, std::enable_if_t<B2 != Bytes, int> = 0>
  SIMKIT_SIMD_INLINE LaneMask(const LaneMask<B2, W>& m) : LaneMask(from_bits(m.bits())) {}

  // Bit l set when lane l is set.
  SIMKIT_SIMD_INLINE uint32_t bits() const {
    uint32_t out = 0;
    SIMKIT_FOR_PARTS {
      uint8_t b[8] = {};
      hn::StoreMaskBits(D(), raw[part], b);
      out |= (static_cast<uint32_t>(b[0]) | (static_cast<uint32_t>(b[1]) << 8)) << (part * P::kLanes);
    }
    return out;
  }
  static SIMKIT_SIMD_INLINE LaneMask from_bits(uint32_t bits) {
    LaneMask m;
    SIMKIT_FOR_PARTS {
      const uint32_t mine = bits >> (part * P::kLanes);
      const uint8_t b[8] = {static_cast<uint8_t>(mine), static_cast<uint8_t>(mine >> 8)};
      m.raw[part] = hn::LoadMaskBits(D(), b);
    }
    return m;
  }
  // The masks Highway takes and gives for lanes of C (of this lane size).
  template <class C>
  SIMKIT_SIMD_INLINE hn::Mask<typename Parts<C, W>::D> as(size_t part) const {
    return hn::RebindMask(typename Parts<C, W>::D(), raw[part]);
  }

#define SIMKIT_MASK_OP(op, fn)                                                        \
  SIMKIT_SIMD_INLINE friend LaneMask operator op(const LaneMask& a, const LaneMask& b) { \
    LaneMask r;                                                                       \
    SIMKIT_FOR_PARTS r.raw[part] = hn::fn(a.raw[part], b.raw[part]);                  \
    return r;                                                                         \
  }
  SIMKIT_MASK_OP(&, And)
  SIMKIT_MASK_OP(|, Or)
  SIMKIT_MASK_OP(^, Xor)
#undef SIMKIT_MASK_OP
  SIMKIT_SIMD_INLINE friend LaneMask operator!(const LaneMask& a) {
    LaneMask r;
    SIMKIT_FOR_PARTS r.raw[part] = hn::Not(a.raw[part]);
    return r;
  }
  SIMKIT_SIMD_INLINE LaneMask& operator|=(const LaneMask& b) { return *this = *this | b; }
  SIMKIT_SIMD_INLINE LaneMask& operator&=(const LaneMask& b) { return *this = *this & b; }
  SIMKIT_SIMD_INLINE bool any() const {
    bool out = false;
    SIMKIT_FOR_PARTS out = out || !hn::AllFalse(D(), raw[part]);
    return out;
  }
  SIMKIT_SIMD_INLINE bool all() const {
    bool out = true;
    SIMKIT_FOR_PARTS out = out && hn::AllTrue(D(), raw[part]);
    return out;
  }
};
// Masks of lanes of different sizes combine in the left operand's type.
#define SIMKIT_MASK_MIXED(op)                                                                          \
  template <size_t B1, size_t B2, size_t W, std::enable_if_t<B1 != B2, int> = 0>                      \
  SIMKIT_SIMD_INLINE LaneMask<B1, W> operator op(const LaneMask<B1, W>& a, const LaneMask<B2, W>& b) { \
    return a op LaneMask<B1, W>(b);                                                                   \
  }
SIMKIT_MASK_MIXED(&)
SIMKIT_MASK_MIXED(|)
SIMKIT_MASK_MIXED(^)
#undef SIMKIT_MASK_MIXED

template <class T, size_t W>
struct Lanes {
  using C = ComputeOf<T>;
  using P = Parts<C, W>;
  using D = typename P::D;
  using Raw = hn::Vec<D>;
  using Mask = LaneMask<sizeof(C), W>;
  static constexpr size_t kParts = P::kCount;
  Raw raw[kParts];

  Lanes() = default;
  SIMKIT_SIMD_INLINE Lanes(C x) {  // the same value in every lane
    SIMKIT_FOR_PARTS raw[part] = hn::Set(D(), x);
  }
  template <class S, std::enable_if_t<std::is_arithmetic_v<S> && !std::is_same_v<S, C>, int> = 0>
  SIMKIT_SIMD_INLINE Lanes(S x) : Lanes(static_cast<C>(x)) {}

  // Memory: W consecutive values of the storage type T.
  static SIMKIT_SIMD_INLINE Lanes load(const T* p) {
    Lanes r;
    SIMKIT_FOR_PARTS {
      if constexpr (std::is_same_v<T, int8_t>) {
        r.raw[part] = hn::PromoteTo(D(), hn::LoadU(hn::FixedTag<int8_t, P::kLanes>(), p + part * P::kLanes));
      } else {
        r.raw[part] = hn::LoadU(D(), p + part * P::kLanes);
      }
    }
    return r;
  }
  SIMKIT_SIMD_INLINE void store(T* p) const {
    SIMKIT_FOR_PARTS {
      if constexpr (std::is_same_v<T, int8_t>) {
        const hn::FixedTag<int8_t, P::kLanes> d8;
        hn::StoreU(hn::DemoteTo(d8, raw[part]), d8, p + part * P::kLanes);
      } else {
        hn::StoreU(raw[part], D(), p + part * P::kLanes);
      }
    }
  }

  template <class F>
  static SIMKIT_SIMD_INLINE Lanes map(const Lanes& a, F f) {
    Lanes r;
    SIMKIT_FOR_PARTS r.raw[part] = f(a.raw[part]);
    return r;
  }
  template <class F>
  static SIMKIT_SIMD_INLINE Lanes map(const Lanes& a, const Lanes& b, F f) {
    Lanes r;
    SIMKIT_FOR_PARTS r.raw[part] = f(a.raw[part], b.raw[part]);
    return r;
  }
  template <class F>
  static SIMKIT_SIMD_INLINE Mask compare(const Lanes& a, const Lanes& b, F f) {
    Mask r;
    SIMKIT_FOR_PARTS r.raw[part] = hn::RebindMask(typename Mask::D(), f(a.raw[part], b.raw[part]));
    return r;
  }

#define SIMKIT_LANES_BINARY(op, fn)                                                    \
  SIMKIT_SIMD_INLINE friend Lanes operator op(const Lanes& a, const Lanes& b) {         \
    return map(a, b, [](Raw x, Raw y) { return fn; });                                 \
  }                                                                                    \
  SIMKIT_SIMD_INLINE Lanes& operator op##=(const Lanes& b) { return *this = *this op b; }
  SIMKIT_LANES_BINARY(+, x + y)
  SIMKIT_LANES_BINARY(-, x - y)
  SIMKIT_LANES_BINARY(*, x * y)
  // Integer lanes: bitwise operations.
  SIMKIT_LANES_BINARY(&, hn::And(x, y))
  SIMKIT_LANES_BINARY(|, hn::Or(x, y))
  SIMKIT_LANES_BINARY(^, hn::Xor(x, y))
#undef SIMKIT_LANES_BINARY
  SIMKIT_SIMD_INLINE friend Lanes operator/(const Lanes& a, const Lanes& b) {
    static_assert(std::is_floating_point_v<C>, "integer lanes have no division");
    return map(a, b, [](Raw x, Raw y) { return x / y; });
  }
  SIMKIT_SIMD_INLINE Lanes& operator/=(const Lanes& b) { return *this = *this / b; }
  SIMKIT_SIMD_INLINE friend Lanes operator-(const Lanes& a) {
    return map(a, [](Raw x) { return hn::Neg(x); });
  }
  SIMKIT_SIMD_INLINE friend Lanes operator~(const Lanes& a) {
    return map(a, [](Raw x) { return hn::Not(x); });
  }
  // Shifts by a count that is the same for every lane (logical for unsigned, arithmetic for signed).
  SIMKIT_SIMD_INLINE friend Lanes operator<<(const Lanes& a, int n) {
    return map(a, [n](Raw x) { return hn::ShiftLeftSame(x, n); });
  }
  SIMKIT_SIMD_INLINE friend Lanes operator>>(const Lanes& a, int n) {
    return map(a, [n](Raw x) { return hn::ShiftRightSame(x, n); });
  }

  SIMKIT_SIMD_INLINE friend Mask operator==(const Lanes& a, const Lanes& b) {
    return compare(a, b, [](Raw x, Raw y) { return x == y; });
  }
  SIMKIT_SIMD_INLINE friend Mask operator!=(const Lanes& a, const Lanes& b) { return !(a == b); }
  SIMKIT_SIMD_INLINE friend Mask operator<(const Lanes& a, const Lanes& b) {
    return compare(a, b, [](Raw x, Raw y) { return x < y; });
  }
  SIMKIT_SIMD_INLINE friend Mask operator>(const Lanes& a, const Lanes& b) {
    return compare(a, b, [](Raw x, Raw y) { return x > y; });
  }
  // Highway 1.0 orders integer lanes with < and > only.
  SIMKIT_SIMD_INLINE friend Mask operator<=(const Lanes& a, const Lanes& b) {
    if constexpr (std::is_integral_v<C>) return !(a > b);
    else return compare(a, b, [](Raw x, Raw y) { return x <= y; });
  }
  SIMKIT_SIMD_INLINE friend Mask operator>=(const Lanes& a, const Lanes& b) {
    if constexpr (std::is_integral_v<C>) return !(a < b);
    else return compare(a, b, [](Raw x, Raw y) { return x >= y; });
  }
};

#undef SIMKIT_FOR_PARTS

// High 32 bits of the 64-bit products of 32-bit lanes (Philox's mulhi).
template <size_t W>
SIMKIT_SIMD_INLINE Lanes<uint32_t, W> mul_high(const Lanes<uint32_t, W>& a, const Lanes<uint32_t, W>& b) {
  using D = typename Lanes<uint32_t, W>::D;
  return Lanes<uint32_t, W>::map(a, b, [](hn::Vec<D> x, hn::Vec<D> y) {
    const auto even = hn::MulEven(x, y);
    const auto odd = hn::MulEven(hn::Shuffle2301(x), hn::Shuffle2301(y));
    return hn::OddEven(hn::BitCast(D(), odd), hn::BitCast(D(), hn::ShiftRight<32>(even)));
  });
}

// float -> int32 rounding toward zero, for values inside the int32 range (as static_cast). On x86
// the bare instruction: Highway's ConvertTo adds four instructions that fix up out-of-range values.
template <class VF>
SIMKIT_SIMD_INLINE auto truncate_to_int(VF v) {
  const hn::RebindToSigned<hn::DFromV<VF>> di;
#if HWY_ARCH_X86
  if constexpr (sizeof(v.raw) == 64) {
#if HWY_TARGET <= HWY_AVX3
    return hn::Vec<decltype(di)>{_mm512_cvttps_epi32(v.raw)};
#endif
  } else if constexpr (sizeof(v.raw) == 32) {
    return hn::Vec<decltype(di)>{_mm256_cvttps_epi32(v.raw)};
  } else {
    return hn::Vec<decltype(di)>{_mm_cvttps_epi32(v.raw)};
  }
#else
  return hn::ConvertTo(di, v);
#endif
}

// Lanes of one type to lanes of another with the same count, as static_cast converts (callers keep
// uint32 values below 2^31 where they become floating point, and float values inside the int32 range).
template <class To, class From, size_t W>
SIMKIT_SIMD_INLINE Lanes<To, W> convert(const Lanes<From, W>& v) {
  using CT = ComputeOf<To>;
  using CF = ComputeOf<From>;
  using LT = Lanes<To, W>;
  using DT = typename LT::D;
  if constexpr (std::is_same_v<CT, CF>) {
    LT r;
    for (size_t i = 0; i < LT::kParts; ++i) r.raw[i] = v.raw[i];
    return r;
  } else if constexpr (std::is_integral_v<CT> && std::is_integral_v<CF> && sizeof(CT) == sizeof(CF)) {
    LT r;  // int32 <-> uint32: modular, as static_cast
    for (size_t i = 0; i < LT::kParts; ++i) r.raw[i] = hn::BitCast(DT(), v.raw[i]);
    return r;
  } else if constexpr (std::is_same_v<CF, uint32_t>) {
    return convert<To>(convert<int32_t>(v));
  } else if constexpr (std::is_same_v<CT, uint32_t>) {
    return convert<uint32_t>(convert<int32_t>(v));
  } else if constexpr (sizeof(CT) == sizeof(CF)) {
    LT r;
    for (size_t i = 0; i < LT::kParts; ++i) {
      if constexpr (std::is_same_v<CT, int32_t>) r.raw[i] = truncate_to_int(v.raw[i]);
      else r.raw[i] = hn::ConvertTo(DT(), v.raw[i]);  // int32 -> float
    }
    return r;
  } else if constexpr (sizeof(CT) > sizeof(CF)) {
    // Each source part widens into one or two destination parts.
    using LF = Lanes<From, W>;
    constexpr size_t kPer = LF::P::kLanes / LT::P::kLanes;  // 1 or 2
    LT r;
    for (size_t i = 0; i < LT::kParts; ++i) {
      const auto src = v.raw[i / kPer];
      if constexpr (kPer == 1) {
        r.raw[i] = hn::PromoteTo(DT(), src);
      } else {
        r.raw[i] = (i % kPer == 0) ? hn::PromoteTo(DT(), hn::LowerHalf(src)) : hn::PromoteTo(DT(), hn::UpperHalf(hn::Half<typename LF::D>(), src));
      }
    }
    return r;
  } else {
    // Two source parts (or one) narrow into each destination part.
    using LF = Lanes<From, W>;
    constexpr size_t kPer = LT::P::kLanes / LF::P::kLanes;  // 1 or 2
    LT r;
    for (size_t i = 0; i < LT::kParts; ++i) {
      if constexpr (kPer == 1) {
        r.raw[i] = hn::DemoteTo(DT(), v.raw[i]);  // double -> float (nearest) / int32 (truncates)
      } else {
        const hn::Half<DT> dh;
        r.raw[i] = hn::Combine(DT(), hn::DemoteTo(dh, v.raw[2 * i + 1]), hn::DemoteTo(dh, v.raw[2 * i]));
      }
    }
    return r;
  }
}

// x lane by lane through a scalar function (the C library's, for float64 exactness).
template <class T, size_t W, class F>
SIMKIT_SIMD_INLINE Lanes<T, W> per_lane(const Lanes<T, W>& x, F f) {
  alignas(64) T v[W];
  x.store(v);
  for (size_t i = 0; i < W; ++i) v[i] = f(v[i]);
  return Lanes<T, W>::load(v);
}
template <class T, size_t W, class F>
SIMKIT_SIMD_INLINE Lanes<T, W> per_lane(const Lanes<T, W>& x, const Lanes<T, W>& y, F f) {
  alignas(64) T a[W], b[W];
  x.store(a);
  y.store(b);
  for (size_t i = 0; i < W; ++i) a[i] = f(a[i], b[i]);
  return Lanes<T, W>::load(a);
}

}  // namespace HWY_NAMESPACE
}  // namespace simkit::simd

namespace simkit::lanes {

template <class T, size_t W>
struct Ops<simd::HWY_NAMESPACE::Lanes<T, W>> {
  using V = simd::HWY_NAMESPACE::Lanes<T, W>;
  using Scalar = T;
  using Mask = typename V::Mask;
  template <class U>
  using Rebind = simd::HWY_NAMESPACE::Lanes<U, W>;
  static constexpr int kWidth = static_cast<int>(W);

  SIMKIT_SIMD_INLINE static V load(const T* p) { return V::load(p); }
  SIMKIT_SIMD_INLINE static void store(const V& v, T* p) { v.store(p); }
  SIMKIT_SIMD_INLINE static Mask load_flags(const uint8_t* p) {
    return Mask(Rebind<int8_t>::load(reinterpret_cast<const int8_t*>(p)) != Rebind<int8_t>(0));
  }
  // AVX-512 scatters 32-bit lanes in one instruction; elsewhere (and for int8 or 64-bit lanes) a
  // store per lane.
  SIMKIT_SIMD_INLINE static void scatter(const V& v, T* base, const uint32_t* rows) {
#if HWY_TARGET <= HWY_AVX3
    if constexpr (sizeof(T) == 4) {
      namespace hn = simd::HWY_NAMESPACE::hn;
      using DI = hn::RebindToSigned<typename V::D>;
      for (size_t i = 0; i < V::kParts; ++i) {
        const auto index = hn::BitCast(DI(), hn::LoadU(hn::RebindToUnsigned<typename V::D>(), rows + i * V::P::kLanes));
        hn::ScatterIndex(v.raw[i], typename V::D(), base, index);
      }
      return;
    }
#endif
    alignas(64) T tmp[W];
    v.store(tmp);
    for (size_t l = 0; l < W; ++l) base[rows[l]] = tmp[l];
  }
  SIMKIT_SIMD_INLINE static void store_rows(const V* cols, int dims, T* rows) {
    alignas(64) T tmp[W];
    for (int d = 0; d < dims; ++d) {
      cols[d].store(tmp);
      for (size_t l = 0; l < W; ++l) rows[l * static_cast<size_t>(dims) + static_cast<size_t>(d)] = tmp[l];
    }
  }

  template <class M>
  SIMKIT_SIMD_INLINE static V select(const M& m, const V& a, const V& b) {
    const Mask mine(m);
    V r;
    for (size_t i = 0; i < V::kParts; ++i) {
      r.raw[i] = simd::HWY_NAMESPACE::hn::IfThenElse(mine.template as<typename V::C>(i), a.raw[i], b.raw[i]);
    }
    return r;
  }
  template <class U>
  SIMKIT_SIMD_INLINE static Rebind<U> cast(const V& v) {
    return simd::HWY_NAMESPACE::convert<U>(v);
  }
  template <class U>
  SIMKIT_SIMD_INLINE static Rebind<U> bit_cast(const V& v) {
    static_assert(sizeof(U) == sizeof(typename V::C), "bit_cast between types of one size");
    Rebind<U> r;
    for (size_t i = 0; i < V::kParts; ++i) r.raw[i] = simd::HWY_NAMESPACE::hn::BitCast(typename Rebind<U>::D(), v.raw[i]);
    return r;
  }
  SIMKIT_SIMD_INLINE static V mul_high(const V& a, const V& b) { return simd::HWY_NAMESPACE::mul_high(a, b); }
  // Lane by lane: the few gathers env code does (per-env seeds at a reset) need 64-bit indexing.
  template <class U>
  SIMKIT_SIMD_INLINE static Rebind<U> gather(const U* base, const V& index) {
    alignas(64) T idx[W];
    alignas(64) U out[W];
    index.store(idx);
    for (size_t i = 0; i < W; ++i) out[i] = base[static_cast<std::make_unsigned_t<T>>(idx[i])];
    return Rebind<U>::load(out);
  }
  // a < b ? a : b and a > b ? a : b, also for NaN (b), as x86's minps/maxps; NEON's fmin/fmax
  // would return NaN, so other ISAs compare and select.
  SIMKIT_SIMD_INLINE static V min(const V& a, const V& b) {
    return V::map(a, b, [](typename V::Raw x, typename V::Raw y) {
#if HWY_ARCH_X86
      return simd::HWY_NAMESPACE::hn::Min(x, y);
#else
      return simd::HWY_NAMESPACE::hn::IfThenElse(x < y, x, y);
#endif
    });
  }
  SIMKIT_SIMD_INLINE static V max(const V& a, const V& b) {
    return V::map(a, b, [](typename V::Raw x, typename V::Raw y) {
#if HWY_ARCH_X86
      return simd::HWY_NAMESPACE::hn::Max(x, y);
#else
      return simd::HWY_NAMESPACE::hn::IfThenElse(x > y, x, y);
#endif
    });
  }
};

template <size_t Bytes, size_t W>
struct MaskOps<simd::HWY_NAMESPACE::LaneMask<Bytes, W>> {
  using M = simd::HWY_NAMESPACE::LaneMask<Bytes, W>;
  SIMKIT_SIMD_INLINE static bool any(const M& m) { return m.any(); }
  SIMKIT_SIMD_INLINE static bool all(const M& m) { return m.all(); }
  SIMKIT_SIMD_INLINE static uint32_t bits(const M& m) { return m.bits(); }
  SIMKIT_SIMD_INLINE static void store_flags(const M& m, uint8_t* p) {
    using I8 = simd::HWY_NAMESPACE::Lanes<int8_t, W>;
    Ops<I8>::select(m, I8(1), I8(0)).store(reinterpret_cast<int8_t*>(p));
  }
};

template <class T, size_t W>
struct MathOps<simd::HWY_NAMESPACE::Lanes<T, W>> {
  using V = simd::HWY_NAMESPACE::Lanes<T, W>;
  using Raw = typename V::Raw;
  SIMKIT_SIMD_INLINE static V abs(const V& x) {
    return V::map(x, [](Raw v) { return simd::HWY_NAMESPACE::hn::Abs(v); });
  }
  SIMKIT_SIMD_INLINE static V sqrt(const V& x) {
    return V::map(x, [](Raw v) { return simd::HWY_NAMESPACE::hn::Sqrt(v); });
  }
  SIMKIT_SIMD_INLINE static V floor(const V& x) {
    return V::map(x, [](Raw v) { return simd::HWY_NAMESPACE::hn::Floor(v); });
  }
  SIMKIT_SIMD_INLINE static V libm_sin(const V& x) {
    return simd::HWY_NAMESPACE::per_lane(x, [](T v) { return MathOps<T>::libm_sin(v); });
  }
  SIMKIT_SIMD_INLINE static V libm_cos(const V& x) {
    return simd::HWY_NAMESPACE::per_lane(x, [](T v) { return MathOps<T>::libm_cos(v); });
  }
  SIMKIT_SIMD_INLINE static V libm_exp(const V& x) {
    return simd::HWY_NAMESPACE::per_lane(x, [](T v) { return MathOps<T>::libm_exp(v); });
  }
  SIMKIT_SIMD_INLINE static V libm_log(const V& x) {
    return simd::HWY_NAMESPACE::per_lane(x, [](T v) { return MathOps<T>::libm_log(v); });
  }
  SIMKIT_SIMD_INLINE static V libm_pow(const V& x, const V& y) {
    return simd::HWY_NAMESPACE::per_lane(x, y, [](T a, T b) { return MathOps<T>::libm_pow(a, b); });
  }
  SIMKIT_SIMD_INLINE static V libm_fmod(const V& x, const V& y) {
    return simd::HWY_NAMESPACE::per_lane(x, y, [](T a, T b) { return MathOps<T>::libm_fmod(a, b); });
  }
};

}  // namespace simkit::lanes
