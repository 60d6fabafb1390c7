// SPDX-License-Identifier: Apache-2.0
// Acrobot-v1, after Gymnasium's classic_control/acrobot.py (Sutton 1996; Sutton & Barto 1998):
// https://github.com/Farama-Foundation/Gymnasium/blob/main/gymnasium/envs/classic_control/acrobot.py
// SI units: rad, rad/s, N m, kg, m, s. theta1 = 0: link 1 hangs down; theta2 is relative to link 1.
// One classical RK4 step of h = 0.2 s over (theta1, theta2, theta1_dot, theta2_dot, torque), the
// torque's derivative being 0 (so it stays as it is and is not carried), then the angles wrapped into
// [-pi, pi] and the velocities clipped. The float64 variant evaluates Gymnasium's expressions in its
// order and reproduces its state bit for bit with FMA contraction off, except that Gymnasium calls
// np.sin/np.cos (NumPy's own float64 kernels, possibly SIMD) where this calls the C library: they
// agree to 1 ulp at worst. Reset draws are rounded to float32, as Gymnasium stores them.
#pragma once

#include "simkit/env.hpp"

namespace simkit::envs {

template <class R>
struct Acrobot {
  using Real = R;
  using Obs = float;
  static constexpr bool kDiscrete = true;  // torque on the joint between the links: 0 -> -1 N m, 1 -> 0, 2 -> +1 N m

  static constexpr const char* kId = "Acrobot-v1";
  static constexpr int kMaxEpisodeSteps = 500;
  static constexpr int kNumActions = 3;
  static constexpr int kObsDim = 6;  // cos theta1, sin theta1, cos theta2, sin theta2, theta1_dot, theta2_dot

  static constexpr Real kPi = 3.141592653589793;
  static constexpr Real kDt = 0.2;           // s per step
  static constexpr Real kLinkLength1 = 1.0;  // m
  static constexpr Real kLinkMass1 = 1.0;    // kg
  static constexpr Real kLinkMass2 = 1.0;    // kg
  static constexpr Real kLinkComPos1 = 0.5;  // m from the joint to link 1's centre of mass
  static constexpr Real kLinkComPos2 = 0.5;  // m
  static constexpr Real kLinkMoi = 1.0;      // kg m^2, both links
  static constexpr Real kGravity = 9.8;      // m/s^2
  static constexpr Real kMaxVel1 = 4 * kPi;  // rad/s
  static constexpr Real kMaxVel2 = 9 * kPi;  // rad/s

  static constexpr float kObsHigh[kObsDim] = {
      1.0f, 1.0f, 1.0f, 1.0f, static_cast<float>(4 * 3.141592653589793), static_cast<float>(9 * 3.141592653589793)};
  static constexpr float kObsLow[kObsDim] = {-1.0f,
                                             -1.0f,
                                             -1.0f,
                                             -1.0f,
                                             -static_cast<float>(4 * 3.141592653589793),
                                             -static_cast<float>(9 * 3.141592653589793)};

  struct Params {
    int32_t book = 1;       // 1: the book's dynamics (Gymnasium's default); 0: the NIPS paper's
    Real reset_low = -0.1;  // every state variable starts in U(reset_low, reset_high), float32-rounded
    Real reset_high = 0.1;
  };

  template <class V>
  struct StateOf {
    V theta1;      // rad, in [-pi, pi]
    V theta2;      // rad relative to link 1, in [-pi, pi]
    V theta1_dot;  // rad/s, in [-4 pi, 4 pi]
    V theta2_dot;  // rad/s, in [-9 pi, 9 pi]
  };
  using State = StateOf<Real>;

  // Gymnasium stores the reset draws as float32 (round_through_float: no optimizer may drop it).
  template <class V>
  SIMKIT_HD static void reset(const Params& p, StateOf<V>& s, RandomStream<V>& rng) {
    s.theta1 = lanes::round_through_float(rng.uniform(p.reset_low, p.reset_high));
    s.theta2 = lanes::round_through_float(rng.uniform(p.reset_low, p.reset_high));
    s.theta1_dot = lanes::round_through_float(rng.uniform(p.reset_low, p.reset_high));
    s.theta2_dot = lanes::round_through_float(rng.uniform(p.reset_low, p.reset_high));
  }

  template <class V>
  SIMKIT_HD static Transition<V> step(const Params& p, StateOf<V>& s, lanes::Int<V> action, RandomStream<V>&) {
    const V torque = lanes::cast<Real>(action - 1);
    const Real h = kDt;
    const Real h2 = h / Real(2.0);
    const StateOf<V> k1 = derivatives(p.book, torque, s);
    const StateOf<V> k2 = derivatives(p.book, torque, axpy(s, h2, k1));
    const StateOf<V> k3 = derivatives(p.book, torque, axpy(s, h2, k2));
    const StateOf<V> k4 = derivatives(p.book, torque, axpy(s, h, k3));
    const Real h6 = h / Real(6.0);
    s.theta1 = math::wrap(s.theta1 + h6 * (k1.theta1 + Real(2) * k2.theta1 + Real(2) * k3.theta1 + k4.theta1), V(-kPi),
                          V(kPi));
    s.theta2 = math::wrap(s.theta2 + h6 * (k1.theta2 + Real(2) * k2.theta2 + Real(2) * k3.theta2 + k4.theta2), V(-kPi),
                          V(kPi));
    s.theta1_dot = math::clip(
        s.theta1_dot + h6 * (k1.theta1_dot + Real(2) * k2.theta1_dot + Real(2) * k3.theta1_dot + k4.theta1_dot),
        V(-kMaxVel1), V(kMaxVel1));
    s.theta2_dot = math::clip(
        s.theta2_dot + h6 * (k1.theta2_dot + Real(2) * k2.theta2_dot + Real(2) * k3.theta2_dot + k4.theta2_dot),
        V(-kMaxVel2), V(kMaxVel2));
    const lanes::Mask<V> terminated = -math::cos(s.theta1) - math::cos(s.theta2 + s.theta1) > Real(1.0);
    return {lanes::select(terminated, V(0), V(-1)), terminated};
  }

