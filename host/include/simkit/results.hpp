// SPDX-License-Identifier: Apache-2.0
// Result files: CSV rows with citation metadata, appended and flushed one row at a time so an
// interrupted sweep keeps what it measured. Files are never overwritten.
#pragma once

#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace simkit {

class CsvWriter {
 public:
  // Appends to path (creating its directory); writes the header when the file is new or empty and
  // refuses a file whose header differs.
  CsvWriter(const std::string& path, std::vector<std::string> columns);
  void write(const std::vector<std::string>& values);
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::vector<std::string> columns_;
  std::ofstream out_;
};

// results/<kind>_<device>_<UTC timestamp>.csv
std::string default_results_path(const std::string& kind, const std::string& device);
std::string csv_escape(const std::string& s);
// The rows of a CSV written by CsvWriter, by column name; none when the file does not exist.
std::vector<std::map<std::string, std::string>> read_csv_rows(const std::string& path);
// The newest results/<kind>_<device>_*.csv, or "" when there is none.
std::string newest_results_path(const std::string& kind, const std::string& device);

}  // namespace simkit
