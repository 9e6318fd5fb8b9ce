#include "pipeline/documents.h"

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
  std::unordered_map<std::string_view, const Segment*> segments;
  for (const auto& s : document.segments) segments.emplace(s.id, &s);
  for (auto& coding : coder.code_document(document)) {
    auto it = segments.find(coding.segment_id);
    if (it != segments.end() && quote_matches(coding, *it->second)) {
      result.codings.push_back(std::move(coding));
    } else {
      ++result.rejected_quotes;
    }
  }
  return result;
}

}  // namespace cqda::pipeline
