// SPDX-License-Identifier: Apache-2.0
#include "simkit/results.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include "simkit/simulator.hpp"
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
  const auto fail = [&](const std::string& why) { throw ConfigError("output '" + path + "': " + why); };
  std::error_code ec;
  if (p.has_parent_path()) fs::create_directories(p.parent_path(), ec);
  if (ec) fail("cannot create its directory: " + ec.message());
  if (fs::is_directory(p)) fail("is a directory");
  fd_ = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) fail(std::string("cannot open for writing: ") + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {  // a device or pipe: nothing to read back
    append_line(join(columns_));
    return;
  }
  std::string text;
  {
    std::ifstream in(path, std::ios::binary);
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  const size_t last_newline = text.rfind('\n');
  const size_t complete = last_newline == std::string::npos ? 0 : last_newline + 1;
  if (complete < text.size()) {
    // A row cut off by an interrupted write: drop it so the next row starts on a line of its own.
    if (::ftruncate(fd_, static_cast<off_t>(complete)) != 0) {
      fail(std::string("cannot drop its cut-off last line: ") + std::strerror(errno));
    }
    std::fprintf(stderr, "output '%s': dropped a cut-off last line (%zu bytes)\n", path.c_str(),
                 text.size() - complete);
    text.resize(complete);
  }
  if (text.empty()) {
    append_line(join(columns_));
  } else if (text.substr(0, text.find('\n')) != join(columns_)) {
    fail("exists with different columns");
  }
}

CsvWriter::~CsvWriter() {
  if (fd_ >= 0) ::close(fd_);
}

void CsvWriter::append_line(const std::string& line) {
  const std::string text = line + '\n';
  struct stat st {};
  const bool regular = ::fstat(fd_, &st) == 0 && S_ISREG(st.st_mode);
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd_, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string why = n < 0 ? std::strerror(errno) : "nothing written";
      if (regular && done > 0 && ::ftruncate(fd_, st.st_size) != 0) {
        throw std::runtime_error("output '" + path_ + "': writing failed (" + why +
                                 ") and its cut-off last line could not be removed");
      }
      throw std::runtime_error("output '" + path_ + "': writing failed (" + why +
                               "); it keeps the rows written before");
    }
    done += static_cast<size_t>(n);
  }
}

void CsvWriter::write(const std::vector<std::string>& values) {
  if (values.size() != columns_.size()) throw std::logic_error("CsvWriter: row width differs from header");
  append_line(join(values));
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
    if (in.eof()) break;  // no newline: cut off by an interrupted write
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
