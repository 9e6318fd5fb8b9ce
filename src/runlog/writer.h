// RunLogWriter: appends signed, hash-chained records to one run log and closes it with a
// seal record (format: runlog/record.h, docs/RUN-LOG.md).
//
// Ownership and failure behaviour:
// - The writer owns the log's file descriptor; the SigningKey is borrowed and must outlive
//   the writer. A null key writes an unsigned (hash-chained only) log.
// - create() never overwrites or follows a symlink: the file is created with O_EXCL and
//   O_NOFOLLOW. The parent folder must exist (see make_run_log_dir).
// - append() writes the whole line with write(2) before returning (unless holding, below), so
//   records survive a crash of the process; seal() also fsyncs. A failed or short write leaves the writer broken: every
//   later append() and seal() fails, and the log, lacking its seal, verifies as cut off.
// - The destructor does not seal: a log that was not sealed on purpose must look cut off.
//   Callers seal on every path, failures included (after a run_end record saying so).
// - A holding writer (hold) keeps finished lines in memory until flush(), which writes them
//   with one write(2): for a caller that takes several events at once and acts on none of
//   them before their records are on file. seal() writes held lines first; the destructor
//   writes them as best it can.
// - Not thread-safe; one writer per log.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "common/fd.h"
#include "common/json.h"
#include "common/result.h"
#include "runlog/keys.h"

namespace cqda::runlog {

struct WriterOptions {
  // Where record times come from; empty means the system clock. Tests pin it to get
  // byte-identical logs (Ed25519 signatures are deterministic).
  std::function<std::chrono::system_clock::time_point()> clock;
};

class RunLogWriter {
 public:
  static Result<RunLogWriter> create(const std::filesystem::path& file, std::string run_id,
                                     const SigningKey* key, WriterOptions options = {});

  RunLogWriter(RunLogWriter&&) noexcept = default;
  RunLogWriter& operator=(RunLogWriter&&) = delete;  // would drop the target's held lines
  RunLogWriter(const RunLogWriter&) = delete;
  RunLogWriter& operator=(const RunLogWriter&) = delete;
  ~RunLogWriter();

  // Appends one record of `type` (not "seal"; see is_valid_record_type) with `data`, a JSON
  // object. Nothing is written when the record is refused (invalid type, data too large or
  // not UTF-8), and the writer stays usable; one slot is always kept for the seal.
  Status append(std::string_view type, const Json& data);

  // Appends the seal record {"records": n, "last_hash": "<prev>"} and fsyncs the file.
  // After a seal (successful or not) every append() and seal() fails.
  Status seal();

  // While holding, append() chains and signs each record as always but keeps its line for
  // flush(). Turning holding off flushes. A failed flush leaves the writer broken, and every
  // later flush() fails, held lines or not (the failed one may have lost some).
  Status hold(bool on);
  // Writes every held line, in order, with as few write(2) calls as the kernel allows.
  Status flush();
  bool holding() const { return holding_; }

  const std::string& run_id() const { return run_id_; }
  const std::filesystem::path& path() const { return path_; }
  std::uint64_t records_written() const { return next_seq_; }
  // SHA-256 of the last line written (the next record's "prev"), or 64 zeros.
  const std::string& last_hash() const { return prev_hash_; }
  bool sealed() const { return sealed_; }

 private:
  RunLogWriter(UniqueFd fd, std::filesystem::path path, std::string run_id, const SigningKey* key,
               WriterOptions options);
  Status write_record(std::string_view type, const Json& data);
  Status write_all(std::string_view bytes);

  UniqueFd fd_;
  std::filesystem::path path_;
  std::string run_id_;
  const SigningKey* key_ = nullptr;  // borrowed
  WriterOptions options_;
  std::uint64_t next_seq_ = 0;
  std::string prev_hash_;
  bool sealed_ = false;
  bool broken_ = false;  // sticky: a write failed part-way
  bool holding_ = false;
  std::string held_;     // lines formed while holding, not yet written
};

// Creates <output_dir>/run-logs (mode 0755) if missing and returns the path for `run_id`'s
// log there. Refuses an invalid run id and a run-logs that is a symlink or not a folder.
Result<std::filesystem::path> make_run_log_dir(const std::filesystem::path& output_dir,
                                               std::string_view run_id);

}  // namespace cqda::runlog
