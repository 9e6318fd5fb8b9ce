// Checks on the values callers hand to the store (sizes, UTF-8, control characters), the quote
// and span resolution of a coding, and the store's clock. Pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "project/store.h"

namespace cqda::project {

enum class FieldKind {
  kLine,      // ids and names: one line, no control characters
  kText,      // free text: line breaks and tabs allowed, no other control characters
  kVerbatim,  // document text as the pipeline produced it: any valid UTF-8
};

// Refuses a value that is not UTF-8, longer than `max_bytes`, empty when `required`, or that
// holds characters its kind does not allow. `what` names the field in the message.
Status check_field(std::string_view what, std::string_view value, std::size_t max_bytes,
                   bool required, FieldKind kind = FieldKind::kLine);

// `text` in double quotes for an error message, cut at a code point boundary after 80 bytes;
// text that is not valid UTF-8 is not shown.
std::string quote_text(std::string_view text);

// Refuses a page size outside 1..kMaxPage. Offsets beyond INT64_MAX are clamped (as_offset).
Status check_page(std::string_view operation, std::size_t limit);
std::int64_t as_offset(std::size_t offset);

// The span and quote of a coding inside `segment_text` (valid UTF-8):
// - a span alone must lie inside the segment and becomes the quote;
// - a quote alone is found at its first verbatim occurrence;
// - both: the span must hold exactly the quote (that disambiguates a repeated quote).
struct Selection {
  Span span;
  std::string quote;
};
Result<Selection> locate_selection(std::string_view segment_text, std::string_view segment_id,
                                   std::string_view quote, const std::optional<Span>& span);

// Now, in UTC: "2025-01-31T12:00:00.000Z".
std::string utc_now();

}  // namespace cqda::project
