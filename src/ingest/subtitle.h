// Shared by the WebVTT and SubRip parsers: cue timing, inline tags, entities and speakers.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "segment/segmenter.h"

namespace cqda::ingest {

// A cue as found in the file: its timing line's start and its payload lines as written.
struct RawCue {
  std::string start;  // normalized (see normalize_timestamp) or the raw token if unparsable
  std::vector<std::string_view> lines;
};

enum class TagSyntax {
  kWebVtt,  // every '<' opens a tag; <v Name> names the voice
  kSubRip,  // only <i> <b> <u> <s> <font ...> and their end tags, plus {\...} override codes
};

// "1:02:03.5" is not valid; "01:02:03.500", "02:03.500", "01:02:03,500" are, and become
// "01:02:03.500" / "00:02:03.500". nullopt when `token` is not a timestamp.
std::optional<std::string> normalize_timestamp(std::string_view token);

// If `line` is a timing line ("<start> --> <end> [settings]"), its start token.
std::optional<std::string_view> timing_start(std::string_view line);

// A payload line without markup: tags removed, entities decoded (&amp; &lt; &gt; &nbsp;
// &quot; &apos; &lrm; &rlm; and numeric references), and the first <v Name> voice if any.
struct CueLine {
  std::string voice;
  std::string text;
};
CueLine clean_cue_line(std::string_view line, TagSyntax syntax);

// Splits cues into speaker pieces and returns them in order, ready for segment::merge_cues.
// A <v> voice starts a piece; so does a "NAME:" label (after an optional dialogue dash), but
// only when the file has at least two such labelled lines, as for plain-text transcripts.
// A line with neither continues the cue's current piece.
std::vector<segment::Cue> cues_with_speakers(const std::vector<RawCue>& cues, TagSyntax syntax);

// Splits lines into blank-line-separated blocks.
std::vector<std::vector<std::string_view>> split_blocks(const std::vector<std::string_view>& lines);

}  // namespace cqda::ingest
