#include "segment/text_lines.h"

namespace cqda::segment {
namespace {

constexpr std::string_view kNoBreakSpace = "\xC2\xA0";

// Length of the whitespace sequence at the start (front) or end (back) of `text`, one unit.
std::size_t space_at_front(std::string_view text) {
  if (text.empty()) return 0;
  char c = text.front();
  if (c == ' ' || c == '\t' || c == '\n') return 1;
  if (text.substr(0, 2) == kNoBreakSpace) return 2;
  return 0;
}

std::size_t space_at_back(std::string_view text) {
  if (text.empty()) return 0;
  char c = text.back();
  if (c == ' ' || c == '\t' || c == '\n') return 1;
  if (text.size() >= 2 && text.substr(text.size() - 2) == kNoBreakSpace) return 2;
  return 0;
}

}  // namespace

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  std::size_t begin = 0;
  while (begin < text.size()) {
    std::size_t end = text.find('\n', begin);
    if (end == std::string_view::npos) end = text.size();
    lines.push_back(text.substr(begin, end - begin));
    begin = end + 1;
  }
  return lines;
}

std::string_view trim(std::string_view text) {
  while (std::size_t n = space_at_front(text)) text.remove_prefix(n);
  while (std::size_t n = space_at_back(text)) text.remove_suffix(n);
  return text;
}

bool is_blank(std::string_view line) { return trim(line).empty(); }

void append_joined(std::string& out, std::string_view piece, std::string_view separator) {
  if (piece.empty()) return;
  if (!out.empty()) out += separator;
  out += piece;
}

}  // namespace cqda::segment
