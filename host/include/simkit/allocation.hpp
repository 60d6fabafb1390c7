// SPDX-License-Identifier: Apache-2.0
// Every buffer a backend owns (CUDA device and pinned memory in cuda/memory.cuh, the CPU backend's
// aligned arrays) calls check_allocation() before it allocates. Tests arm FailAllocation to make one
// of those allocations fail as if memory had run out, on the CPU build as well as the CUDA one, and
// check that a failed growth leaves the simulator as it was before the call.
#pragma once

#include <atomic>
#include <cstdint>
#include <new>

namespace simkit {

// What an armed FailAllocation throws in place of the allocation.
class InjectedAllocationFailure : public std::bad_alloc {
 public:
  const char* what() const noexcept override { return "simkit: injected allocation failure (test)"; }
};

namespace detail {
// Allocations to let through before the armed one fails; -1: none armed; -2: the armed one failed.
inline std::atomic<int64_t>& allocations_before_failure() {
  static std::atomic<int64_t> count{-1};
  return count;
}
}  // namespace detail

// Throws InjectedAllocationFailure for the allocation a test armed; one relaxed load otherwise.
inline void check_allocation() {
  std::atomic<int64_t>& count = detail::allocations_before_failure();
  if (count.load(std::memory_order_relaxed) < 0) return;
  if (count.fetch_sub(1, std::memory_order_relaxed) == 0) {
    count.store(-2);
    throw InjectedAllocationFailure();
  }
}

// Test hook: the allocation after `allowed` more successful ones fails (0: the next one); disarmed
// when it goes out of scope, whether or not it fired.
class FailAllocation {
 public:
  explicit FailAllocation(int64_t allowed) { detail::allocations_before_failure().store(allowed); }
  ~FailAllocation() { detail::allocations_before_failure().store(-1); }
  FailAllocation(const FailAllocation&) = delete;
  FailAllocation& operator=(const FailAllocation&) = delete;
  // True once the armed allocation has failed.
  static bool fired() { return detail::allocations_before_failure().load() == -2; }
};

}  // namespace simkit
