#include "project/input.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>

#include "common/utf8.h"

namespace cqda::project {
namespace {

bool allowed_control(char c, FieldKind kind) {
  return kind == FieldKind::kText && (c == '\n' || c == '\t' || c == '\r');
}

}  // namespace

Status check_field(std::string_view what, std::string_view value, std::size_t max_bytes,
                   bool required, FieldKind kind) {
  const std::string name(what);
  if (required && value.empty()) return make_error(name + " is required");
  if (value.size() > max_bytes)
    return make_error(name + " is too long (" + std::to_string(value.size()) + " bytes; at most " +
                      std::to_string(max_bytes) + ")");
  if (auto bad = utf8::first_invalid_byte(value))
    return make_error(name + " is not valid UTF-8 (at byte " + std::to_string(*bad) + ")");
  if (kind == FieldKind::kVerbatim) return {};
  for (char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 || byte == 0x7f) && !allowed_control(c, kind))
      return make_error(name + " holds a control character");
  }
  return {};
}

std::string quote_text(std::string_view text) {
  constexpr std::size_t kShown = 80;
  if (utf8::first_invalid_byte(text)) return "(text that is not valid UTF-8)";
  std::size_t cut = std::min(text.size(), kShown);
  while (cut < text.size() && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return "\"" + std::string(text.substr(0, cut)) + (cut < text.size() ? "...\"" : "\"");
}

Status check_page(std::string_view operation, std::size_t limit) {
  if (limit == 0 || limit > kMaxPage)
    return make_error(std::string(operation) + ": limit must be 1 to " + std::to_string(kMaxPage) +
                      " (got " + std::to_string(limit) + ")");
  return {};
}

std::int64_t as_offset(std::size_t offset) {
  return static_cast<std::int64_t>(std::min<std::size_t>(offset, INT64_MAX));
}

Result<Selection> locate_selection(std::string_view segment_text, std::string_view segment_id,
                                   std::string_view quote, const std::optional<Span>& span) {
  const std::string segment(segment_id);
  if (span) {
    const std::size_t length = utf8::length(segment_text);
    const std::string shown =
        "[" + std::to_string(span->start) + ", " + std::to_string(span->end) + ")";
    if (span->start >= span->end) return make_error("the span " + shown + " is empty or reversed");
    if (span->end > length)
      return make_error("the span " + shown + " lies outside segment " + segment + " (" +
                        std::to_string(length) + " code points)");
    std::string_view text = utf8::substr(segment_text, span->start, span->end - span->start);
    if (!quote.empty() && text != quote) {
      if (segment_text.find(quote) == std::string_view::npos)
        return make_error("the quote does not occur verbatim in segment " + segment);
      constexpr std::size_t kShown = 80;  // code points
      return make_error("the quote does not match the span " + shown + " of segment " + segment +
                        ", which holds \"" + std::string(utf8::substr(text, 0, kShown)) +
                        (span->end - span->start > kShown ? "...\"" : "\""));
    }
    return Selection{*span, std::string(text)};
  }
  if (quote.empty()) return make_error("a coding needs a quote or a span");
  const std::size_t at = segment_text.find(quote);
  if (at == std::string_view::npos)
    return make_error("the quote does not occur verbatim in segment " + segment);
  // A valid UTF-8 needle can only match at a code point boundary of valid UTF-8.
  const std::size_t start = utf8::length(segment_text.substr(0, at));
  return Selection{Span{start, start + utf8::length(quote)}, std::string(quote)};
}

std::string utc_now() {
  using namespace std::chrono;
  const auto now = system_clock::now();
  const std::time_t seconds = system_clock::to_time_t(now);
  const auto millis = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[64];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<int>(millis));
  return text;
}

}  // namespace cqda::project
