// SPDX-License-Identifier: Apache-2.0
// Move-only owners of device memory, pinned host memory, streams and events. These are the only
// places that call cudaMalloc/cudaFree, cudaMallocHost/cudaFreeHost, cudaStreamCreate/Destroy and
// cudaEventCreate/Destroy. Constructors throw CudaError; destructors are noexcept and log a failed
// release through spdlog instead of throwing (a destructor may run while an exception unwinds).
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <utility>

#include "simkit/allocation.hpp"
#include "simkit/cuda/check.cuh"

namespace simkit::cuda {

namespace detail {
// Logs through spdlog (defined in log.cpp, compiled by the host compiler: spdlog/fmt stay out of
// nvcc's translation units). Never throws.
void log_error(const char* what, const char* name, const char* text) noexcept;
inline void log_release_failure(const char* what, cudaError_t err) noexcept {
  log_error(what, cudaGetErrorName(err), cudaGetErrorString(err));
}
}  // namespace detail

// `count` elements of T in device memory, uninitialized.
template <class T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(size_t count) : count_(count) {
    if (count == 0) return;
    check_allocation();
    SIMKIT_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&ptr_), count * sizeof(T)));
  }
  DeviceBuffer(DeviceBuffer&& o) noexcept : ptr_(std::exchange(o.ptr_, nullptr)), count_(std::exchange(o.count_, 0)) {}
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    if (this != &o) {
      release();
      ptr_ = std::exchange(o.ptr_, nullptr);
      count_ = std::exchange(o.count_, 0);
    }
    return *this;
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  ~DeviceBuffer() { release(); }

  T* get() const { return ptr_; }
  size_t size() const { return count_; }
  size_t bytes() const { return count_ * sizeof(T); }
  bool empty() const { return count_ == 0; }

 private:
  void release() noexcept {
    if (ptr_) {
      const cudaError_t err = cudaFree(ptr_);
      if (err != cudaSuccess) detail::log_release_failure("cudaFree", err);
      ptr_ = nullptr;
    }
  }
  T* ptr_ = nullptr;
  size_t count_ = 0;
};

// `count` elements of T in page-locked host memory (fast, asynchronous copies), uninitialized.
template <class T>
class PinnedBuffer {
 public:
  PinnedBuffer() = default;
  explicit PinnedBuffer(size_t count) : count_(count) {
    if (count == 0) return;
    check_allocation();
    SIMKIT_CUDA_CHECK(cudaMallocHost(reinterpret_cast<void**>(&ptr_), count * sizeof(T)));
  }
  PinnedBuffer(PinnedBuffer&& o) noexcept : ptr_(std::exchange(o.ptr_, nullptr)), count_(std::exchange(o.count_, 0)) {}
  PinnedBuffer& operator=(PinnedBuffer&& o) noexcept {
    if (this != &o) {
      release();
      ptr_ = std::exchange(o.ptr_, nullptr);
      count_ = std::exchange(o.count_, 0);
    }
    return *this;
  }
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;
  ~PinnedBuffer() { release(); }

  T* get() const { return ptr_; }
  T& operator[](size_t i) const { return ptr_[i]; }
  size_t size() const { return count_; }
  size_t bytes() const { return count_ * sizeof(T); }

 private:
  void release() noexcept {
    if (ptr_) {
      const cudaError_t err = cudaFreeHost(ptr_);
      if (err != cudaSuccess) detail::log_release_failure("cudaFreeHost", err);
      ptr_ = nullptr;
    }
  }
  T* ptr_ = nullptr;
  size_t count_ = 0;
};

// A non-blocking stream (does not synchronize with the legacy default stream).
class Stream {
 public:
  Stream() { SIMKIT_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking)); }
  Stream(Stream&& o) noexcept : stream_(std::exchange(o.stream_, nullptr)) {}
  Stream& operator=(Stream&& o) noexcept {
    if (this != &o) {
      release();
      stream_ = std::exchange(o.stream_, nullptr);
    }
    return *this;
  }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  ~Stream() { release(); }

  cudaStream_t get() const { return stream_; }
  void synchronize() const { SIMKIT_CUDA_CHECK(cudaStreamSynchronize(stream_)); }
  // Work queued on this stream after this call waits for `event`.
  void wait(cudaEvent_t event) const { SIMKIT_CUDA_CHECK(cudaStreamWaitEvent(stream_, event, 0)); }

 private:
  void release() noexcept {
    if (stream_) {
      const cudaError_t err = cudaStreamDestroy(stream_);
      if (err != cudaSuccess) detail::log_release_failure("cudaStreamDestroy", err);
      stream_ = nullptr;
    }
  }
  cudaStream_t stream_ = nullptr;
};

// An event; timing events measure, ordering events (timing = false) are cheaper.
class Event {
 public:
  explicit Event(bool timing = true) {
    SIMKIT_CUDA_CHECK(cudaEventCreateWithFlags(&event_, timing ? cudaEventDefault : cudaEventDisableTiming));
  }
  Event(Event&& o) noexcept : event_(std::exchange(o.event_, nullptr)) {}
  Event& operator=(Event&& o) noexcept {
    if (this != &o) {
      release();
      event_ = std::exchange(o.event_, nullptr);
    }
    return *this;
  }
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  ~Event() { release(); }

  cudaEvent_t get() const { return event_; }
  void record(const Stream& s) const { SIMKIT_CUDA_CHECK(cudaEventRecord(event_, s.get())); }
  void synchronize() const { SIMKIT_CUDA_CHECK(cudaEventSynchronize(event_)); }
  // Seconds from `start` to this event (both recorded and complete).
  double seconds_since(const Event& start) const {
    float ms = 0;
    SIMKIT_CUDA_CHECK(cudaEventElapsedTime(&ms, start.event_, event_));
    return static_cast<double>(ms) * 1e-3;
  }

 private:
  void release() noexcept {
    if (event_) {
      const cudaError_t err = cudaEventDestroy(event_);
      if (err != cudaSuccess) detail::log_release_failure("cudaEventDestroy", err);
      event_ = nullptr;
    }
  }
  cudaEvent_t event_ = nullptr;
};

}  // namespace simkit::cuda
