#include "ingest/document_check.h"

#include <cstdio>

#include "common/utf8.h"

namespace cqda::ingest {

Status check_document(const Document& document) {
  const std::string& path = document.relative_path;
  if (document.segments.empty()) return make_error(path + ": no segments");
  if (utf8::first_invalid_byte(document.text))
    return make_error(path + ": text is not valid UTF-8");
  const std::size_t length = utf8::length(document.text);
  for (std::size_t i = 0; i < document.segments.size(); ++i) {
    const Segment& segment = document.segments[i];
    char id[32];
    std::snprintf(id, sizeof id, ".s%04zu", i);
    if (segment.index != i || segment.id != document.id + id)
      return make_error(path + ": segment " + std::to_string(i) + " is numbered wrongly");
    if (segment.text.empty()) return make_error(segment.id + ": empty segment");
    if (segment.start + segment.length > length ||
        utf8::substr(document.text, segment.start, segment.length) != segment.text)
      return make_error(segment.id + ": offsets do not match the document text");
  }
  return {};
}

}  // namespace cqda::ingest
