// SPDX-License-Identifier: Apache-2.0
// CartPole-v1, after Gymnasium's classic_control/cartpole.py (Barto, Sutton & Anderson 1983):
// https://github.com/Farama-Foundation/Gymnasium/blob/main/gymnasium/envs/classic_control/cartpole.py
// SI units: m, m/s, rad, rad/s, N, s. The float64 variant evaluates every expression in Gymnasium's
// order, so with FMA contraction off it reproduces Gymnasium's float64 state bit for bit; the
// float32 variant multiplies by constant reciprocals where Gymnasium divides by constants.
#pragma once

#include "simkit/env.hpp"

namespace simkit::envs {

template <class R>
struct CartPole {
  using Real = R;
  using Obs = float;
  static constexpr bool kDiscrete = true;  // 0 pushes left, 1 pushes right

  static constexpr const char* kId = "CartPole-v1";
  static constexpr int kMaxEpisodeSteps = 500;
  static constexpr int kNumActions = 2;
  static constexpr int kObsDim = 4;  // x, x_dot, theta, theta_dot

  static constexpr Real kGravity = 9.8;
  static constexpr Real kMassCart = 1.0;
  static constexpr Real kMassPole = 0.1;
  static constexpr Real kTotalMass = kMassPole + kMassCart;
  static constexpr Real kLength = 0.5;  // half the pole's length
  static constexpr Real kPoleMassLength = kMassPole * kLength;
  static constexpr Real kForceMag = 10.0;
  static constexpr Real kTau = 0.02;  // s per step
  static constexpr Real kThetaThreshold = 12 * 2 * 3.141592653589793 / 360;
  static constexpr Real kXThreshold = 2.4;

  static constexpr float kObsHigh[kObsDim] = {4.8f, HUGE_VALF, 0.41887903f, HUGE_VALF};
  static constexpr float kObsLow[kObsDim] = {-4.8f, -HUGE_VALF, -0.41887903f, -HUGE_VALF};

  struct Params {
    int32_t sutton_barto_reward = 0;  // 1: reward 0 per step and -1 on termination
    int32_t euler = 1;                // 1: explicit Euler (Gymnasium's default), 0: semi-implicit
    Real reset_low = -0.05;           // every state variable starts in U(reset_low, reset_high)
    Real reset_high = 0.05;
  };

  template <class V>
  struct StateOf {
    V x;          // m, terminal beyond +-2.4
    V x_dot;      // m/s
    V theta;      // rad from upright, terminal beyond +-0.2095
    V theta_dot;  // rad/s
  };
  using State = StateOf<Real>;

  template <class V>
  SIMKIT_HD static void reset(const Params& p, StateOf<V>& s, RandomStream<V>& rng) {
    s.x = rng.uniform(p.reset_low, p.reset_high);
    s.x_dot = rng.uniform(p.reset_low, p.reset_high);
    s.theta = rng.uniform(p.reset_low, p.reset_high);
    s.theta_dot = rng.uniform(p.reset_low, p.reset_high);
  }

  template <class V>
  SIMKIT_HD static Transition<V> step(const Params& p, StateOf<V>& s, lanes::Int<V> action, RandomStream<V>&) {
    const V force = lanes::select(action == 1, V(kForceMag), V(-kForceMag));
    V sintheta, costheta;
    math::sincos_mostly_small(s.theta, sintheta, costheta);
    const V temp = math::over(force + kPoleMassLength * (s.theta_dot * s.theta_dot) * sintheta, kTotalMass);
    const V thetaacc = (kGravity * sintheta - costheta * temp) /
                       (kLength * (Real(4.0) / Real(3.0) - math::over(kMassPole * (costheta * costheta), kTotalMass)));
    const V xacc = temp - math::over(kPoleMassLength * thetaacc * costheta, kTotalMass);
    // Explicit Euler moves x and theta with the old velocities, semi-implicit Euler with the new ones.
    const V x_dot = s.x_dot + kTau * xacc;
    const V theta_dot = s.theta_dot + kTau * thetaacc;
    s.x = s.x + kTau * (p.euler ? s.x_dot : x_dot);
    s.theta = s.theta + kTau * (p.euler ? s.theta_dot : theta_dot);
    s.x_dot = x_dot;
    s.theta_dot = theta_dot;
    const lanes::Mask<V> terminated =
        (s.x < -kXThreshold) | (s.x > kXThreshold) | (s.theta < -kThetaThreshold) | (s.theta > kThetaThreshold);
    const V reward = p.sutton_barto_reward ? lanes::select(terminated, V(-1), V(0)) : V(1);
    return {reward, terminated};
  }

  template <class V>
  SIMKIT_HD static void observe(const Params&, const StateOf<V>& s, lanes::Float<V>* obs) {
    obs[0] = lanes::cast<float>(s.x);
    obs[1] = lanes::cast<float>(s.x_dot);
    obs[2] = lanes::cast<float>(s.theta);
    obs[3] = lanes::cast<float>(s.theta_dot);
  }

  template <class P, class F>
  static void visit_params(P& p, F&& f) {
    f("sutton_barto_reward", p.sutton_barto_reward);
    f("euler", p.euler);
    f("reset_low", p.reset_low);
    f("reset_high", p.reset_high);
  }
  template <class S, class F>
  SIMKIT_HD static void visit_state(S& s, F&& f) {
    f("x", s.x);
    f("x_dot", s.x_dot);
    f("theta", s.theta);
    f("theta_dot", s.theta_dot);
  }
};

}  // namespace simkit::envs
