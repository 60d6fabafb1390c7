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
  using Action = int32_t;  // 0: light off, 1: light on
  using Obs = float;

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

  struct State {
    int32_t h;       // molecules of active CcaS-CcaR, >= 0
    int32_t f;       // molecules of GFP, >= 0
    int32_t step;    // steps taken; time = 5 min x step
    int32_t events;  // reactions fired in the last step, <= kEventCap
  };

  // x^n / (K^n + x^n) for x >= 0.
  SIMKIT_HD static Real hill(int32_t x, Real k) {
    return x <= 0 ? Real(0) : Real(1) / (Real(1) + math::pow(k / static_cast<Real>(x), kHillN));
  }

  SIMKIT_HD static Real target(const Params& p, int32_t step) {
    if (p.target == 0) return kConstantTarget;
    const Real t_min = kInterval * static_cast<Real>(step);
    return kSineMean + kSineAmplitude * math::sin(Real(2 * 3.141592653589793) * t_min / kSinePeriod);
  }

  SIMKIT_HD static void reset(const Params&, State& s, RandomStream&) {
    s.h = 0;
    s.f = 0;
    s.step = 0;
    s.events = 0;
  }

  // Direct method: tau = Exp(1) / a0, reaction j with probability a_j / a0, until the next event
  // would pass the interval's end; that event is discarded (exact, the process being memoryless).
  SIMKIT_HD static Transition<Real> step(const Params& p, State& s, Action action, RandomStream& rng) {
    const Real light = action == 1 ? Real(1) : Real(0);
    int32_t h = s.h, f = s.f;
    Real hill_h = hill(h, kHillKH), hill_f = hill(f, kHillKF);
    Real remaining = kInterval;
    int32_t events = 0;
    for (; events < kEventCap; ++events) {
      const Real a_dilute_h = kNu * static_cast<Real>(h);
      const Real a_make_f = kExpression * (hill_h + hill_f);  // the two F-producing reactions
      const Real a_dilute_f = kNu * static_cast<Real>(f);
      const Real a0 = light + a_dilute_h + a_make_f + a_dilute_f;
      if (!(a0 > 0)) break;  // H = F = 0 in darkness: nothing can happen
      const Real tau = -math::log(Real(1) - rng.uniform01(Real{})) / a0;
      if (tau > remaining) break;
      remaining -= tau;
      const Real x = rng.uniform01(Real{}) * a0;
      if (x < light) {
        h += 1;
        hill_h = hill(h, kHillKH);
      } else if (x < light + a_dilute_h) {
        h -= 1;
        hill_h = hill(h, kHillKH);
      } else if (x < light + a_dilute_h + a_make_f || f == 0) {  // f == 0: rounding at x ~ a0
        f += 1;
        hill_f = hill(f, kHillKF);
      } else {
        f -= 1;
        hill_f = hill(f, kHillKF);
      }
    }
    const Real reward = -math::abs(static_cast<Real>(f) - target(p, s.step));
    s.h = h;
    s.f = f;
    s.step += 1;
    s.events = events;
    return {reward, false};
  }

  SIMKIT_HD static void observe(const Params& p, const State& s, Obs* obs) {
    obs[0] = static_cast<float>(static_cast<Real>(s.f) / kObsScale);
    obs[1] = static_cast<float>(target(p, s.step) / kObsScale);
    obs[2] = static_cast<float>(target(p, s.step + 1) / kObsScale);
  }

  template <class F>
  SIMKIT_HD static void visit_info(const Params&, const State& s, F&& f) {
    f("events", static_cast<double>(s.events));
    f("event_cap_hit", s.events >= kEventCap ? 1.0 : 0.0);
  }
  template <class P, class F>
  static void visit_params(P& p, F&& f) {
    f("target", p.target);
  }
  template <class S, class F>
  static void visit_state(S& s, F&& f) {
    f("h", s.h);
    f("f", s.f);
    f("step", s.step);
    f("events", s.events);
  }
};

}  // namespace simkit::envs
