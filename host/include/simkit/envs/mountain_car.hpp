// SPDX-License-Identifier: Apache-2.0
// MountainCar-v0, after Gymnasium's classic_control/mountain_car.py (Moore 1990):
// https://github.com/Farama-Foundation/Gymnasium/blob/main/gymnasium/envs/classic_control/mountain_car.py
// Units: position along the track's x axis (Gymnasium: m), velocity per step (one step is the time
// unit). Semi-implicit Euler; the left wall at -1.2 is inelastic. Gymnasium computes in float64 with
// math.cos, so the float64 variant reproduces its state bit for bit with FMA contraction off.
#pragma once

#include "simkit/env.hpp"

namespace simkit::envs {

template <class R>
struct MountainCar {
  using Real = R;
  using Obs = float;
  static constexpr bool kDiscrete = true;  // 0 accelerates left, 1 does nothing, 2 accelerates right

  static constexpr const char* kId = "MountainCar-v0";
  static constexpr int kMaxEpisodeSteps = 200;
  static constexpr int kNumActions = 3;
  static constexpr int kObsDim = 2;  // position, velocity

  static constexpr Real kMinPosition = -1.2;
  static constexpr Real kMaxPosition = 0.6;
  static constexpr Real kMaxSpeed = 0.07;  // per step
  static constexpr Real kGoalPosition = 0.5;
  static constexpr Real kForce = 0.001;     // velocity change per step of a push
  static constexpr Real kGravity = 0.0025;  // times cos(3 position): the slope's pull

  static constexpr float kObsHigh[kObsDim] = {0.6f, 0.07f};
  static constexpr float kObsLow[kObsDim] = {-1.2f, -0.07f};

  struct Params {
    Real goal_velocity = 0;  // terminal once position >= 0.5 and velocity >= goal_velocity
    Real reset_low = -0.6;   // position starts in U(reset_low, reset_high), velocity at 0
    Real reset_high = -0.4;
  };

  template <class V>
  struct StateOf {
    V position;  // in [-1.2, 0.6], goal at 0.5
    V velocity;  // per step, in [-0.07, 0.07]
  };
  using State = StateOf<Real>;

  template <class V>
  SIMKIT_HD static void reset(const Params& p, StateOf<V>& s, RandomStream<V>& rng) {
    s.position = rng.uniform(p.reset_low, p.reset_high);
    s.velocity = V(0);
  }

  template <class V>
  SIMKIT_HD static Transition<V> step(const Params& p, StateOf<V>& s, lanes::Int<V> action, RandomStream<V>&) {
    V velocity = s.velocity + (lanes::cast<Real>(action - 1) * kForce + math::cos(Real(3) * s.position) * (-kGravity));
    velocity = math::clip(velocity, V(-kMaxSpeed), V(kMaxSpeed));
    const V position = math::clip(s.position + velocity, V(kMinPosition), V(kMaxPosition));
    velocity = lanes::select((position == kMinPosition) & (velocity < Real(0)), V(0), velocity);  // the wall
    s.position = position;
    s.velocity = velocity;
    const lanes::Mask<V> terminated = (position >= kGoalPosition) & (velocity >= p.goal_velocity);
    return {V(-1), terminated};
  }

  template <class V>
  SIMKIT_HD static void observe(const Params&, const StateOf<V>& s, lanes::Float<V>* obs) {
    obs[0] = lanes::cast<float>(s.position);
    obs[1] = lanes::cast<float>(s.velocity);
  }

  template <class P, class F>
  static void visit_params(P& p, F&& f) {
    f("goal_velocity", p.goal_velocity);
    f("reset_low", p.reset_low);
    f("reset_high", p.reset_high);
  }
  template <class S, class F>
  SIMKIT_HD static void visit_state(S& s, F&& f) {
    f("position", s.position);
    f("velocity", s.velocity);
  }
};

}  // namespace simkit::envs
