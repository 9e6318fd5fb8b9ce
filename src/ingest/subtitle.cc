#include "ingest/subtitle.h"

#include <algorithm>
#include <array>
#include <cstdio>

#include "common/utf8.h"
#include "segment/speaker_label.h"
#include "segment/text_lines.h"

namespace cqda::ingest {
namespace {

constexpr std::size_t kMaxTagBytes = 256;

bool is_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

unsigned to_number(std::string_view digits) {
  unsigned value = 0;
  for (char c : digits) value = value * 10 + static_cast<unsigned>(c - '0');
  return value;
}

bool starts_with_ci(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    char c = text[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    if (c != prefix[i]) return false;
  }
  return true;
}

// SubRip's tags: <i> <b> <u> <s> <font ...> and their end tags, any case.
bool is_subrip_tag(std::string_view tag) {
  std::string_view name = tag.substr(tag.front() == '/' ? 1 : 0);
  for (std::string_view known : {"i", "b", "u", "s"})
    if (name.size() == known.size() && starts_with_ci(name, known)) return true;
  return starts_with_ci(name, "font") && (name.size() == 4 || name[4] == ' ');
}

// The voice name of a WebVTT "<v Name>" / "<v.class Name>" tag body, or nullopt.
std::optional<std::string_view> voice_of(std::string_view tag) {
  if (tag.empty() || tag.front() != 'v') return std::nullopt;
  if (tag.size() > 1 && tag[1] != ' ' && tag[1] != '\t' && tag[1] != '.') return std::nullopt;
  std::size_t space = tag.find_first_of(" \t");
  if (space == std::string_view::npos) return std::string_view();
  return segment::trim(tag.substr(space + 1));
}

struct Entity {
  std::string_view name;
  std::string_view text;
};
constexpr std::array<Entity, 8> kEntities{{{"amp", "&"},
                                           {"lt", "<"},
                                           {"gt", ">"},
                                           {"nbsp", " "},
                                           {"quot", "\""},
                                           {"apos", "'"},
                                           {"lrm", ""},
                                           {"rlm", ""}}};

// Decodes the entity at text[0] == '&' into `out`; returns the bytes consumed (0: not one).
std::size_t decode_entity(std::string_view text, std::string& out) {
  std::size_t semi = text.find(';');
  if (semi == std::string_view::npos || semi < 2 || semi > 10) return 0;
  std::string_view name = text.substr(1, semi - 1);
  for (const Entity& entity : kEntities) {
    if (name == entity.name) {
      out += entity.text;
      return semi + 1;
    }
  }
  if (name.front() != '#') return 0;
  std::string_view digits = name.substr(1);
  bool hex = !digits.empty() && (digits.front() == 'x' || digits.front() == 'X');
  if (hex) digits.remove_prefix(1);
  if (digits.empty() || digits.size() > 6) return 0;
  char32_t cp = 0;
  for (char c : digits) {
    int v = (c >= '0' && c <= '9')                      ? c - '0'
            : hex && (c | 32) >= 'a' && (c | 32) <= 'f' ? (c | 32) - 'a' + 10
                                                        : -1;
    if (v < 0) return 0;
    cp = cp * (hex ? 16 : 10) + static_cast<char32_t>(v);
  }
  // Controls, surrogates and out-of-range values would break the text invariants.
  if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) || (cp >= 0xD800 && cp <= 0xDFFF) ||
      cp > 0x10FFFF)
    return 0;
  utf8::append(out, cp);
  return semi + 1;
}

}  // namespace

std::optional<std::string> normalize_timestamp(std::string_view token) {
  std::vector<std::string_view> parts;
  std::size_t begin = 0;
  for (std::size_t i = 0; i <= token.size(); ++i) {
    if (i == token.size() || token[i] == ':' || token[i] == '.' || token[i] == ',') {
      parts.push_back(token.substr(begin, i - begin));
      begin = i + 1;
    }
  }
  if (parts.size() != 3 && parts.size() != 4) return std::nullopt;
  for (std::string_view part : parts)
    if (!is_digits(part)) return std::nullopt;
  std::string_view fraction = token.substr(token.size() - parts.back().size() - 1, 1);
  if (fraction != "." && fraction != ",") return std::nullopt;
  auto colons = static_cast<std::size_t>(std::count(token.begin(), token.end(), ':'));
  if (colons != parts.size() - 2) return std::nullopt;
  std::string_view hours = parts.size() == 4 ? parts[0] : "0";
  std::string_view minutes = parts[parts.size() - 3];
  std::string_view seconds = parts[parts.size() - 2];
  std::string_view millis = parts.back();
  if (hours.size() > 4 || minutes.size() != 2 || seconds.size() != 2 || millis.size() != 3)
    return std::nullopt;
  if (to_number(minutes) > 59 || to_number(seconds) > 59) return std::nullopt;
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%02u:%s:%s.%s", to_number(hours),
                std::string(minutes).c_str(), std::string(seconds).c_str(),
                std::string(millis).c_str());
  return std::string(buffer);
}

