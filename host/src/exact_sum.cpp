// SPDX-License-Identifier: Apache-2.0
// After CPython's Modules/mathmodule.c math_fsum (Shewchuk, "Adaptive Precision Floating-Point
// Arithmetic and Fast Robust Geometric Predicates", 1997). Needs IEEE double arithmetic without
// contraction or reassociation (this file is compiled with -ffp-contract=off).
#include "simkit/exact_sum.hpp"

#include <cmath>
#include <cstddef>

namespace simkit {

void ExactSum::add(double x) {
  if (!std::isfinite(x)) {
    special_ += x;
    return;
  }
  size_t i = 0;
  for (double y : partials_) {
    if (std::fabs(x) < std::fabs(y)) std::swap(x, y);
    const double hi = x + y;
    const double lo = y - (hi - x);
    if (lo != 0.0) partials_[i++] = lo;
    x = hi;
  }
  partials_.resize(i);
  partials_.push_back(x);
}

double ExactSum::value() const {
  if (special_ != 0 || std::isnan(special_)) return special_;
  size_t n = partials_.size();
  if (n == 0) return 0.0;
  double hi = partials_[--n];
  double lo = 0;
  while (n > 0) {
    const double x = hi;
    const double y = partials_[--n];
    hi = x + y;
    lo = y - (hi - x);
    if (lo != 0.0) break;
  }
  // Round half to even across the remaining partials: if the rest has the sign of lo, hi + 2 lo
  // may be the correctly rounded result.
  if (n > 0 && ((lo < 0.0 && partials_[n - 1] < 0.0) || (lo > 0.0 && partials_[n - 1] > 0.0))) {
    const double y = lo * 2.0;
    const double x = hi + y;
    if (y == x - hi) hi = x;
  }
  return hi;
}

}  // namespace simkit
