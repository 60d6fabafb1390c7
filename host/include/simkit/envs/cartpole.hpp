// SPDX-License-Identifier: Apache-2.0
// CartPole-v1, after Gymnasium's classic_control/cartpole.py (Barto, Sutton & Anderson 1983):
// https://github.com/Farama-Foundation/Gymnasium/blob/main/gymnasium/envs/classic_control/cartpole.py
// SI units: m, m/s, rad, rad/s, N, s. The float64 variant evaluates every expression in Gymnasium's
// order, so with FMA contraction off it reproduces Gymnasium's float64 state bit for bit.
#pragma once

#include "simkit/env.hpp"

namespace simkit::envs {

template <class R>
struct CartPole {
  using Real = R;
  using Action = int32_t;  // 0 pushes left, 1 pushes right
  using Obs = float;

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
    bool sutton_barto_reward = false;  // 0 per step, -1 on termination
    bool euler = true;                 // false: semi-implicit Euler
    Real reset_low = -0.05;            // every state variable starts in U(reset_low, reset_high)
    Real reset_high = 0.05;
  };

  struct State {
    Real x;          // m, terminal beyond +-2.4
    Real x_dot;      // m/s
    Real theta;      // rad from upright, terminal beyond +-0.2095
    Real theta_dot;  // rad/s
  };

  SIMKIT_HD static void reset(const Params& p, State& s, RandomStream& rng) {
    s.x = rng.uniform(p.reset_low, p.reset_high);
    s.x_dot = rng.uniform(p.reset_low, p.reset_high);
    s.theta = rng.uniform(p.reset_low, p.reset_high);
    s.theta_dot = rng.uniform(p.reset_low, p.reset_high);
  }

  SIMKIT_HD static Transition<Real> step(const Params& p, State& s, Action action, RandomStream&) {
    const Real force = action == 1 ? kForceMag : -kForceMag;
    Real sintheta, costheta;
    math::sincos(s.theta, sintheta, costheta);
    const Real temp = (force + kPoleMassLength * (s.theta_dot * s.theta_dot) * sintheta) / kTotalMass;
    const Real thetaacc = (kGravity * sintheta - costheta * temp) /
                          (kLength * (Real(4.0) / Real(3.0) - kMassPole * (costheta * costheta) / kTotalMass));
    const Real xacc = temp - kPoleMassLength * thetaacc * costheta / kTotalMass;
    if (p.euler) {
      s.x = s.x + kTau * s.x_dot;
      s.x_dot = s.x_dot + kTau * xacc;
      s.theta = s.theta + kTau * s.theta_dot;
      s.theta_dot = s.theta_dot + kTau * thetaacc;
    } else {
      s.x_dot = s.x_dot + kTau * xacc;
      s.x = s.x + kTau * s.x_dot;
      s.theta_dot = s.theta_dot + kTau * thetaacc;
      s.theta = s.theta + kTau * s.theta_dot;
    }
    const bool terminated =
        s.x < -kXThreshold || s.x > kXThreshold || s.theta < -kThetaThreshold || s.theta > kThetaThreshold;
    const Real reward = p.sutton_barto_reward ? (terminated ? Real(-1) : Real(0)) : Real(1);
    return {reward, terminated};
  }

  SIMKIT_HD static void observe(const Params&, const State& s, Obs* obs) {
    obs[0] = static_cast<float>(s.x);
    obs[1] = static_cast<float>(s.x_dot);
    obs[2] = static_cast<float>(s.theta);
    obs[3] = static_cast<float>(s.theta_dot);
  }

  template <class P, class F>
  static void visit_params(P& p, F&& f) {
    f("sutton_barto_reward", p.sutton_barto_reward);
    f("euler", p.euler);
    f("reset_low", p.reset_low);
    f("reset_high", p.reset_high);
  }
  template <class S, class F>
  static void visit_state(S& s, F&& f) {
    f("x", s.x);
    f("x_dot", s.x_dot);
    f("theta", s.theta);
    f("theta_dot", s.theta_dot);
  }
};

}  // namespace simkit::envs
