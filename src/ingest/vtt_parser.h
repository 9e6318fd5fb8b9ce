// WebVTT captions (.vtt), as video-call tools export meeting transcripts.
#pragma once

#include <string_view>
#include <vector>

#include "common/document.h"
#include "common/result.h"

namespace cqda::ingest {

// `text` is normalized (text_normalize.h) and must start with "WEBVTT". The header block and
// NOTE, STYLE and REGION blocks are skipped, as are cue identifiers and timing lines. The cue
// payload's <v Speaker> tag names the speaker (or a leading "NAME:" label, see subtitle.h);
// other tags are removed and entities decoded. Consecutive cues of one speaker merge into one
// segment whose `cue` is the first cue's start time ("00:00:01.000"). A block without a
// timing line is not a cue and is skipped.
Result<std::vector<Segment>> parse_vtt(std::string_view text);

}  // namespace cqda::ingest
