// SPDX-License-Identifier: Apache-2.0
// A sum of doubles that is exact until one final rounding (Shewchuk's non-overlapping partials and
// the correctly rounded last step of CPython's math.fsum), so the total does not depend on the order
// of the terms: episode returns summed per tile give the same total for any thread count, batch
// split at tile boundaries, or number of processes.
#pragma once

#include <vector>

namespace simkit {

class ExactSum {
 public:
  ExactSum() = default;
  // The sum another process sent as partials() and special().
  ExactSum(const std::vector<double>& partials, double special) : special_(special) {
    for (double p : partials) add(p);
  }
  void add(double x);
  void add(const ExactSum& other) {
    for (double p : other.partials_) add(p);
    special_ += other.special_;
  }
  // The exact sum correctly rounded (inf or NaN if a term was).
  double value() const;
  // An exact representation of the sum (non-overlapping, increasing magnitude), for sending to
  // another process; add() them there.
  const std::vector<double>& partials() const { return partials_; }
  double special() const { return special_; }  // the sum of the inf/NaN terms, else 0

 private:
  std::vector<double> partials_;
  double special_ = 0;
};

}  // namespace simkit
