#include "ingest/md_parser.h"

#include <optional>

#include "segment/text_lines.h"

namespace cqda::ingest {
namespace {

using segment::trim;

std::size_t leading_spaces(std::string_view line) {
  std::size_t n = 0;
  while (n < line.size() && line[n] == ' ') ++n;
  return n;
}

bool all_of_char(std::string_view text, char c, std::size_t min_count) {
  if (text.size() < min_count) return false;
  for (char x : text)
    if (x != c) return false;
  return true;
}

// "***", "---", "___" (spaces allowed between): a thematic break.
bool is_thematic_break(std::string_view line) {
  std::string compact;
  for (char c : trim(line))
    if (c != ' ') compact.push_back(c);
  return all_of_char(compact, '-', 3) || all_of_char(compact, '*', 3) ||
         all_of_char(compact, '_', 3);
}

// The heading text of an ATX heading, or nullopt.
std::optional<std::string_view> atx_heading(std::string_view line) {
  if (leading_spaces(line) > 3) return std::nullopt;
  std::string_view text = trim(line);
  std::size_t hashes = 0;
  while (hashes < text.size() && text[hashes] == '#') ++hashes;
  if (hashes == 0 || hashes > 6) return std::nullopt;
  if (hashes < text.size() && text[hashes] != ' ' && text[hashes] != '\t') return std::nullopt;
  text.remove_prefix(hashes);
  text = trim(text);
  std::size_t end = text.size();
  while (end > 0 && text[end - 1] == '#') --end;
  if (end == 0 || text[end - 1] == ' ' || text[end - 1] == '\t') text = trim(text.substr(0, end));
  return text;
}

// The item text of a list item line, or nullopt.
std::optional<std::string_view> list_item(std::string_view line) {
  std::string_view text = line.substr(leading_spaces(line));
  std::size_t marker = 0;
  if (!text.empty() && (text[0] == '-' || text[0] == '*' || text[0] == '+')) {
    marker = 1;
  } else {
    while (marker < text.size() && marker < 9 && text[marker] >= '0' && text[marker] <= '9')
      ++marker;
    if (marker == 0 || marker >= text.size() || (text[marker] != '.' && text[marker] != ')'))
      return std::nullopt;
    ++marker;
  }
  if (marker < text.size() && text[marker] != ' ' && text[marker] != '\t') return std::nullopt;
  return trim(text.substr(marker));
}

std::string_view strip_blockquote(std::string_view line) {
  std::string_view text = line.substr(std::min<std::size_t>(leading_spaces(line), 3));
  while (!text.empty() && text.front() == '>') {
    text.remove_prefix(1);
    if (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  }
  return text;
}

bool is_fence(std::string_view line) {
  std::string_view text = trim(line);
  return text.substr(0, 3) == "```" || text.substr(0, 3) == "~~~";
}

class MdSegmenter {
 public:
  std::vector<Segment> run(const std::vector<std::string_view>& lines) {
    std::size_t i = skip_front_matter(lines);
    for (; i < lines.size(); ++i) {
      std::string_view line = lines[i];
      if (in_fence_) {
        add_code_line(line);
        continue;
      }
      step(line);
    }
    close();
    return std::move(segments_);
  }

 private:
  static std::size_t skip_front_matter(const std::vector<std::string_view>& lines) {
    if (lines.empty() || trim(lines[0]) != "---") return 0;
    for (std::size_t i = 1; i < lines.size(); ++i)
      if (trim(lines[i]) == "---" || trim(lines[i]) == "...") return i + 1;
    return 0;  // not closed: not front matter
  }

  void add_code_line(std::string_view line) {
    if (is_fence(line)) return close();
    if (fence_lines_++ > 0) open_ += '\n';
    open_ += line;
  }

  // One line outside a code fence. A line that is no new block continues the open paragraph
  // or list item (lazy continuation).
  void step(std::string_view line) {
    if (segment::is_blank(line)) return close();
    if (is_fence(line)) {
      close();
      in_fence_ = true;
      return;
    }
    std::string_view text = trim(line);
    if (text.substr(0, 4) == "<!--" && text.size() >= 7 && text.substr(text.size() - 3) == "-->")
      return;
    if (std::optional<std::string_view> heading = atx_heading(line)) return emit(*heading);
    if (kind_ == Kind::kParagraph && !open_.empty() &&
        (all_of_char(trim(line), '=', 1) || all_of_char(trim(line), '-', 1))) {
      std::string heading = std::move(open_);  // setext underline: the paragraph was a heading
      open_.clear();
      kind_ = Kind::kNone;
      return emit(heading);
    }
    if (is_thematic_break(line)) return close();
    if (std::optional<std::string_view> item = list_item(line)) {
      close();
      kind_ = Kind::kListItem;
      segment::append_joined(open_, *item, " ");
      return;
    }
    if (kind_ == Kind::kNone) kind_ = Kind::kParagraph;
    segment::append_joined(open_, trim(strip_blockquote(line)), " ");
  }

  void emit(std::string_view text) {
    close();
    Segment segment;
    segment.text = std::string(text);
    segments_.push_back(std::move(segment));
  }

  void close() {
    if (!open_.empty()) {
      Segment segment;
      segment.text = std::move(open_);
      segments_.push_back(std::move(segment));
    }
    open_.clear();
    kind_ = Kind::kNone;
    in_fence_ = false;
    fence_lines_ = 0;
  }

  enum class Kind { kNone, kParagraph, kListItem };
  Kind kind_ = Kind::kNone;
  bool in_fence_ = false;
  std::size_t fence_lines_ = 0;
  std::string open_;
  std::vector<Segment> segments_;
};

}  // namespace

Result<std::vector<Segment>> parse_md(std::string_view text) {
  return MdSegmenter().run(segment::split_lines(text));
}

}  // namespace cqda::ingest
