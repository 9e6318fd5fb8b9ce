#include "export/markdown.h"

#include <array>

namespace cqda::exporter::md {

namespace {

// The characters append_escaped may change; runs of any others are copied whole.
constexpr std::array<bool, 256> kSpecial = [] {
  std::array<bool, 256> table{};
  for (unsigned char c : std::string_view("\\`*_[]<>|#-+=&\n\t")) table[c] = true;
  return table;
}();

}  // namespace

void append_escaped(std::string& out, std::string_view text, bool inline_text) {
  std::size_t run = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (!kSpecial[static_cast<unsigned char>(c)]) continue;
    out.append(text.data() + run, i - run);
    run = i + 1;
    // The text is escaped as if it began a line, inline or not.
    const bool at_line_start = i == 0 || text[i - 1] == '\n';
    switch (c) {
      case '#': case '-': case '+': case '=':  // headings, lists and rules only at a line start
        if (at_line_start) out.push_back('\\');
        out.push_back(c);
        break;
      case '&':
        out += "&amp;";
        break;
      case '\n': case '\t':
        out.push_back(inline_text ? ' ' : c);
        break;
      default:  // \ ` * _ [ ] < > |
        out.push_back('\\');
        out.push_back(c);
    }
  }
  out.append(text.data() + run, text.size() - run);
}

std::string escape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 16);
  append_escaped(out, text);
  return out;
}

std::string escape_inline(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 16);
  append_escaped(out, text, true);
  return out;
}

std::string blockquote(std::string_view text) {
  std::string escaped = escape(text);
  std::string out = "> ";
  for (char c : escaped) {
    out.push_back(c);
    if (c == '\n') out += "> ";
  }
  out.push_back('\n');
  return out;
}

}  // namespace cqda::exporter::md
