// SPDX-License-Identifier: Apache-2.0
// Result files: CSV rows with citation metadata, appended one row at a time so an interrupted sweep
// keeps what it measured. Files are never overwritten, and never keep a cut-off row: a row is one
// write(2), undone when it fails (full disk, file size limit).
#pragma once

#include <map>
#include <string>
#include <vector>

namespace simkit {

class CsvWriter {
 public:
  // Appends to path (creating its directory); writes the header when the file is new or empty, drops
  // a cut-off last line (no newline: an interrupted write) and refuses a file whose header differs.
  // ConfigError when the path cannot be used.
  CsvWriter(const std::string& path, std::vector<std::string> columns);
  ~CsvWriter();
  CsvWriter(const CsvWriter&) = delete;
  CsvWriter& operator=(const CsvWriter&) = delete;
  // The row and its newline, or nothing: std::runtime_error naming the file and the OS error when
  // the write fails (the file is cut back to the rows before it).
  void write(const std::vector<std::string>& values);
  const std::string& path() const { return path_; }

 private:
  void append_line(const std::string& line);

  std::string path_;
  std::vector<std::string> columns_;
  int fd_ = -1;
};

// results/<kind>_<device>_<UTC timestamp>.csv
std::string default_results_path(const std::string& kind, const std::string& device);
std::string csv_escape(const std::string& s);
// The rows of a CSV written by CsvWriter, by column name; none when the file does not exist. Rows with
// the wrong number of fields and a last line without its newline (cut off) are skipped.
std::vector<std::map<std::string, std::string>> read_csv_rows(const std::string& path);
// The newest results/<kind>_<device>_*.csv, or "" when there is none.
std::string newest_results_path(const std::string& kind, const std::string& device);

}  // namespace simkit
