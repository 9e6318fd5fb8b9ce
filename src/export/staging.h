// Atomic export: every output file is first written into a private staging folder inside
// the output folder, validated, and only then renamed into place. If anything fails before
// commit(), the staging folder is removed and the output folder is exactly as it was. A
// process killed before it could remove its staging folder leaves it behind; the next
// export into that folder removes it (the folder is locked while its writer lives).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "common/fd.h"
#include "common/hash.h"
#include "common/result.h"

namespace cqda::exporter {

struct ExportedFile {
  std::string path;  // relative to the output folder, '/'-separated
  std::uint64_t bytes = 0;
  std::string sha256;
};

// One file being written into the staging folder in pieces. Bytes are appended to `text()`
// and leave it in blocks (`flush_if_full`), written and hashed as they go, so an export of any
// size never has to be held whole in memory. close() writes the rest and says what was
// written; a file that is dropped unclosed is removed with the staging folder.
class StagedFile {
 public:
  static constexpr std::size_t kBlock = 1 << 20;

  std::string& text() {
    if (buffer_.capacity() < kBlock) buffer_.reserve(kBlock + kBlock / 4);
    return buffer_;
  }
  Status append(std::string_view bytes);
  Status flush_if_full() { return buffer_.size() >= kBlock ? flush() : Status::success(); }
  Result<ExportedFile> close();

 private:
  friend class Staging;
  StagedFile(UniqueFd fd, std::string relative_path, std::string full_path);
  Status flush();
  Status write_out(std::string_view bytes);  // writes and hashes, past the buffer

  UniqueFd fd_;
  std::string relative_path_, full_path_;
  Sha256 hash_;
  std::uint64_t bytes_ = 0;
  std::string buffer_;
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
  // The same without recording it: safe from several threads for different paths, like open().
  Result<ExportedFile> write(const std::string& relative_path, std::string_view content) const;
  // Creates one file to be written in pieces; safe to call from several threads for
  // different paths. Its ExportedFile joins files() only through record(), so the list's
  // order stays the caller's whatever thread wrote the file.
  Result<StagedFile> open(const std::string& relative_path) const;
  void record(ExportedFile file) { files_.push_back(std::move(file)); }
  const std::vector<ExportedFile>& files() const { return files_; }

  // Makes everything written so far durable (syncfs). commit() does it too; calling it first
  // lets the caller wait for something else while little is left for commit to write.
  Status sync() const;

  // Moves every top-level entry into the output folder: files by rename(2), folders by
  // renameat2(RENAME_EXCHANGE) with the previous folder (which is then removed), so each
  // entry is replaced atomically.
  Status commit();

 private:
  Staging(std::filesystem::path output_dir, std::filesystem::path staging_dir)
      : output_dir_(std::move(output_dir)), staging_dir_(std::move(staging_dir)) {}
  std::filesystem::path output_dir_;
  std::filesystem::path staging_dir_;
  UniqueFd lock_;  // flock on the staging folder while it lives (see remove_abandoned_staging)
  std::vector<ExportedFile> files_;
  bool committed_ = false;
};

// Checks that `dir` exists (or can be created) and that a file can be created in it.
Status ensure_writable_dir(const std::filesystem::path& dir, const std::string& what);

}  // namespace cqda::exporter
