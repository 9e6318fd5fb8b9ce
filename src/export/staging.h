// Atomic export: every output file is first written into a private staging folder inside
// the output folder, validated, and only then renamed into place. If anything fails before
// commit(), the staging folder is removed and the output folder is exactly as it was.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "common/result.h"

namespace cqda::exporter {

struct ExportedFile {
  std::string path;  // relative to the output folder, '/'-separated
  std::uint64_t bytes = 0;
  std::string sha256;
};

class Staging {
 public:
  // Creates <output>/.staging-<run_id> (mode 0700). Fails with a message that says what to
  // do when the output folder cannot be created or written.
  static Result<Staging> create(const std::filesystem::path& output_dir, const std::string& run_id);
  Staging(Staging&& other) noexcept;
  Staging& operator=(Staging&&) = delete;
  Staging(const Staging&) = delete;
  ~Staging();  // removes the staging folder unless committed

  // Writes one file (parent folders are created). `relative_path` must be relative and
  // must not contain "." or ".." components.
  Status add(const std::string& relative_path, std::string_view content);
  const std::vector<ExportedFile>& files() const { return files_; }

  // Moves every top-level entry into the output folder: files by rename(2), folders by
  // renameat2(RENAME_EXCHANGE) with the previous folder (which is then removed), so each
  // entry is replaced atomically.
  Status commit();

 private:
  Staging(std::filesystem::path output_dir, std::filesystem::path staging_dir)
      : output_dir_(std::move(output_dir)), staging_dir_(std::move(staging_dir)) {}
  std::filesystem::path output_dir_;
  std::filesystem::path staging_dir_;
  std::vector<ExportedFile> files_;
  bool committed_ = false;
};

// Checks that `dir` exists (or can be created) and that a file can be created in it.
Status ensure_writable_dir(const std::filesystem::path& dir, const std::string& what);

}  // namespace cqda::exporter
