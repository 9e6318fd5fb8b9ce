// Helpers shared by the tests: temporary folders, running the cqda binary, reading files.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace cqda::test {

// A fresh folder under $TMPDIR, removed (with everything in it) on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& child) const { return path_ / child; }

 private:
  std::filesystem::path path_;
};

std::filesystem::path source_dir();      // the repository root
std::filesystem::path cqda_binary();     // the built cqda program
std::string slurp(const std::filesystem::path& path);
void write_text(const std::filesystem::path& path, const std::string& content);

struct CommandResult {
  int exit_code = -1;  // exit status, or 128 + signal
  std::string out;     // stdout
  std::string err;     // stderr
};
// Runs argv[0] with the arguments (no shell), stdin from `stdin_path`, capturing stdout and
// stderr.
CommandResult run_command(const std::vector<std::string>& argv, const std::string& stdin_path = "/dev/null");
// Runs the cqda binary with the arguments.
CommandResult run_cqda(const std::vector<std::string>& args, const std::string& stdin_path = "/dev/null");

}  // namespace cqda::test
