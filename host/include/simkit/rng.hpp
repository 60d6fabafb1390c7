// SPDX-License-Identifier: Apache-2.0
// Counter-based randomness: Philox4x32-10 (Salmon et al. 2011, as Random123 defines it; the tests
// check it against Random123's philox4x32), written once over lane types so a CPU lane, a SIMD
// lane and a CUDA thread draw the same numbers. Every draw is a pure function of
// (seed, env index, stream, step, draw number), so results do not depend on thread count, batch
// split, chunk size, SIMD target or backend. The step is the batch step of the draw, except for
// autoresets, which use the step the ended episode started at (rollout.hpp, autoreset_one).
#pragma once

#include <cstdint>
#include <type_traits>

#include "simkit/lanes.hpp"

namespace simkit {

// Which consumer a draw belongs to; kept in the counter so streams never overlap.
// kReset: resets the caller asks for; kAutoreset: the reset that follows an ended episode
// (autoreset_one in rollout.hpp); kAgent: learners (qlearning.hpp).
enum class Stream : uint32_t { kReset = 1, kStep = 2, kPolicy = 3, kAgent = 4, kAutoreset = 5 };

// Four words of one Philox block, for each lane.
template <class U>
struct Words4 {
  U w[4];
};

// The high and low words of the 64-bit product m * c. Scalar lanes take both from one 64-bit
// product (one IMAD.WIDE.U32 in a CUDA thread; nvcc does not merge a separate m * c into it);
// vector lanes use their high-half and low-half multiplies. The same bits either way.
template <class U>
SIMKIT_HD void mul_wide(const U& m, const U& c, U& hi, U& lo) {
  if constexpr (std::is_same_v<U, uint32_t>) {
    const uint64_t product = static_cast<uint64_t>(m) * c;
    hi = static_cast<uint32_t>(product >> 32);
    lo = static_cast<uint32_t>(product);
  } else {
    hi = lanes::mul_high(m, c);
    lo = m * c;
  }
}

// Philox4x32-10 of counter (c0, c1, c2, c3) under key (k0, k1); U: unsigned 32-bit lanes.
template <class U>
SIMKIT_HD Words4<U> philox4x32_10(U c0, U c1, U c2, U c3, U k0, U k1) {
  const U m0 = 0xD2511F53u, m1 = 0xCD9E8D57u;
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      k0 += 0x9E3779B9u;
      k1 += 0xBB67AE85u;
    }
    U hi0, lo0, hi1, lo1;
    mul_wide(m0, c0, hi0, lo0);
    mul_wide(m1, c2, hi1, lo1);
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
  }
  return {{c0, c1, c2, c3}};
}

// The seeds of a batch: one for every env, or one per env (reset(seed=[...])), env_seeds[env -
// first_env] for the batch's envs first_env, first_env + 1, ...
struct Seeds {
  uint64_t seed = 0;
  const uint64_t* env_seeds = nullptr;
  uint32_t first_env = 0;
};

// Philox keys: the seed of each lane's env.
template <class U>
struct SeedKey {
  U lo, hi;
};
template <class U>
SIMKIT_HD SeedKey<U> seed_key(const Seeds& seeds, const U& env) {
  if (!seeds.env_seeds) return {U(static_cast<uint32_t>(seeds.seed)), U(static_cast<uint32_t>(seeds.seed >> 32))};
  // the little-endian halves of the env's seed
  const uint32_t* halves = reinterpret_cast<const uint32_t*>(seeds.env_seeds);
  const U local = env - seeds.first_env;
  const U twice = local + local;
  return {lanes::gather(halves, twice), lanes::gather(halves, twice + 1u)};
}

// The counter words of a draw at a step: the step's low 32 bits, and the stream above its next 24.
template <class U>
struct StepWords {
  U low, high;
};
template <class U>
SIMKIT_HD StepWords<U> step_words(Stream stream, uint64_t step) {
  return {U(static_cast<uint32_t>(step)),
          U((static_cast<uint32_t>(stream) << 24) | (static_cast<uint32_t>(step >> 32) & 0xFFFFFFu))};
}
// The same for step t - back, a step per lane.
template <class U>
SIMKIT_HD StepWords<U> step_words_before(Stream stream, uint64_t t, const U& back) {
  const U t_low(static_cast<uint32_t>(t));
  const U low = t_low - back;
  // The borrow of t_low - back: bit 31 of the subtractor's borrow-out formula (SIMD lanes have no
  // unsigned compare on every target).
  const U borrow = ((~t_low & back) | (~(t_low ^ back) & low)) >> 31;
  const U high = ((U(static_cast<uint32_t>(t >> 32)) - borrow) & 0xFFFFFFu) | (static_cast<uint32_t>(stream) << 24);
  return {low, high};
}