std::optional<std::string_view> timing_start(std::string_view line) {
  std::size_t arrow = line.find("-->");
  if (arrow == std::string_view::npos) return std::nullopt;
  std::string_view start = segment::trim(line.substr(0, arrow));
  if (start.empty() || start.size() > 32) return std::nullopt;
  return start;
}

CueLine clean_cue_line(std::string_view line, TagSyntax syntax) {
  CueLine result;
  std::size_t i = 0;
  while (i < line.size()) {
    char c = line[i];
    if (c == '<') {
      std::size_t close = line.find('>', i + 1);
      bool bounded = close != std::string_view::npos && close - i <= kMaxTagBytes;
      std::string_view tag = bounded ? line.substr(i + 1, close - i - 1) : std::string_view();
      bool is_tag = bounded && tag.find('<') == std::string_view::npos &&
                    (syntax == TagSyntax::kWebVtt || (!tag.empty() && is_subrip_tag(tag)));
      if (is_tag) {
        if (std::optional<std::string_view> voice = voice_of(tag); voice && result.voice.empty())
          result.voice = std::string(*voice);
        i = close + 1;
        continue;
      }
    } else if (c == '{' && syntax == TagSyntax::kSubRip && i + 1 < line.size() &&
               line[i + 1] == '\\') {
      std::size_t close = line.find('}', i);
      if (close != std::string_view::npos && close - i <= kMaxTagBytes) {
        i = close + 1;
        continue;
      }
    } else if (c == '&') {
      if (std::size_t used = decode_entity(line.substr(i), result.text)) {
        i += used;
        continue;
      }
    }
    result.text.push_back(c);
    ++i;
  }
  result.text = std::string(segment::trim(result.text));
  return result;
}

std::vector<std::vector<std::string_view>> split_blocks(
    const std::vector<std::string_view>& lines) {
  std::vector<std::vector<std::string_view>> blocks;
  std::vector<std::string_view> block;
  for (std::string_view line : lines) {
    if (segment::is_blank(line)) {
      if (!block.empty()) blocks.push_back(std::move(block));
      block.clear();
    } else {
      block.push_back(line);
    }
  }
  if (!block.empty()) blocks.push_back(std::move(block));
  return blocks;
}

namespace {

std::string_view without_dialogue_dash(std::string_view text) {
  if (text.size() >= 2 && text[0] == '-' && (text[1] == ' ' || text[1] == '\t'))
    return segment::trim(text.substr(2));
  return text;
}

std::size_t count_labels(const std::vector<std::vector<CueLine>>& cleaned) {
  std::size_t count = 0;
  for (const auto& cue : cleaned)
    for (const CueLine& line : cue)
      if (line.voice.empty() && segment::parse_speaker_label(without_dialogue_dash(line.text)))
        ++count;
  return count;
}

}  // namespace

std::vector<segment::Cue> cues_with_speakers(const std::vector<RawCue>& cues, TagSyntax syntax) {
  std::vector<std::vector<CueLine>> cleaned;
  cleaned.reserve(cues.size());
  for (const RawCue& cue : cues) {
    std::vector<CueLine> lines;
    for (std::string_view line : cue.lines) lines.push_back(clean_cue_line(line, syntax));
    cleaned.push_back(std::move(lines));
  }
  const bool use_labels = count_labels(cleaned) >= 2;
  std::vector<segment::Cue> pieces;
  for (std::size_t c = 0; c < cues.size(); ++c) {
    std::size_t first_piece = pieces.size();
    for (const CueLine& line : cleaned[c]) {
      std::optional<segment::SpeakerLabel> label;
      if (line.voice.empty() && use_labels)
        label = segment::parse_speaker_label(without_dialogue_dash(line.text));
      if (!line.voice.empty() || label) {
        pieces.push_back(segment::Cue{cues[c].start, label ? label->speaker : line.voice,
                                      label ? std::string(label->rest) : line.text});
      } else if (pieces.size() > first_piece) {
        segment::append_joined(pieces.back().text, line.text, " ");
      } else {
        pieces.push_back(segment::Cue{cues[c].start, "", line.text});
      }
    }
  }
  return pieces;
}

}  // namespace cqda::ingest
