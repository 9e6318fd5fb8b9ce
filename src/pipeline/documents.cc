#include "pipeline/documents.h"

#include <algorithm>
#include <unordered_map>

#include "common/utf8.h"

namespace cqda::pipeline {

bool quote_matches(const coder::Coding& coding, const Segment& s) {
  if (coding.segment_id != s.id) return false;
  if (coding.end <= coding.start || coding.start < s.start || coding.end > s.start + s.length) return false;
  return utf8::substr(s.text, coding.start - s.start, coding.end - coding.start) == coding.quote;
}

CodedDocument code_document(const coder::OfflineCoder& coder, const Document& document) {
  CodedDocument result;
  result.rejected_quotes = code_document(coder, document, result.codings);
  return result;
}

std::size_t code_document(const coder::OfflineCoder& coder, const Document& document, std::vector<coder::Coding>& out) {
  const std::size_t base = out.size();
  coder.code_document(document, out);
  std::unordered_map<std::string_view, const Segment*> segments;
  segments.reserve(document.segments.size());
  for (const auto& s : document.segments) segments.emplace(s.id, &s);
  // Rejected codings are dropped in place: an accepted one moves at most once.
  const auto first = out.begin() + static_cast<std::ptrdiff_t>(base);
  auto rejected = std::remove_if(first, out.end(), [&](const coder::Coding& coding) {
    auto it = segments.find(coding.segment_id);
    return it == segments.end() || !quote_matches(coding, *it->second);
  });
  const auto count = static_cast<std::size_t>(out.end() - rejected);
  out.erase(rejected, out.end());
  return count;
}

}  // namespace cqda::pipeline
