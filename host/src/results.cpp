// SPDX-License-Identifier: Apache-2.0
#include "simkit/results.hpp"

#include <filesystem>
#include <stdexcept>

#include "simkit/system_info.hpp"

namespace simkit {

std::string csv_escape(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

namespace {
std::string join(const std::vector<std::string>& v) {
  std::string line;
  for (size_t i = 0; i < v.size(); ++i) line += (i ? "," : "") + csv_escape(v[i]);
  return line;
}
}  // namespace

CsvWriter::CsvWriter(const std::string& path, std::vector<std::string> columns) : path_(path), columns_(std::move(columns)) {
  namespace fs = std::filesystem;
  const fs::path p(path);
  if (p.has_parent_path()) fs::create_directories(p.parent_path());
  const bool fresh = !fs::exists(p) || fs::file_size(p) == 0;
  if (!fresh) {
    std::ifstream in(path);
    std::string header;
    std::getline(in, header);
    if (header != join(columns_)) throw std::runtime_error("output: " + path + " exists with different columns");
  }
  out_.open(path, std::ios::app);
  if (!out_) throw std::runtime_error("output: cannot open " + path + " for writing");
  if (fresh) out_ << join(columns_) << '\n' << std::flush;
}

void CsvWriter::write(const std::vector<std::string>& values) {
  if (values.size() != columns_.size()) throw std::logic_error("CsvWriter: row width differs from header");
  out_ << join(values) << '\n' << std::flush;
}

std::string default_results_path(const std::string& kind, const std::string& device) {
  return "results/" + kind + "_" + device + "_" + compact_timestamp() + ".csv";
}

}  // namespace simkit
