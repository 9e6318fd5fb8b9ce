// Offline verification of a run log (format: runlog/record.h, docs/RUN-LOG.md).
//
// verify_log walks the log line by line and stops at the first line that is not a valid,
// correctly chained, correctly signed record, naming it (1-based) and saying why. It never
// throws on any input and bounds line length, record count and JSON nesting.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "runlog/keys.h"
#include "runlog/record.h"

namespace cqda::runlog {

struct VerifyOptions {
  // A log without signatures ("key" and "sig" null) fails unless this is false. Signed
  // records are always checked against the trusted keys, whatever this says.
  bool require_signatures = true;
  std::size_t max_line_bytes = kMaxLineBytes;
  std::size_t max_records = kMaxRecords;
};

struct VerifyReport {
  bool ok = false;
  // Records that verified: all of them, seal included, when ok; otherwise those before the
  // first bad line.
  std::size_t records = 0;
  std::string run_id;                         // from line 1, when it parsed
  std::optional<std::size_t> first_bad_line;  // 1-based; set exactly when !ok
  // Human-readable, starting with "line N" or "line N (seq S)" when !ok; a summary when ok.
  std::string reason;
  bool signed_log = false;
  std::string key_id;  // of the signing key, when signed
};

// Verifies `content`, the whole log file. Every signed record must be signed by the one key
// of the log, which must be among `trusted_keys` (several may be given, e.g. across key
// rotations; they are matched by key id).
VerifyReport verify_log(std::string_view content, const std::vector<PublicKey>& trusted_keys,
                        const VerifyOptions& options = {});

// Reads at most kMaxLogFileBytes of `path` and verifies it. An error means the file could
// not be read; a tampered log is an ok Result whose report says !ok.
inline constexpr std::size_t kMaxLogFileBytes = std::size_t{1} << 30;
Result<VerifyReport> verify_log_file(const std::filesystem::path& path,
                                     const std::vector<PublicKey>& trusted_keys,
                                     const VerifyOptions& options = {});

}  // namespace cqda::runlog
