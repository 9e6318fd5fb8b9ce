#include "segment/speaker_label.h"

#include <array>

#include "common/utf8.h"
#include "segment/text_lines.h"

namespace cqda::segment {
namespace {

constexpr std::size_t kMaxLabelCodePoints = 40;
constexpr std::size_t kMaxLabelWords = 4;

// Words that introduce metadata in transcript headers rather than a speaker's turn.
constexpr std::array<std::string_view, 24> kMetadataWords{
    "note",     "notes",   "nb",      "ps",       "date",      "time",       "location", "place",
    "duration", "subject", "re",      "tags",     "summary",   "transcript", "file",     "source",
    "title",    "topic",   "comment", "comments", "interview", "recorded",   "language", "setting",
};

bool is_label_punctuation(char32_t cp) {
  switch (cp) {
    case '.':
    case '-':
    case '\'':
    case U'\u2019':
    case '_':
    case '(':
    case ')':
    case '#':
      return true;
    default:
      return false;
  }
}

bool is_metadata_word(std::string_view label) {
  std::string lower = utf8::to_lower(label);
  for (std::string_view word : kMetadataWords)
    if (lower == word) return true;
  return false;
}

// Checks the label's characters and word shapes (see the header for the rule).
bool is_label_text(std::string_view label) {
  std::size_t pos = 0;
  std::size_t code_points = 0;
  std::size_t words = 1;
  bool word_start = true;
  while (pos < label.size()) {
    char32_t cp = utf8::decode(label, pos);
    if (++code_points > kMaxLabelCodePoints) return false;
    if (cp == ' ') {
      if (word_start) return false;  // two spaces in a row
      if (++words > kMaxLabelWords) return false;
      word_start = true;
      continue;
    }
    bool allowed = utf8::is_letter(cp) || utf8::is_digit(cp) || is_label_punctuation(cp);
    if (!allowed) return false;
    if (word_start) {
      if (code_points == 1 && !utf8::is_letter(cp)) return false;
      if (code_points > 1 && !(utf8::is_upper(cp) || utf8::is_digit(cp) || cp == '(')) return false;
    }
    word_start = false;
  }
  return code_points > 0 && !word_start;
}

}  // namespace

std::optional<SpeakerLabel> parse_speaker_label(std::string_view line) {
  std::string_view text = trim(line);
  std::size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  std::string_view after = text.substr(colon + 1);
  if (!after.empty() && after.front() != ' ' && after.front() != '\t') return std::nullopt;
  std::string_view label = text.substr(0, colon);
  if (!label.empty() && (label.back() == ' ' || label.back() == '\t')) return std::nullopt;
  if (!is_label_text(label) || is_metadata_word(label)) return std::nullopt;
  return SpeakerLabel{std::string(label), trim(after)};
}

}  // namespace cqda::segment
