// SPDX-License-Identifier: Apache-2.0
// MountainCarContinuous-v0, after Gymnasium's classic_control/continuous_mountain_car.py:
// https://github.com/Farama-Foundation/Gymnasium/blob/main/gymnasium/envs/classic_control/continuous_mountain_car.py
// Units: position along the track's x axis (Gymnasium: m), velocity per step, force in [-1, 1].
// Semi-implicit Euler; the left wall at -1.2 is inelastic; the goal is at 0.45; the action penalty
// uses the unclipped action.
// Precision, as Gymnasium runs under NumPy 2 (NEP 50): reset stores the state in float64, every step
// re-stores it in float32, and each step computes in the type the state is stored in, Python floats
// (the constants, math.cos) converted to it. A force inside [-1, 1] stays np.float32, so
// force * power - 0.0025 * cos(3 p) is a float32 difference; a clipped force is a Python float and the
// difference is float64. The float64 variant follows all of this; it tells a float32-stored state by
// both fields being float32 values (a fresh float64 reset position is one with probability ~1e-8).
#pragma once

#include <type_traits>

#include "simkit/env.hpp"

namespace simkit::envs {

template <class R>
struct MountainCarContinuous {
  using Real = R;
  using Obs = float;
  static constexpr bool kDiscrete = false;  // force, in [-1, 1]; Gymnasium clips beyond

  static constexpr const char* kId = "MountainCarContinuous-v0";
  static constexpr int kMaxEpisodeSteps = 999;
  static constexpr int kObsDim = 2;  // position, velocity
  static constexpr Real kActionLow = -1.0;
  static constexpr Real kActionHigh = 1.0;

  static constexpr Real kMinPosition = -1.2;
  static constexpr Real kMaxPosition = 0.6;
  static constexpr Real kMaxSpeed = 0.07;  // per step
  static constexpr Real kGoalPosition = 0.45;
  static constexpr Real kPower = 0.0015;    // velocity change per step at full force
  static constexpr Real kGravity = 0.0025;  // times cos(3 position): the slope's pull

  static constexpr float kObsHigh[kObsDim] = {0.6f, 0.07f};
  static constexpr float kObsLow[kObsDim] = {-1.2f, -0.07f};

  struct Params {
    Real goal_velocity = 0;  // terminal once position >= 0.45 and velocity >= goal_velocity
    Real reset_low = -0.6;   // position starts in U(reset_low, reset_high), velocity at 0
    Real reset_high = -0.4;
  };

  template <class V>
  struct StateOf {
    V position;  // in [-1.2, 0.6], goal at 0.45; float32 values after the first step
    V velocity;  // per step, in [-0.07, 0.07]
  };
  using State = StateOf<Real>;

  template <class V>
  SIMKIT_HD static void reset(const Params& p, StateOf<V>& s, RandomStream<V>& rng) {
    s.position = rng.uniform(p.reset_low, p.reset_high);
    s.velocity = V(0);
  }

  template <class V>
  SIMKIT_HD static Transition<V> step(const Params& p, StateOf<V>& s, V action, RandomStream<V>&) {
    const lanes::Float<V> a = lanes::cast<float>(action);  // Gymnasium's action is a float32 array
    if constexpr (std::is_same_v<Real, float>) {
      return advance<V, V>(p, s, a);
    } else {
      // Each lane computes in the type its state is stored in: float32 after a step, float64 after
      // a reset.
      const lanes::Mask<V> same_position = lanes::cast<Real>(lanes::cast<float>(s.position)) == s.position;
      const lanes::Mask<V> same_velocity = lanes::cast<Real>(lanes::cast<float>(s.velocity)) == s.velocity;
      const lanes::Mask<V> stored_f32 = same_position & same_velocity;
      if (lanes::all(stored_f32)) return advance<lanes::Float<V>, V>(p, s, a);
      if (!lanes::any(stored_f32)) return advance<V, V>(p, s, a);
      StateOf<V> s32 = s;
      const Transition<V> t32 = advance<lanes::Float<V>, V>(p, s32, a);
      const Transition<V> t64 = advance<V, V>(p, s, a);
      s.position = lanes::select(stored_f32, s32.position, s.position);
      s.velocity = lanes::select(stored_f32, s32.velocity, s.velocity);
      const lanes::Mask<V> terminated = (stored_f32 & t32.terminated) | ((!stored_f32) & t64.terminated);
      return {lanes::select(stored_f32, t32.reward, t64.reward), terminated};
    }
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

 private:
  // One step computed in lanes T, the type the state is stored in (see the precision note above).
  template <class T, class V>
  SIMKIT_HD static Transition<V> advance(const Params& p, StateOf<V>& s, const lanes::Float<V>& a) {
    using ST = lanes::Scalar<T>;
    const T position0 = lanes::cast<ST>(s.position);
    const T velocity0 = lanes::cast<ST>(s.velocity);
    const V slope = kGravity * math::cos(lanes::cast<Real>(T(3) * position0));  // a Python float
    const auto force_f32 = !((a < -1.0f) | (a > 1.0f));  // min(max(a, -1), 1) returned a itself
    const lanes::Float<V> dv_f32 = a * static_cast<float>(kPower) - lanes::cast<float>(slope);
    const V dv_f64 = lanes::select(a > 1.0f, V(1), V(-1)) * kPower - slope;
    T velocity = velocity0 + lanes::select(force_f32, lanes::cast<ST>(dv_f32), lanes::cast<ST>(dv_f64));
    velocity = lanes::select(velocity > ST(kMaxSpeed), T(ST(kMaxSpeed)), velocity);
    velocity = lanes::select(velocity < ST(-kMaxSpeed), T(ST(-kMaxSpeed)), velocity);
    T position = position0 + velocity;
    position = lanes::select(position > ST(kMaxPosition), T(ST(kMaxPosition)), position);
    position = lanes::select(position < ST(kMinPosition), T(ST(kMinPosition)), position);
    velocity = lanes::select((position == ST(kMinPosition)) & (velocity < ST(0)), T(ST(0)), velocity);  // the wall
    const lanes::Mask<V> terminated = (position >= ST(kGoalPosition)) & (velocity >= static_cast<ST>(p.goal_velocity));
    s.position = lanes::cast<Real>(lanes::cast<float>(position));
    s.velocity = lanes::cast<Real>(lanes::cast<float>(velocity));
    const V penalty = lanes::cast<Real>(a) * lanes::cast<Real>(a) * Real(0.1);  // math.pow(a, 2) * 0.1
    return {lanes::select(terminated, V(100), V(0)) - penalty, terminated};
  }
};

}  // namespace simkit::envs
