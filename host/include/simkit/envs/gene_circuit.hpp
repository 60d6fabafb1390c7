// SPDX-License-Identifier: Apache-2.0
// GeneCircuit-v0, after Myriad's `ccasr-gfp-control` task (optogenetic CcaS-CcaR + GFP circuit):
// https://github.com/myriad-rl/myriad (the semantics used here are fixed in shared/specs/envs.md).
// Units: molecule counts (integers), minutes, propensities in events per minute. Each step simulates
// one 5-minute interval exactly with Gillespie's direct method (Gillespie 1977), drawing from the
// step's RandomStream, so trajectories do not depend on threads, chunks or backend.
#pragma once

#include "simkit/env.hpp"

namespace simkit::envs {

template <class R>
struct GeneCircuit {
  using Real = R;
  using Obs = float;
  static constexpr bool kDiscrete = true;  // 0: light off, 1: light on

  static constexpr const char* kId = "GeneCircuit-v0";
  static constexpr int kMaxEpisodeSteps = 288;  // 24 h of 5-minute steps
  static constexpr int kNumActions = 2;
  static constexpr int kObsDim = 3;  // F / 80, target(t) / 80, target(t + 1) / 80

  static constexpr Real kInterval = 5;     // min per step
  static constexpr Real kNu = 0.01;        // 1/min, dilution of H and F
  static constexpr Real kExpression = 0.5;  // 1/min, maximal rate of each F-producing reaction
  static constexpr Real kHillKH = 90;      // molecules, CcaR-driven expression
  static constexpr Real kHillKF = 30;      // molecules, GFP self-activation
  static constexpr Real kHillN = 3.6;
  static constexpr int kEventCap = 10000;  // events per step; the step stops early when reached
  static constexpr Real kObsScale = 80;    // molecules
  static constexpr Real kConstantTarget = 25;  // molecules
  static constexpr Real kSineMean = 30;        // molecules
  static constexpr Real kSineAmplitude = 20;   // molecules
  static constexpr Real kSinePeriod = 600;     // min

  static constexpr float kObsLow[kObsDim] = {0.0f, 0.125f, 0.125f};
  static constexpr float kObsHigh[kObsDim] = {HUGE_VALF, 0.625f, 0.625f};

  struct Params {
    int32_t target = 0;  // 0: constant 25 molecules; 1: sinewave 30 + 20 sin(2 pi t / 600 min)
  };

  template <class V>
  struct StateOf {
    lanes::Int<V> h;       // molecules of active CcaS-CcaR, >= 0
    lanes::Int<V> f;       // molecules of GFP, >= 0
    lanes::Int<V> step;    // steps taken; time = 5 min x step
    lanes::Int<V> events;  // reactions fired in the last step, <= kEventCap
  };
  using State = StateOf<Real>;

  // x^n / (K^n + x^n) for counts x >= 0.
  template <class V>
  SIMKIT_HD static V hill(const lanes::Int<V>& x, const V& k) {
    const V fx = lanes::cast<Real>(x);
    return lanes::select(x <= lanes::Int<V>(0), V(0), Real(1) / (Real(1) + math::pow_positive(k / fx, V(kHillN))));
  }

  template <class V>
  SIMKIT_HD static V target(const Params& p, const lanes::Int<V>& step) {
    if (p.target == 0) return V(kConstantTarget);
    const V t_min = kInterval * lanes::cast<Real>(step);
    return kSineMean + kSineAmplitude * math::sin(Real(2 * 3.141592653589793) * t_min / kSinePeriod);
  }

  template <class V>
  SIMKIT_HD static void reset(const Params&, StateOf<V>& s, RandomStream<V>&) {
    s.h = 0;
    s.f = 0;
    s.step = 0;
    s.events = 0;
  }

  // Direct method: tau = Exp(1) / a0, reaction j with probability a_j / a0, until the next event
  // would pass the interval's end; that event is discarded (exact, the process being memoryless).
  // Lanes run their events in lockstep, each under its mask until every lane has passed the end of
  // the interval; event k of a lane reads words 2k and 2k + 1 of its own stream on every target.
  template <class V>
  SIMKIT_HD static Transition<V> step(const Params& p, StateOf<V>& s, lanes::Int<V> action, RandomStream<V>& rng) {
    using I = lanes::Int<V>;
    using M = lanes::Mask<V>;
    const V light = lanes::select(action == I(1), V(1), V(0));
    I h = s.h, f = s.f;
    V hill_h = hill(h, V(kHillKH)), hill_f = hill(f, V(kHillKF));
    V remaining = V(kInterval);
    I events = 0;
    M going = M(true);
    for (int n = 0; n < kEventCap && lanes::any(going); ++n) {
      const V a_dilute_h = kNu * lanes::cast<Real>(h);
      const V a_make_f = kExpression * (hill_h + hill_f);  // the two F-producing reactions
      const V a_dilute_f = kNu * lanes::cast<Real>(f);
      const V a0 = light + a_dilute_h + a_make_f + a_dilute_f;
      going = going & (a0 > Real(0));  // H = F = 0 in darkness: nothing can happen
      const V tau = -math::log(Real(1) - rng.uniform01()) / a0;
      going = going & !(tau > remaining);
      const V x = rng.uniform01() * a0;
      remaining = lanes::select(going, remaining - tau, remaining);
      const M make_h = going & (x < light);
      const M dilute_h = going & !make_h & (x < light + a_dilute_h);
      const M make_f = going & !make_h & !dilute_h & ((x < light + a_dilute_h + a_make_f) | (f == I(0)));  // f == 0: rounding at x ~ a0
      const M dilute_f = going & !make_h & !dilute_h & !make_f;
      h = h + lanes::select(make_h, I(1), I(0)) - lanes::select(dilute_h, I(1), I(0));
      f = f + lanes::select(make_f, I(1), I(0)) - lanes::select(dilute_f, I(1), I(0));
      // One Hill function changes per event: evaluate it once, for whichever count moved.
      const M h_moved = make_h | dilute_h;
      const V moved = hill(lanes::select(h_moved, h, f), lanes::select(h_moved, V(kHillKH), V(kHillKF)));
      hill_h = lanes::select(h_moved, moved, hill_h);
      hill_f = lanes::select(make_f | dilute_f, moved, hill_f);
      events = events + lanes::select(going, I(1), I(0));
    }
    const V reward = -lanes::abs(lanes::cast<Real>(f) - target<V>(p, s.step));
    s.h = h;
    s.f = f;
    s.step = s.step + 1;
    s.events = events;
    return {reward, M(false)};
  }

  template <class V>
  SIMKIT_HD static void observe(const Params& p, const StateOf<V>& s, lanes::Float<V>* obs) {
    obs[0] = lanes::cast<float>(lanes::cast<Real>(s.f) / kObsScale);
    obs[1] = lanes::cast<float>(target<V>(p, s.step) / kObsScale);
    obs[2] = lanes::cast<float>(target<V>(p, s.step + 1) / kObsScale);
  }

  template <class V, class F>
  SIMKIT_HD static void visit_info(const Params&, const StateOf<V>& s, F&& f) {
    using I = lanes::Int<V>;
    f("events", s.events);
    f("event_cap_hit", lanes::select(s.events >= I(kEventCap), I(1), I(0)));
  }
  template <class P, class F>
  static void visit_params(P& p, F&& f) {
    f("target", p.target);
  }
  template <class S, class F>
  SIMKIT_HD static void visit_state(S& s, F&& f) {
    f("h", s.h);
    f("f", s.f);
    f("step", s.step);
    f("events", s.events);
  }
};

}  // namespace simkit::envs
