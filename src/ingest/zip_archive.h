// Reads one member of a zip container (docx, odt) from memory, refusing archives that could
// exhaust memory or time before anything is inflated.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"
#include "policy/policy.h"

namespace cqda::ingest {

// Entries above this size must compress at most kMaxCompressionRatio:1. Real documents
// compress XML about 5-20:1; a run of zeros compresses about 1000:1.
inline constexpr std::uint64_t kRatioCheckThreshold = 1u << 20;
inline constexpr std::uint64_t kMaxCompressionRatio = 200;

// Returns the inflated bytes of member `member` (e.g. "word/document.xml").
// Before inflating anything: the entry count is at most limits.max_entries, the declared
// uncompressed sizes of all entries sum to at most limits.max_uncompressed_bytes, and no entry
// above kRatioCheckThreshold compresses more than kMaxCompressionRatio:1. While inflating, the
// bytes actually produced are counted, and reading stops with an error as soon as they pass
// the member's declared size or the archive limit: a lying header cannot make it read more.
// Encrypted members are refused. Errors do not name the file; the caller prefixes it.
Result<std::string> read_zip_member(std::string_view archive, std::string_view member,
                                    const policy::ArchiveLimits& limits);

}  // namespace cqda::ingest
