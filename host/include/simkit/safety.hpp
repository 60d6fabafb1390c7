// SPDX-License-Identifier: Apache-2.0
// A safety layer for any env: box constraints on named observation components, checked after a
// step on the env's observation values (in its own units). A violation (a value outside its box, or
// NaN) adds a penalty to the step's reward and, if asked, terminates the episode. In the spirit of
// neoRL-industrial's safety checks: https://github.com/polixir/NeoRL
#pragma once

#include "simkit/env.hpp"

namespace simkit::safety {

template <class Real>
struct Box {
  const char* name;  // the observation component, as the env documents it
  int index;         // its position in the observation
  Real low, high;    // allowed range, inclusive, in the component's units
};

template <class Real, int N>
struct Layer {
  Box<Real> box[N];
  Real penalty;    // added to the reward on a violation
  bool terminate;  // end the episode on a violation

  // The lanes where some value is outside its box (or NaN), values being lanes V.
  template <class V>
  SIMKIT_HD lanes::Mask<V> violated(const V* values) const {
    lanes::Mask<V> out = lanes::Mask<V>(false);
    for (int i = 0; i < N; ++i) {
      const V v = values[box[i].index];
      out = out | !((v >= box[i].low) & (v <= box[i].high));
    }
    return out;
  }

  // Checks values and applies the penalty and termination to tr; returns the violating lanes.
  template <class V>
  SIMKIT_HD lanes::Mask<V> apply(const V* values, Transition<V>& tr) const {
    const lanes::Mask<V> v = violated(values);
    tr.reward = tr.reward + lanes::select(v, V(penalty), V(0));
    if (terminate) tr.terminated = tr.terminated | v;
    return v;
  }
};

}  // namespace simkit::safety
