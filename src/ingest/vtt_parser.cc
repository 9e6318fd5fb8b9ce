#include "ingest/vtt_parser.h"

#include "ingest/subtitle.h"
#include "segment/text_lines.h"

namespace cqda::ingest {
namespace {

// "WEBVTT" alone or followed by a space or tab and free text.
bool is_header_line(std::string_view line) {
  if (line.substr(0, 6) != "WEBVTT") return false;
  return line.size() == 6 || line[6] == ' ' || line[6] == '\t';
}

bool is_keyword_block(std::string_view first_line) {
  for (std::string_view keyword : {"NOTE", "STYLE", "REGION"}) {
    if (first_line.substr(0, keyword.size()) != keyword) continue;
    if (first_line.size() == keyword.size()) return true;
    char next = first_line[keyword.size()];
    if (next == ' ' || next == '\t') return true;
  }
  return false;
}

// The cue in `block`, or nullopt: an optional identifier line, then the timing line.
std::optional<RawCue> cue_of(const std::vector<std::string_view>& block) {
  for (std::size_t t = 0; t < block.size() && t < 2; ++t) {
    std::optional<std::string_view> start = timing_start(block[t]);
    if (!start) continue;
    RawCue cue;
    std::optional<std::string> normalized = normalize_timestamp(*start);
    cue.start = normalized ? *normalized : std::string(*start);
    cue.lines.assign(block.begin() + static_cast<std::ptrdiff_t>(t) + 1, block.end());
    return cue;
  }
  return std::nullopt;
}

}  // namespace

Result<std::vector<Segment>> parse_vtt(std::string_view text) {
  std::vector<std::string_view> lines = segment::split_lines(text);
  if (lines.empty() || !is_header_line(lines.front()))
    return make_error("not a WebVTT file: the first line is not \"WEBVTT\"");
  std::vector<std::vector<std::string_view>> blocks = split_blocks(lines);
  std::vector<RawCue> cues;
  for (std::size_t b = 1; b < blocks.size(); ++b) {  // block 0 is the header
    if (is_keyword_block(blocks[b].front())) continue;
    if (std::optional<RawCue> cue = cue_of(blocks[b])) cues.push_back(std::move(*cue));
  }
  return segment::merge_cues(cues_with_speakers(cues, TagSyntax::kWebVtt));
}

}  // namespace cqda::ingest
