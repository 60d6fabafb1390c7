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
  using Action = Real;  // force, in [-1, 1]
  using Obs = float;

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

  struct State {
    Real position;  // in [-1.2, 0.6], goal at 0.45; float32 values after the first step
    Real velocity;  // per step, in [-0.07, 0.07]
  };

  SIMKIT_HD static void reset(const Params& p, State& s, RandomStream& rng) {
    s.position = rng.uniform(p.reset_low, p.reset_high);
    s.velocity = 0;
  }

  SIMKIT_HD static Transition<Real> step(const Params& p, State& s, Action action, RandomStream&) {
    const float a = static_cast<float>(action);  // Gymnasium's action is a float32 array
    if constexpr (std::is_same_v<Real, float>) {
      return advance<float>(p, s, a);
    } else {
      const bool stored_f32 = static_cast<double>(static_cast<float>(s.position)) == s.position &&
                              static_cast<double>(static_cast<float>(s.velocity)) == s.velocity;
      return stored_f32 ? advance<float>(p, s, a) : advance<double>(p, s, a);
    }
  }

  SIMKIT_HD static void observe(const Params&, const State& s, Obs* obs) {
    obs[0] = static_cast<float>(s.position);
    obs[1] = static_cast<float>(s.velocity);
  }

  template <class P, class F>
  static void visit_params(P& p, F&& f) {
    f("goal_velocity", p.goal_velocity);
    f("reset_low", p.reset_low);
    f("reset_high", p.reset_high);
  }
  template <class S, class F>
  static void visit_state(S& s, F&& f) {
    f("position", s.position);
    f("velocity", s.velocity);
  }

 private:
  // One step computed in T, the type the state is stored in (see the precision note above).
  template <class T>
  SIMKIT_HD static Transition<Real> advance(const Params& p, State& s, float a) {
    const T position0 = static_cast<T>(s.position);
    const T velocity0 = static_cast<T>(s.velocity);
    const Real slope = kGravity * math::cos(static_cast<Real>(T(3) * position0));  // a Python float
    const bool force_f32 = !((a < -1.0f) | (a > 1.0f));  // min(max(a, -1), 1) returned a itself
    const float dv_f32 = a * static_cast<float>(kPower) - static_cast<float>(slope);
    const Real dv_f64 = math::select(a > 1.0f, Real(1), Real(-1)) * kPower - slope;
    T velocity = velocity0 + math::select(force_f32, static_cast<T>(dv_f32), static_cast<T>(dv_f64));
    velocity = math::select(velocity > T(kMaxSpeed), T(kMaxSpeed), velocity);
    velocity = math::select(velocity < T(-kMaxSpeed), T(-kMaxSpeed), velocity);
    T position = position0 + velocity;
    position = math::select(position > T(kMaxPosition), T(kMaxPosition), position);
    position = math::select(position < T(kMinPosition), T(kMinPosition), position);
    velocity = math::select((position == T(kMinPosition)) & (velocity < T(0)), T(0), velocity);  // the wall
    const int32_t terminated = (position >= T(kGoalPosition)) & (velocity >= T(p.goal_velocity));
    s.position = static_cast<Real>(static_cast<float>(position));
    s.velocity = static_cast<Real>(static_cast<float>(velocity));
    const Real penalty = static_cast<Real>(a) * static_cast<Real>(a) * Real(0.1);  // math.pow(a, 2) * 0.1
    return {math::select(terminated != 0, Real(100), Real(0)) - penalty, terminated};
  }
};

}  // namespace simkit::envs
