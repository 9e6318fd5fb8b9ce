#include "ingest/office_xml.h"

#include <algorithm>
#include <cctype>

#include "common/utf8.h"
#include "ingest/text_normalize.h"
#include "segment/segmenter.h"
#include "segment/text_lines.h"

namespace cqda::ingest {
namespace {

bool contains_doctype(std::string_view xml) {
  constexpr std::string_view kDoctype = "<!doctype";
  auto it =
      std::search(xml.begin(), xml.end(), kDoctype.begin(), kDoctype.end(),
                  [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
  return it != xml.end();
}

}  // namespace

Status parse_office_xml(std::string_view xml, std::string_view member,
                        pugi::xml_document& document) {
  const std::string name(member);
  if (xml.find('\0') != std::string_view::npos)
    return make_error(name + ": binary content (NUL byte)");
  if (std::optional<std::size_t> bad = utf8::first_invalid_byte(xml))
    return make_error(name + ": invalid UTF-8 at byte offset " + std::to_string(*bad));
  if (xml.substr(0, 3) == "\xEF\xBB\xBF") xml.remove_prefix(3);
  if (contains_doctype(xml)) return make_error(name + ": a DOCTYPE is not allowed");
  const unsigned flags = pugi::parse_default | pugi::parse_ws_pcdata;
  pugi::xml_parse_result parsed =
      document.load_buffer(xml.data(), xml.size(), flags, pugi::encoding_utf8);
  if (!parsed)
    return make_error(name + ": XML error at byte offset " + std::to_string(parsed.offset) + ": " +
                      parsed.description());
  return {};
}

void ParagraphCollector::append(std::string_view text) {
  if (!inside() || overflowed_) return;
  if (current_.size() + text_.size() + text.size() > max_bytes_) {
    overflowed_ = true;
    return;
  }
  current_ += text;
}

void ParagraphCollector::flush() {
  segment::append_joined(text_, segment::trim(current_), "\n\n");
  current_.clear();
}

Result<std::vector<Segment>> segment_office_text(std::string text, std::string_view member) {
  Result<std::string> normalized = normalize_text(text, member);
  if (!normalized) return normalized.error();
  return segment::segment_lines(segment::split_lines(*normalized), segment::LineJoin::kNewline);
}

}  // namespace cqda::ingest
