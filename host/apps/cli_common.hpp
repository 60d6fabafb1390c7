// SPDX-License-Identifier: Apache-2.0
// Argument parsing shared by the CLIs: one-line errors naming the argument, exit code 2.
#pragma once

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <csignal>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "simkit/simulator.hpp"

namespace simkit::cli {

// Past a file size limit (ulimit -f) a write then fails with EFBIG, which CsvWriter reports and undoes,
// instead of SIGXFSZ killing the process with a cut-off row on disk.
inline void fail_writes_past_file_size_limit() { std::signal(SIGXFSZ, SIG_IGN); }

inline int parse_error_exit(const CLI::App& app, const CLI::ParseError& e) {
  if (e.get_exit_code() == 0) return app.exit(e);  // --help
  std::string msg = e.what();
  for (char& ch : msg) if (ch == '\n') ch = ' ';
  std::fprintf(stderr, "%s: error: %s (see --help)\n", app.get_name().empty() ? "simkit" : app.get_name().c_str(), msg.c_str());
  return 2;
}

namespace detail {
inline bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Digits from text[i], with single underscores between digits when `grouping` ("1_000"); appended
// to `out`. Returns false on a misplaced underscore.
inline bool read_digits(const std::string& text, size_t& i, bool grouping, std::string& out) {
  while (i < text.size() && (is_digit(text[i]) || (grouping && text[i] == '_'))) {
    if (text[i] == '_' && (out.empty() || i + 1 >= text.size() || !is_digit(text[i - 1]) || !is_digit(text[i + 1]))) {
      return false;
    }
    if (text[i] != '_') out += text[i];
    ++i;
  }
  return true;
}

// A decimal number as digits x 10^exp10: [-]digits[.digits][(e|E)[+-]digits], nothing else (no
// spaces, '+', hex, inf or nan). Returns false when text is not of that form.
struct Decimal {
  bool negative = false;
  std::string digits;  // mantissa digits without the point
  long exp10 = 0;
};
inline bool parse_decimal(const std::string& text, bool grouping, Decimal& d) {
  size_t i = 0;
  d.negative = i < text.size() && text[i] == '-';
  if (d.negative) ++i;
  if (!read_digits(text, i, grouping, d.digits)) return false;
  if (i < text.size() && text[i] == '.') {
    const size_t before = d.digits.size();
    ++i;
    if (!read_digits(text, i, grouping, d.digits)) return false;
    d.exp10 -= static_cast<long>(d.digits.size() - before);
  }
  if (d.digits.empty()) return false;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    const bool negative_exp = i < text.size() && text[i] == '-';
    if (i < text.size() && (text[i] == '-' || text[i] == '+')) ++i;
    std::string exp;
    if (!read_digits(text, i, false, exp) || exp.empty() || exp.size() > 4) return false;
    d.exp10 += negative_exp ? -std::stol(exp) : std::stol(exp);
  }
  return i == text.size();
}
}  // namespace detail

// An integer in [lo, hi], parsed exactly (never through a double): "1000000", "1e6", "2.5e3" (when
// whole), "1_000_000" (underscores between digits, as in Python). ConfigError naming `name` otherwise.
inline int64_t parse_count(const std::string& name, const std::string& text, int64_t lo, int64_t hi) {
  const auto range_error = [&] {
    return ConfigError(name + " must be between " + std::to_string(lo) + " and " + std::to_string(hi) + " (got " +
                       text + ")");
  };
  detail::Decimal d;
  if (!detail::parse_decimal(text, true, d)) throw ConfigError(name + " must be a whole number (got '" + text + "')");
  std::string digits = d.digits.substr(std::min(d.digits.find_first_not_of('0'), d.digits.size()));
  for (; d.exp10 < 0 && !digits.empty() && digits.back() == '0'; ++d.exp10) digits.pop_back();
  if (digits.empty()) d.exp10 = 0;  // zero
  if (d.exp10 < 0) throw ConfigError(name + " must be a whole number (got '" + text + "')");
  if (digits.size() + static_cast<size_t>(d.exp10) > 19) throw range_error();  // beyond 64 bits
  digits.append(static_cast<size_t>(d.exp10), '0');
  unsigned __int128 magnitude = 0;
  for (char c : digits) magnitude = magnitude * 10 + static_cast<unsigned>(c - '0');
  const __int128 v = d.negative ? -static_cast<__int128>(magnitude) : static_cast<__int128>(magnitude);
  if (v < lo || v > hi) throw range_error();
  return static_cast<int64_t>(v);
}

// Any finite decimal number ("0", "1", "-2.5e3"); no spaces, hex, inf or nan.
inline double parse_number(const std::string& name, const std::string& text) {
  detail::Decimal d;
  double v = 0;
  bool ok = detail::parse_decimal(text, false, d);
  try {
    v = ok ? std::stod(text) : 0;
  } catch (const std::exception&) {  // beyond double's range, either way
    ok = false;
  }
  if (!ok || !std::isfinite(v)) throw ConfigError(name + " must be a number (got '" + text + "')");
  return v;
}

inline double parse_positive(const std::string& name, const std::string& text) {
  double v = 0;
  try {
    v = parse_number(name, text);
  } catch (const ConfigError&) {
    v = 0;
  }
  if (!(v > 0)) throw ConfigError(name + " must be a positive number (got '" + text + "')");
  return v;
}

// A file path that can be written (its directory exists and is writable, it is no directory), checked
// before a long run whose result it receives; ConfigError naming `name` otherwise.
inline void check_writable_path(const std::string& name, const std::string& path) {
  namespace fs = std::filesystem;
  const fs::path p(path);
  const fs::path dir = p.has_parent_path() ? p.parent_path() : fs::path(".");
  const auto fail = [&](const std::string& why) { throw ConfigError(name + " '" + path + "': " + why); };
  std::error_code ec;
  if (fs::is_directory(p, ec)) fail("is a directory");
  if (!fs::is_directory(dir, ec)) fail("directory '" + dir.string() + "' does not exist");
  const bool exists = fs::exists(p, ec);
  if (::access(exists ? path.c_str() : dir.c_str(), exists ? W_OK : W_OK | X_OK) != 0) fail(std::strerror(errno));
}

// "45 s", "12 min", "3.5 h", "20 days", "31.7 years".
inline std::string format_duration(double seconds) {
  char buf[64];
  if (seconds < 120) std::snprintf(buf, sizeof buf, "%.0f s", seconds);
  else if (seconds < 7200) std::snprintf(buf, sizeof buf, "%.0f min", seconds / 60);
  else if (seconds < 2 * 86400) std::snprintf(buf, sizeof buf, "%.1f h", seconds / 3600);
  else if (seconds < 730 * 86400) std::snprintf(buf, sizeof buf, "%.0f days", seconds / 86400);
  else std::snprintf(buf, sizeof buf, "%.3g years", seconds / (365.25 * 86400));
  return buf;
}

// The values of a list option: each argument split at commas ("1e3,1e4" or "1e3 1e4"); an empty
// value (a trailing, leading or doubled comma, or "") is a ConfigError naming `name`.
inline std::vector<std::string> split_list(const std::string& name, const std::vector<std::string>& args) {
  std::vector<std::string> values;
  for (const auto& arg : args) {
    size_t start = 0;
    while (true) {
      const size_t comma = arg.find(',', start);
      const std::string value = arg.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      if (value.empty()) throw ConfigError(name + ": empty value in '" + arg + "'");
      values.push_back(value);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  return values;
}

}  // namespace simkit::cli
