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

namespace {
std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted && c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
      fields.back() += '"';
      ++i;
    } else if (c == '"') {
      quoted = !quoted;
    } else if (c == ',' && !quoted) {
      fields.emplace_back();
    } else {
      fields.back() += c;
    }
  }
  return fields;
}
}  // namespace

std::vector<std::map<std::string, std::string>> read_csv_rows(const std::string& path) {
  std::vector<std::map<std::string, std::string>> rows;
  std::ifstream in(path);
  std::string line;
  if (!std::getline(in, line)) return rows;
  const auto header = split_csv_line(line);
  while (std::getline(in, line)) {
    const auto fields = split_csv_line(line);
    if (fields.size() != header.size()) continue;  // a row cut short by an interrupted write
    std::map<std::string, std::string> row;
    for (size_t k = 0; k < header.size(); ++k) row[header[k]] = fields[k];
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string newest_results_path(const std::string& kind, const std::string& device) {
  namespace fs = std::filesystem;
  const std::string prefix = kind + "_" + device + "_";
  std::string newest;
  if (!fs::is_directory("results")) return newest;
  for (const auto& entry : fs::directory_iterator("results")) {
    const std::string name = entry.path().filename().string();
    // Names end in a UTC timestamp, so the greatest name is the newest file.
    if (name.rfind(prefix, 0) == 0 && entry.path().extension() == ".csv" && entry.path().string() > newest) {
      newest = entry.path().string();
    }
  }
  return newest;
}

std::string default_results_path(const std::string& kind, const std::string& device) {
  return "results/" + kind + "_" + device + "_" + compact_timestamp() + ".csv";
}

}  // namespace simkit
