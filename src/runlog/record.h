// The run-log record format, shared by the writer and the verifier (docs/RUN-LOG.md).
//
// One record per line, '\n'-terminated, keys in exactly this order and nothing else:
//   {"v":1,"run":"<run id>","seq":<n>,"time":"<UTC, ms>","type":"<type>","data":{...},
//    "prev":"<64 hex>","key":"<16 hex>"|null,"sig":"<128 hex>"|null}
// body    = the line's bytes up to, not including, the `,"sig":` that ends it
// signed  = "cqda-runlog-v1\0" || body                  (Ed25519, crypto_sign_detached)
// prev    = SHA-256 of the previous line's bytes without its '\n' (64 zeros for seq 0)
// Because "sig" is the last key and is split off textually, neither side ever re-serialises
// JSON to check a signature.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "common/json.h"
#include "common/result.h"
#include "runlog/keys.h"

namespace cqda::runlog {

inline constexpr int kFormatVersion = 1;
// The domain prefix of every signed message, including its terminating NUL byte.
inline constexpr std::string_view kSignatureDomain{"cqda-runlog-v1\0", 15};
inline constexpr std::string_view kGenesisHash =
    "0000000000000000000000000000000000000000000000000000000000000000";
// Bounds the writer keeps and the verifier enforces.
inline constexpr std::size_t kMaxLineBytes = std::size_t{1} << 20;  // without the '\n'
inline constexpr std::size_t kMaxRecords = 1'000'000;               // including the seal
inline constexpr std::size_t kMaxNesting = 32;                      // arrays/objects per line
inline constexpr std::size_t kMaxRunIdBytes = 128;
inline constexpr std::size_t kMaxTypeBytes = 64;

// The closing record: data {"records": <records before it>, "last_hash": <its prev>}.
inline constexpr std::string_view kSealType = "seal";

// Event types the pipeline writes; the log format itself accepts any valid type name.
namespace event {
inline constexpr std::string_view kRunStart = "run_start";  // tool version, policy/codebook hashes
inline constexpr std::string_view kInput = "input";         // path, sha256, bytes
inline constexpr std::string_view kInputRefused = "input_refused";   // path, reason
inline constexpr std::string_view kAnonymization = "anonymization";  // counts per entity type
inline constexpr std::string_view kExport = "export";                // path, format, sha256
inline constexpr std::string_view kRunEnd = "run_end";               // outcome, counts
}  // namespace event

// 1..128 bytes of [A-Za-z0-9._-], not starting with '.' or '-' (it names a file).
bool is_valid_run_id(std::string_view run_id);
// 1..64 bytes of [a-z0-9_.-], starting with a letter.
bool is_valid_record_type(std::string_view type);

// "2025-03-04T05:06:07.089Z": UTC, millisecond precision, always 24 characters.
std::string format_time_utc_ms(std::chrono::system_clock::time_point when);
// True for exactly that shape with plausible field ranges.
bool is_time_utc_ms(std::string_view text);

// A new run id "YYYYMMDDTHHMMSSZ-<8 random hex>", e.g. "20250304T050607Z-1a2b3c4d".
std::string new_run_id(std::chrono::system_clock::time_point now);

// <output_dir>/run-logs/<run_id>.jsonl
std::filesystem::path run_log_path(const std::filesystem::path& output_dir,
                                   std::string_view run_id);

// "cqda-runlog-v1\0" || body: the exact bytes an Ed25519 signature covers.
std::string signed_message(std::string_view body);

// SHA-256 of one line (without its '\n'), lowercase hex: the next record's "prev".
std::string line_hash(std::string_view line);

struct RecordFields {
  std::string_view run;
  std::uint64_t seq = 0;
  std::string_view time;
  std::string_view type;
  const Json* data = nullptr;  // must be an object
  std::string_view prev;
};

// The record's line without its '\n', signed by `key` or unsigned (key and sig null) when
// `key` is null. Fails for an invalid run id or type, non-object data, strings that are not
// valid UTF-8, nesting deeper than kMaxNesting, or a line longer than kMaxLineBytes - so the
// writer can never produce a line the verifier rejects.
Result<std::string> serialize_record(const RecordFields& fields, const SigningKey* key);

}  // namespace cqda::runlog