  template <class V>
  SIMKIT_HD static void observe(const Params&, const StateOf<V>& s, lanes::Float<V>* obs) {
    V sin1, cos1, sin2, cos2;
    math::sincos(s.theta1, sin1, cos1);
    math::sincos(s.theta2, sin2, cos2);
    obs[0] = lanes::cast<float>(cos1);
    obs[1] = lanes::cast<float>(sin1);
    obs[2] = lanes::cast<float>(cos2);
    obs[3] = lanes::cast<float>(sin2);
    obs[4] = lanes::cast<float>(s.theta1_dot);
    obs[5] = lanes::cast<float>(s.theta2_dot);
  }

  template <class P, class F>
  static void visit_params(P& p, F&& f) {
    f("book", p.book);
    f("reset_low", p.reset_low);
    f("reset_high", p.reset_high);
  }
  template <class S, class F>
  SIMKIT_HD static void visit_state(S& s, F&& f) {
    f("theta1", s.theta1);
    f("theta2", s.theta2);
    f("theta1_dot", s.theta1_dot);
    f("theta2_dot", s.theta2_dot);
  }

 private:
  // y + a * k, component by component (NumPy's y0 + dt2 * k1).
  template <class V>
  SIMKIT_HD static StateOf<V> axpy(const StateOf<V>& y, Real a, const StateOf<V>& k) {
    return {y.theta1 + a * k.theta1, y.theta2 + a * k.theta2, y.theta1_dot + a * k.theta1_dot,
            y.theta2_dot + a * k.theta2_dot};
  }

  // Gymnasium's _dsdt: (theta1_dot, theta2_dot, theta1_ddot, theta2_ddot) at y under torque a.
  template <class V>
  SIMKIT_HD static StateOf<V> derivatives(int32_t book, const V& a, const StateOf<V>& y) {
    constexpr Real m1 = kLinkMass1, m2 = kLinkMass2, l1 = kLinkLength1, lc1 = kLinkComPos1, lc2 = kLinkComPos2;
    constexpr Real i1 = kLinkMoi, i2 = kLinkMoi, g = kGravity;
    V sin2, cos2;
    math::sincos(y.theta2, sin2, cos2);
    const V dtheta1 = y.theta1_dot;
    const V dtheta2 = y.theta2_dot;
    const V d1 = m1 * (lc1 * lc1) + m2 * (l1 * l1 + lc2 * lc2 + Real(2) * l1 * lc2 * cos2) + i1 + i2;
    const V d2 = m2 * (lc2 * lc2 + l1 * lc2 * cos2) + i2;
    // float64 evaluates Gymnasium's cos(theta1 + theta2 - pi/2), cos(theta1 - pi/2) and three
    // divisions by d1. float32 takes the equal sin(theta1 + theta2) (by angle addition) and sin(theta1)
    // from one sincos, and multiplies by one reciprocal of d1: per derivative, one sincos instead of
    // two and two divisions instead of four.
    V cos_sum_minus_half_pi, cos_1_minus_half_pi, d2_over_d1, d2_squared_over_d1, inv_d1;
    if constexpr (math::kIsFloat<V>) {
      V sin1, cos1;
      math::sincos(y.theta1, sin1, cos1);
      cos_sum_minus_half_pi = sin1 * cos2 + cos1 * sin2;
      cos_1_minus_half_pi = sin1;
      inv_d1 = Real(1) / d1;
      d2_over_d1 = d2 * inv_d1;
      d2_squared_over_d1 = d2 * d2 * inv_d1;
    } else {
      cos_sum_minus_half_pi = math::cos(y.theta1 + y.theta2 - kPi / Real(2.0));
      cos_1_minus_half_pi = math::cos(y.theta1 - kPi / Real(2));
      d2_over_d1 = d2 / d1;
      d2_squared_over_d1 = math::py_square<Real>(d2) / d1;
    }
    const V phi2 = m2 * lc2 * g * cos_sum_minus_half_pi;
    const V phi1 = -m2 * l1 * lc2 * math::py_square<Real>(dtheta2) * sin2 - Real(2) * m2 * l1 * lc2 * dtheta2 * dtheta1 * sin2 +
                   (m1 * lc1 + m2 * l1) * g * cos_1_minus_half_pi + phi2;
    // NIPS drops the book's term; subtracting an exact 0 instead keeps Gymnasium's arithmetic for both.
    const V book_term = book ? m2 * l1 * lc2 * math::py_square<Real>(dtheta1) * sin2 : V(0);
    const V numerator = a + d2_over_d1 * phi1 - book_term - phi2;
    const V ddtheta2 = numerator / (m2 * (lc2 * lc2) + i2 - d2_squared_over_d1);
    V ddtheta1;
    if constexpr (math::kIsFloat<V>) ddtheta1 = -(d2 * ddtheta2 + phi1) * inv_d1;
    else ddtheta1 = -(d2 * ddtheta2 + phi1) / d1;
    return {dtheta1, dtheta2, ddtheta1, ddtheta2};
  }
};

}  // namespace simkit::envs
