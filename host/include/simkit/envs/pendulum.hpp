// SPDX-License-Identifier: Apache-2.0
// Pendulum-v1, after Gymnasium's classic_control/pendulum.py:
// https://github.com/Farama-Foundation/Gymnasium/blob/main/gymnasium/envs/classic_control/pendulum.py
// SI units: rad, rad/s, N m, kg, m, s. theta = 0 is upright and is never wrapped in the state.
// Semi-implicit Euler: the new angle uses the new (clipped) velocity.
// Precision: Gymnasium keeps the state in float64 but the action is a float32 array, and NumPy 2
// (NEP 50) computes 0.001 * u**2 and 3 / (m l^2) * u in float32; the float64 variant does the same,
// evaluates everything else in Gymnasium's order and reproduces its state bit for bit with FMA
// contraction off, except that Gymnasium calls np.sin (NumPy's own float64 sin, which may use SIMD
// kernels) where this calls the C library's sin: they agree to 1 ulp at worst.
#pragma once

#include "simkit/env.hpp"

namespace simkit::envs {

template <class R>
struct Pendulum {
  using Real = R;
  using Obs = float;
  static constexpr bool kDiscrete = false;  // torque, N m, in [-2, 2]; Gymnasium clips beyond

  static constexpr const char* kId = "Pendulum-v1";
  static constexpr int kMaxEpisodeSteps = 200;
  static constexpr int kObsDim = 3;  // cos theta, sin theta, theta_dot
  static constexpr Real kActionLow = -2.0;
  static constexpr Real kActionHigh = 2.0;

  static constexpr Real kPi = 3.141592653589793;
  static constexpr Real kMaxSpeed = 8;     // rad/s
  static constexpr Real kMaxTorque = 2.0;  // N m
  static constexpr Real kDt = 0.05;        // s per step
  static constexpr Real kMass = 1.0;       // kg
  static constexpr Real kLength = 1.0;     // m

  static constexpr float kObsHigh[kObsDim] = {1.0f, 1.0f, 8.0f};
  static constexpr float kObsLow[kObsDim] = {-1.0f, -1.0f, -8.0f};

  struct Params {
    Real g = 10.0;      // m/s^2, Gymnasium's constructor argument g
    Real x_init = kPi;  // rad, theta starts in U(-x_init, x_init) (reset option x_init)
    Real y_init = 1.0;  // rad/s, theta_dot starts in U(-y_init, y_init) (reset option y_init)
  };

  template <class V>
  struct StateOf {
    V theta;      // rad from upright, unbounded
    V theta_dot;  // rad/s, in [-8, 8]
  };
  using State = StateOf<Real>;

  template <class V>
  SIMKIT_HD static void reset(const Params& p, StateOf<V>& s, RandomStream<V>& rng) {
    s.theta = rng.uniform(-p.x_init, p.x_init);
    s.theta_dot = rng.uniform(-p.y_init, p.y_init);
  }

  template <class V>
  SIMKIT_HD static Transition<V> step(const Params& p, StateOf<V>& s, V action, RandomStream<V>&) {
    using F = lanes::Float<V>;
    const F u = lanes::cast<float>(math::clip(action, V(-kMaxTorque), V(kMaxTorque)));  // np.float32
    const V th = s.theta;
    const V thdot = s.theta_dot;
    const V normalized = math::floor_mod(th + kPi, V(Real(2) * kPi)) - kPi;  // angle_normalize(th)
    const F torque_cost = 0.001f * math::py_square<Real>(u);  // float32 (NEP 50)
    const V cost = math::py_square<Real>(normalized) + Real(0.1) * math::py_square<Real>(thdot) +
                   lanes::cast<Real>(torque_cost);
    const F torque_acc = static_cast<float>(Real(3.0) / (kMass * (kLength * kLength))) * u;  // float32
    V new_thdot = thdot + (Real(3) * p.g / (Real(2) * kLength) * math::sin(th) + lanes::cast<Real>(torque_acc)) * kDt;
    new_thdot = math::clip(new_thdot, V(-kMaxSpeed), V(kMaxSpeed));
    s.theta = th + new_thdot * kDt;
    s.theta_dot = new_thdot;
    return {-cost, lanes::Mask<V>(false)};
  }

  template <class V>
  SIMKIT_HD static void observe(const Params&, const StateOf<V>& s, lanes::Float<V>* obs) {
    V sin_theta, cos_theta;
    math::sincos(s.theta, sin_theta, cos_theta);
    obs[0] = lanes::cast<float>(cos_theta);
    obs[1] = lanes::cast<float>(sin_theta);
    obs[2] = lanes::cast<float>(s.theta_dot);
  }

  template <class P, class F>
  static void visit_params(P& p, F&& f) {
    f("g", p.g);
    f("x_init", p.x_init);
    f("y_init", p.y_init);
  }
  template <class S, class F>
  SIMKIT_HD static void visit_state(S& s, F&& f) {
    f("theta", s.theta);
    f("theta_dot", s.theta_dot);
  }
};

}  // namespace simkit::envs
