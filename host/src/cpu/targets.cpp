// SPDX-License-Identifier: Apache-2.0
#include "cpu/targets.hpp"

#include <cstdlib>
#include <string>

#include "simkit/simulator.hpp"
#include "simkit/system_info.hpp"

#if defined(__x86_64__)
#include <cpuid.h>
#endif

namespace simkit::cpu {

namespace {

#if defined(__x86_64__)
// The features -march=x86-64-v3 / -v4 compile for (the avx2 / avx512 units), and the OS saving the
// vector registers they use (XCR0).
struct X86Features {
  bool v3 = false, v4 = false;
};

X86Features read_x86_features() {
  X86Features f;
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  const bool sse = (c & bit_SSE3) && (c & bit_SSSE3) && (c & bit_SSE4_1) && (c & bit_SSE4_2) && (c & bit_POPCNT) &&
                   (c & bit_CMPXCHG16B);
  const bool avx = (c & bit_AVX) && (c & bit_OSXSAVE) && (c & bit_FMA) && (c & bit_F16C) && (c & bit_MOVBE);
  if (!sse || !avx) return f;
  unsigned xcr0_lo, xcr0_hi;
  __asm__("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
  const bool os_avx = (xcr0_lo & 0x6) == 0x6;          // SSE and AVX state
  const bool os_avx512 = (xcr0_lo & 0xe6) == 0xe6;     // + opmask, ZMM_Hi256, Hi16_ZMM
  unsigned ea, eb, ec, ed;
  if (!__get_cpuid(0x80000001, &ea, &eb, &ec, &ed)) return f;
  const bool lzcnt = ec & bit_LZCNT;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return f;
  f.v3 = os_avx && lzcnt && (b & bit_AVX2) && (b & bit_BMI) && (b & bit_BMI2);
  f.v4 = f.v3 && os_avx512 && (b & bit_AVX512F) && (b & bit_AVX512DQ) && (b & bit_AVX512CD) &&
         (b & bit_AVX512BW) && (b & bit_AVX512VL);
  return f;
}
#endif

}  // namespace

bool compiled(Target t) {
  switch (t) {
    case Target::kScalar:
      return true;
    case Target::kAvx2:
      return SIMKIT_CPU_TARGET_AVX2;
    case Target::kAvx512:
      return SIMKIT_CPU_TARGET_AVX512;
    case Target::kNeon:
      return SIMKIT_CPU_TARGET_NEON;
  }
  return false;
}

namespace {

bool supported(Target t) {
#if defined(__x86_64__)
  static const X86Features f = read_x86_features();
  if (t == Target::kAvx2) return f.v3;
  if (t == Target::kAvx512) return f.v4;
#endif
  // NEON (Advanced SIMD) is part of every AArch64 CPU.
  return t == Target::kScalar || (t == Target::kNeon && compiled(t));
}

std::string names(const std::vector<Target>& targets) {
  std::string out;
  for (Target t : targets) out += (out.empty() ? "" : ", ") + std::string(target_name(t));
  return out;
}

Target choose() {
  const std::vector<Target> available = available_targets();
  const char* forced = std::getenv("SIMKIT_SIMD");
  if (forced == nullptr || *forced == '\0') return available.back();
  for (Target t : available) {
    if (forced == std::string(target_name(t))) return t;
  }
  for (Target t : {Target::kScalar, Target::kAvx2, Target::kAvx512, Target::kNeon}) {
    if (forced == std::string(target_name(t))) {
      throw ConfigError("SIMKIT_SIMD=" + std::string(forced) + ": this " +
                        (compiled(t) ? "CPU does not support it" : "build has no kernels for it") +
                        "; available: " + names(available));
    }
  }
  throw ConfigError("SIMKIT_SIMD=" + std::string(forced) + " is not a SIMD target; available: " + names(available));
}

}  // namespace

const char* target_name(Target t) {
  switch (t) {
    case Target::kScalar:
      return "scalar";
    case Target::kAvx2:
      return "avx2";
    case Target::kAvx512:
      return "avx512";
    case Target::kNeon:
      return "neon";
  }
  return "?";
}

std::vector<Target> available_targets() {
  std::vector<Target> out;
  for (Target t : {Target::kScalar, Target::kNeon, Target::kAvx2, Target::kAvx512}) {
    if (compiled(t) && supported(t)) out.push_back(t);
  }
  return out;
}

Target selected_target() {
  // Not cached: a test or benchmark may change SIMKIT_SIMD between simulators.
  return choose();
}

}  // namespace simkit::cpu

namespace simkit {

std::vector<std::string> compiled_simd_targets() {
  std::vector<std::string> out;
  for (cpu::Target t : {cpu::Target::kScalar, cpu::Target::kNeon, cpu::Target::kAvx2, cpu::Target::kAvx512}) {
    if (cpu::compiled(t)) out.push_back(cpu::target_name(t));
  }
  return out;
}

std::vector<std::string> available_simd_targets() {
  std::vector<std::string> out;
  for (cpu::Target t : cpu::available_targets()) out.push_back(cpu::target_name(t));
  return out;
}

std::string selected_simd_target() { return cpu::target_name(cpu::selected_target()); }

}  // namespace simkit
