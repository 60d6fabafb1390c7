// SPDX-License-Identifier: Apache-2.0
// Counter-based randomness (Philox4x32-10 from Random123). Every draw is a pure function of
// (seed, env index, stream, step, draw number), so results do not depend on thread count, batch
// split, chunk size or backend.
#pragma once

#include <Random123/philox.h>

#include <cstdint>

#include "simkit/hd.hpp"

namespace simkit {

// Which consumer a draw belongs to; kept in the counter so streams never overlap.
enum class Stream : uint32_t { kReset = 1, kStep = 2, kPolicy = 3, kAgent = 4 };  // kAgent: learners (qlearning.hpp)

struct Words4 {
  uint32_t w[4];
};

// One Philox block. key = seed; counter = (block, step low, stream | step high, env).
SIMKIT_HD Words4 philox_block(uint64_t seed, uint32_t env, Stream stream, uint64_t step, uint32_t block) {
  const philox4x32_key_t key = {{static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32)}};
  const uint32_t high = (static_cast<uint32_t>(stream) << 24) | (static_cast<uint32_t>(step >> 32) & 0xFFFFFFu);
  const philox4x32_ctr_t ctr = {{block, static_cast<uint32_t>(step), high, env}};
  const philox4x32_ctr_t out = philox4x32_R(10, ctr, key);
  return Words4{{out.v[0], out.v[1], out.v[2], out.v[3]}};
}

SIMKIT_HD float u01_float(uint32_t w) { return static_cast<float>(w >> 8) * 0x1.0p-24f; }  // [0, 1)
SIMKIT_HD double u01_double(uint32_t hi, uint32_t lo) {                                  // [0, 1)
  return static_cast<double>((static_cast<uint64_t>(hi) << 21) ^ (lo >> 11)) * 0x1.0p-53;
}

// The random numbers one env may draw in one reset or one step, in order.
class RandomStream {
 public:
  SIMKIT_HD RandomStream(uint64_t seed, uint32_t env, Stream stream, uint64_t step)
      : RandomStream(nullptr, seed, env, stream, step) {}
  // With per-env seeds (indexed by env) when env_seeds is not null. The seed is looked up at the
  // first draw, so a stream an env never draws from costs nothing (and keeps the CPU loop vectorizable).
  SIMKIT_HD RandomStream(const uint64_t* env_seeds, uint64_t seed, uint32_t env, Stream stream, uint64_t step)
      : env_seeds_(env_seeds), seed_(seed), step_(step), env_(env), stream_(stream) {}

  SIMKIT_HD uint32_t next_u32() {
    if (used_ == 4) {
      words_ = philox_block(env_seeds_ ? env_seeds_[env_] : seed_, env_, stream_, step_, block_++);
      used_ = 0;
    }
    return words_.w[used_++];
  }
  // Uniform in [0, 1): 24 random bits for float, 53 for double.
  SIMKIT_HD float uniform01(float) { return u01_float(next_u32()); }
  SIMKIT_HD double uniform01(double) {
    const uint32_t hi = next_u32();
    return u01_double(hi, next_u32());
  }
  template <class Real>
  SIMKIT_HD Real uniform(Real low, Real high) {
    return low + (high - low) * uniform01(Real{});
  }
  // Uniform integer in [0, n) (Lemire's multiply-shift; bias below n / 2^32).
  SIMKIT_HD uint32_t below(uint32_t n) {
    return static_cast<uint32_t>((static_cast<uint64_t>(next_u32()) * n) >> 32);
  }

 private:
  const uint64_t* env_seeds_;
  uint64_t seed_;
  uint64_t step_;
  uint32_t env_;
  Stream stream_;
  uint32_t block_ = 0;
  int used_ = 4;
  Words4 words_{};
};

}  // namespace simkit
