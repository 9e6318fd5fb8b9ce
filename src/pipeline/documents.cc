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

namespace {

// Moves the codings in [first, last) whose quote is not the text at their span behind the
// others (an accepted one moves at most once); returns the end of the accepted ones.
std::vector<coder::Coding>::iterator keep_verified(const Document& document, std::vector<coder::Coding>::iterator first,
                                                   std::vector<coder::Coding>::iterator last) {
  std::unordered_map<std::string_view, const Segment*> segments;
  segments.reserve(document.segments.size());
  for (const auto& s : document.segments) segments.emplace(s.id, &s);
  return std::remove_if(first, last, [&](const coder::Coding& coding) {
    auto it = segments.find(coding.segment_id);
    return it == segments.end() || !quote_matches(coding, *it->second);
  });
}

}  // namespace

std::size_t code_document(const coder::OfflineCoder& coder, const Document& document, std::vector<coder::Coding>& out) {
  const std::size_t base = out.size();
  coder.code_document(document, out);
  auto accepted = keep_verified(document, out.begin() + static_cast<std::ptrdiff_t>(base), out.end());
  const auto count = static_cast<std::size_t>(out.end() - accepted);
  out.erase(accepted, out.end());
  return count;
}

std::size_t code_document_into(const coder::OfflineCoder& coder, const Document& document,
                               std::vector<coder::Coding>& pool, std::size_t& rejected) {
  const std::size_t made = coder.code_document_into(document, pool, 0);
  const auto first = pool.begin();
  const auto accepted = keep_verified(document, first, first + static_cast<std::ptrdiff_t>(made));
  const auto count = static_cast<std::size_t>(accepted - first);
  rejected += made - count;
  return count;
}

}  // namespace cqda::pipeline