// One Philox block: key = seed, counter = (block, step low, stream | step high, env).
template <class U>
SIMKIT_HD Words4<U> philox_block(const SeedKey<U>& key, const U& env, const StepWords<U>& step, uint32_t block) {
  return philox4x32_10<U>(U(block), step.low, step.high, env, key.lo, key.hi);
}
template <class U>
SIMKIT_HD Words4<U> philox_block(const SeedKey<U>& key, const U& env, Stream stream, uint64_t step, uint32_t block) {
  return philox_block(key, env, step_words<U>(stream, step), block);
}

// Uniform in [0, 1) from 24 random bits (float) or 53 (double, from two words), exactly as
// float(w >> 8) * 2^-24 and float64((hi << 21) ^ (lo >> 11)) * 2^-53.
template <class U>
SIMKIT_HD lanes::Float<U> u01_float(const U& w) {
  return lanes::cast<float>(w >> 8) * 0x1.0p-24f;
}
// (hi << 21) ^ (lo >> 11) as a double, exactly, from conversions of values below 2^31 (every lane
// type converts those).
template <class U>
SIMKIT_HD lanes::Double<U> u01_double_grains(const U& hi, const U& lo) {
  const lanes::Double<U> top = lanes::cast<double>(hi >> 1) * 0x1.0p22;
  const lanes::Double<U> rest = lanes::cast<double>(((hi & 1u) << 21) | (lo >> 11));
  return top + rest;
}
template <class U>
SIMKIT_HD lanes::Double<U> u01_double(const U& hi, const U& lo) {
  return u01_double_grains(hi, lo) * 0x1.0p-53;
}

// The random numbers one env (per lane) may draw in one reset or one step, in order. V is the
// env's real lane type; every lane draws at the same positions of its own stream.
template <class V>
class RandomStream {
 public:
  using U = lanes::UInt<V>;

  SIMKIT_HD RandomStream(const Seeds& seeds, const U& env, Stream stream, uint64_t step)
      : RandomStream(seeds, env, step_words<U>(stream, step)) {}
  SIMKIT_HD RandomStream(const Seeds& seeds, const U& env, const StepWords<U>& step)
      : seeds_(seeds), step_(step), env_(env) {}

  SIMKIT_HD U next_u32() {
    if (used_ == 4) {
      // The key is looked up at the first draw: a stream an env never draws from costs nothing.
      if (block_ == 0) key_ = seed_key(seeds_, env_);
      words_ = philox_block(key_, env_, step_, block_++);
      used_ = 0;
    }
    return words_.w[used_++];
  }
  // Uniform in [0, 1): 24 random bits for float lanes, 53 for double lanes.
  SIMKIT_HD V uniform01() {
    if constexpr (sizeof(lanes::Scalar<V>) == 4) {
      return u01_float(next_u32());
    } else {
      const U hi = next_u32();
      return u01_double(hi, next_u32());
    }
  }
  // low + (high - low) * uniform01(), with uniform01's power-of-two scale moved onto (high - low):
  // the same product, so the same bits, one multiply fewer (exact while |high - low| * 2^-53 stays
  // a normal number, i.e. for any span above 1e-290).
  SIMKIT_HD V uniform(const V& low, const V& high) {
    if constexpr (sizeof(lanes::Scalar<V>) == 4) {
      return low + ((high - low) * 0x1.0p-24f) * lanes::cast<float>(next_u32() >> 8);
    } else {
      const U hi = next_u32();
      return low + ((high - low) * 0x1.0p-53) * u01_double_grains(hi, next_u32());
    }
  }
  // Uniform integer in [0, n) (Lemire's multiply-shift; bias below n / 2^32).
  SIMKIT_HD U below(const U& n) { return lanes::mul_high(next_u32(), n); }

 private:
  Seeds seeds_;
  StepWords<U> step_;
  U env_;
  // Filled at the first draw (a stream that is never drawn from costs nothing).
  SeedKey<U> key_{};
  uint32_t block_ = 0;
  int used_ = 4;
  Words4<U> words_;
};

}  // namespace simkit
