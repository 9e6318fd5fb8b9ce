// SubRip subtitles (.srt).
#pragma once

#include <string_view>
#include <vector>

#include "common/document.h"
#include "common/result.h"

namespace cqda::ingest {

// `text` is normalized (text_normalize.h). Cues are blank-line-separated blocks: a number, a
// timing line "00:00:01,000 --> 00:00:04,500", text lines. The number may be missing; a block
// without a timing line continues the previous cue's text (some tools leave blank lines inside
// a cue). A leading "NAME:" names the speaker (see subtitle.h); <i> <b> <u> <s> <font> and
// {\...} codes are removed. Consecutive cues of one speaker merge into one segment whose
// `cue` is the first cue's start time, written "00:00:01.000".
Result<std::vector<Segment>> parse_srt(std::string_view text);

}  // namespace cqda::ingest
