// SPDX-License-Identifier: Apache-2.0
// Argument parsing shared by the CLIs: one-line errors naming the argument, exit code 2.
#pragma once

#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>

#include "simkit/simulator.hpp"

namespace simkit::cli {

inline int parse_error_exit(const CLI::App& app, const CLI::ParseError& e) {
  if (e.get_exit_code() == 0) return app.exit(e);  // --help
  std::string msg = e.what();
  for (char& ch : msg) if (ch == '\n') ch = ' ';
  std::fprintf(stderr, "%s: error: %s (see --help)\n", app.get_name().empty() ? "simkit" : app.get_name().c_str(), msg.c_str());
  return 2;
}

// An integer in [lo, hi]; accepts "1000000", "1e6", "1_000_000".
inline int64_t parse_count(const std::string& name, const std::string& text, int64_t lo, int64_t hi) {
  std::string clean;
  for (char c : text) if (c != '_') clean += c;
  size_t used = 0;
  double v = 0;
  try {
    v = std::stod(clean, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (clean.empty() || used != clean.size() || !std::isfinite(v) || v != std::floor(v)) {
    throw ConfigError(name + " must be a whole number (got '" + text + "')");
  }
  if (v < static_cast<double>(lo) || v > static_cast<double>(hi)) {
    throw ConfigError(name + " must be between " + std::to_string(lo) + " and " + std::to_string(hi) + " (got " + text + ")");
  }
  return static_cast<int64_t>(v);
}

inline double parse_positive(const std::string& name, const std::string& text) {
  size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || !(v > 0) || !std::isfinite(v)) {
    throw ConfigError(name + " must be a positive number (got '" + text + "')");
  }
  return v;
}

// Any finite number ("0", "1", "-2.5e3").
inline double parse_number(const std::string& name, const std::string& text) {
  size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (text.empty() || used != text.size() || !std::isfinite(v)) {
    throw ConfigError(name + " must be a number (got '" + text + "')");
  }
  return v;
}

}  // namespace simkit::cli
