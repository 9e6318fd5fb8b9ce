// Shared fixtures for the run-log tests: fixed keys, a pinned clock, a sample log, and line
// surgery helpers for tampering.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "common/json.h"
#include "runlog/keys.h"
#include "runlog/writer.h"

namespace cqda::runlog::test {

// The seed fuzz/runlog_verify_fuzz.cc also uses, so the checked-in corpus verifies:
// bytes 0x00, 0x01, ..., 0x1f.
Ed25519Seed fixed_seed(std::uint8_t first = 0);
SigningKey fixed_key(std::uint8_t first = 0);

// A clock that starts at 2025-03-04T05:06:07.089Z (plus `offset_ms`) and advances 1 ms per call.
std::function<std::chrono::system_clock::time_point()> pinned_clock(long offset_ms = 0);

// Writes the sample log - 7 events and the seal, 8 lines - to `file` and returns its bytes.
// `variant` changes the data so two logs of the same run differ.
std::string write_sample_log(const std::filesystem::path& file, const std::string& run_id,
                             const SigningKey* key, long clock_offset_ms = 0, int variant = 0);

// Lines without their '\n'; join_lines puts a '\n' after every line.
std::vector<std::string> split_lines(const std::string& content);
std::string join_lines(const std::vector<std::string>& lines);

}  // namespace cqda::runlog::test
