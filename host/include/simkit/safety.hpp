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

  SIMKIT_HD bool violated(const Real* values) const {
    bool out = false;
    for (int i = 0; i < N; ++i) {
      const Real v = values[box[i].index];
      out = out || !(v >= box[i].low && v <= box[i].high);  // NaN violates
    }
    return out;
  }

  // Checks values and applies the penalty and termination to tr; returns whether it was violated.
  SIMKIT_HD bool apply(const Real* values, Transition<Real>& tr) const {
    const bool v = violated(values);
    tr.reward += v ? penalty : Real(0);
    tr.terminated = tr.terminated || (v && terminate);
    return v;
  }
};

}  // namespace simkit::safety
