// Markdown text helpers. Document text is untrusted: it is escaped so that it renders as
// the words it is and never as links, HTML, headings or table structure.
#pragma once

#include <string>
#include <string_view>

namespace cqda::exporter::md {

// Escapes Markdown and HTML syntax characters; line breaks are kept.
std::string escape(std::string_view text);
// The same, appended to `out`; `inline_text` makes line breaks and tabs spaces.
void append_escaped(std::string& out, std::string_view text, bool inline_text = false);
// As escape(), and line breaks become spaces: for table cells and list items.
std::string escape_inline(std::string_view text);
// A blockquote of `text` ("> " before every line).
std::string blockquote(std::string_view text);

}  // namespace cqda::exporter::md
