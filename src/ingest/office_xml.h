// Shared by the docx and odt parsers: a safe XML parse and the paragraphs-to-segments step.
#pragma once

#include <pugixml.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/document.h"
#include "common/result.h"

namespace cqda::ingest {

// Parses `xml` (a zip member) into `document`. The bytes must be valid UTF-8 without NUL; a
// DOCTYPE (and so any entity declaration) is refused outright, so no entity is ever expanded or
// loaded. pugixml never fetches external resources and its parser is not recursive, so deep
// nesting costs memory, not stack. Whitespace-only text nodes are kept (parse_ws_pcdata): in
// a document a lone space between two runs is a word break.
Status parse_office_xml(std::string_view xml, std::string_view member,
                        pugi::xml_document& document);

// Visits every node below `root` in document order without recursion. `enter(node)` returns
// whether to descend into the node's children; `leave(node)` runs after its children.
template <typename Enter, typename Leave>
void walk_xml(pugi::xml_node root, Enter enter, Leave leave) {
  pugi::xml_node node = root.first_child();
  while (node) {
    if (enter(node) && node.first_child()) {
      node = node.first_child();
      continue;
    }
    leave(node);
    while (!node.next_sibling()) {
      node = node.parent();
      if (!node || node == root) return;
      leave(node);
    }
    node = node.next_sibling();
  }
}

// Collects paragraphs; a paragraph opened inside another one (a text box, a footnote) closes
// the outer one's text so far, so no words are lost or reordered.
class ParagraphCollector {
 public:
  explicit ParagraphCollector(std::size_t max_bytes) : max_bytes_(max_bytes) {}
  void open() {
    flush();
    ++depth_;
  }
  void close() {
    flush();
    if (depth_ > 0) --depth_;
  }
  bool inside() const { return depth_ > 0; }
  void append(std::string_view text);
  bool overflowed() const { return overflowed_; }
  std::string& current() { return current_; }
  // All paragraphs, separated by blank lines.
  std::string text() {
    flush();
    return std::move(text_);
  }

 private:
  void flush();
  std::size_t max_bytes_;
  std::size_t depth_ = 0;
  bool overflowed_ = false;
  std::string current_;
  std::string text_;
};

// Normalizes the extracted text (NFC, controls; see text_normalize.h) and segments it like a
// plain-text transcript, keeping line breaks typed inside a paragraph.
Result<std::vector<Segment>> segment_office_text(std::string text, std::string_view member);

}  // namespace cqda::ingest
