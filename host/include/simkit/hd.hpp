// SPDX-License-Identifier: Apache-2.0
// SIMKIT_HD marks code that runs in a CUDA kernel and in a CPU loop alike.
#pragma once

#if defined(__CUDACC__)
#define SIMKIT_HD __host__ __device__ __forceinline__
#else
// always_inline: the CPU backend relies on env code being inlined into `omp simd` loops.
#define SIMKIT_HD inline __attribute__((always_inline))
#endif
