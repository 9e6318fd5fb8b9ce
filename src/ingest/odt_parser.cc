#include "ingest/odt_parser.h"

#include <algorithm>
#include <cstring>

#include "ingest/office_xml.h"
#include "ingest/zip_archive.h"

namespace cqda::ingest {
namespace {

constexpr std::string_view kMember = "content.xml";
constexpr unsigned kMaxSpaceRun = 64;

bool named(pugi::xml_node node, const char* name) { return std::strcmp(node.name(), name) == 0; }

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// ODF white-space processing: each run of whitespace becomes one space, and a run directly
// after a space already in the paragraph disappears.
void append_collapsed(std::string_view text, ParagraphCollector& paragraphs) {
  std::string collapsed;
  bool space = paragraphs.current().empty() || paragraphs.current().back() == ' ';
  for (char c : text) {
    if (is_space(c)) {
      if (!space) collapsed.push_back(' ');
      space = true;
    } else {
      collapsed.push_back(c);
      space = false;
    }
  }
  paragraphs.append(collapsed);
}

bool enter(pugi::xml_node node, ParagraphCollector& paragraphs) {
  if (node.type() == pugi::node_pcdata || node.type() == pugi::node_cdata) {
    append_collapsed(node.value(), paragraphs);
    return false;
  }
  if (node.type() != pugi::node_element) return false;
  if (named(node, "text:p") || named(node, "text:h")) {
    paragraphs.open();
  } else if (named(node, "text:s")) {
    unsigned count = std::clamp(node.attribute("text:c").as_uint(1), 1u, kMaxSpaceRun);
    paragraphs.append(std::string(count, ' '));
  } else if (named(node, "text:tab")) {
    paragraphs.append("\t");
  } else if (named(node, "text:line-break")) {
    paragraphs.append("\n");
  } else if (named(node, "office:annotation") || named(node, "text:tracked-changes") ||
             named(node, "text:note-citation")) {
    return false;
  }
  return true;
}

void leave(pugi::xml_node node, ParagraphCollector& paragraphs) {
  if (node.type() == pugi::node_element && (named(node, "text:p") || named(node, "text:h")))
    paragraphs.close();
}

}  // namespace

Result<std::vector<Segment>> parse_odt(std::string_view bytes,
                                       const policy::ArchiveLimits& limits) {
  Result<std::string> xml = read_zip_member(bytes, kMember, limits);
  if (!xml) return xml.error();
  pugi::xml_document document;
  if (Status parsed = parse_office_xml(*xml, kMember, document); !parsed) return parsed.error();
  // text:s may widen the text; 4 * the XML plus a little is far above any real document.
  ParagraphCollector paragraphs(4 * xml->size() + 4096);
  walk_xml(
      document, [&](pugi::xml_node node) { return enter(node, paragraphs); },
      [&](pugi::xml_node node) { leave(node, paragraphs); });
  if (paragraphs.overflowed()) return make_error(std::string(kMember) + ": too much text");
  return segment_office_text(paragraphs.text(), kMember);
}

}  // namespace cqda::ingest
