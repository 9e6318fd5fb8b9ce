#include "export/markdown.h"

namespace cqda::exporter::md {

std::string escape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 16);
  bool line_start = true;
  for (char c : text) {
    bool at_line_start = line_start;
    line_start = c == '\n';
    switch (c) {
      case '\\': case '`': case '*': case '_': case '[': case ']': case '<': case '>': case '|':
        out.push_back('\\');
        out.push_back(c);
        break;
      case '#': case '-': case '+': case '=':  // headings, lists and rules only at a line start
        if (at_line_start) out.push_back('\\');
        out.push_back(c);
        break;
      case '&':
        out += "&amp;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::string escape_inline(std::string_view text) {
  std::string out = escape(text);
  for (char& c : out)
    if (c == '\n' || c == '\t') c = ' ';
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
