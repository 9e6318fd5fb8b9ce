#include "ingest/docx_parser.h"

#include <cstring>

#include "ingest/office_xml.h"
#include "ingest/zip_archive.h"

namespace cqda::ingest {
namespace {

constexpr std::string_view kMember = "word/document.xml";

bool named(pugi::xml_node node, const char* name) { return std::strcmp(node.name(), name) == 0; }

bool in_run(pugi::xml_node node) { return named(node.parent(), "w:r"); }

// Returns whether to descend.
bool enter(pugi::xml_node node, ParagraphCollector& paragraphs) {
  if (node.type() == pugi::node_pcdata || node.type() == pugi::node_cdata) {
    if (named(node.parent(), "w:t")) paragraphs.append(node.value());
    return false;
  }
  if (node.type() != pugi::node_element) return false;
  if (named(node, "w:p"))
    paragraphs.open();
  else if (named(node, "w:tab") && in_run(node))
    paragraphs.append("\t");
  else if ((named(node, "w:br") || named(node, "w:cr")) && in_run(node))
    paragraphs.append("\n");
  else if (named(node, "mc:Fallback"))
    return false;
  return true;
}

void leave(pugi::xml_node node, ParagraphCollector& paragraphs) {
  if (node.type() == pugi::node_element && named(node, "w:p")) paragraphs.close();
}

}  // namespace

Result<std::vector<Segment>> parse_docx(std::string_view bytes,
                                        const policy::ArchiveLimits& limits) {
  Result<std::string> xml = read_zip_member(bytes, kMember, limits);
  if (!xml) return xml.error();
  pugi::xml_document document;
  if (Status parsed = parse_office_xml(*xml, kMember, document); !parsed) return parsed.error();
  ParagraphCollector paragraphs(xml->size());
  walk_xml(
      document, [&](pugi::xml_node node) { return enter(node, paragraphs); },
      [&](pugi::xml_node node) { leave(node, paragraphs); });
  if (paragraphs.overflowed()) return make_error(std::string(kMember) + ": too much text");
  return segment_office_text(paragraphs.text(), kMember);
}

}  // namespace cqda::ingest
