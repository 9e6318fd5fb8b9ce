// Plain-text transcripts and field notes.
#pragma once

#include <string_view>
#include <vector>

#include "common/document.h"
#include "common/result.h"

namespace cqda::ingest {

// `text` is normalized (text_normalize.h). Speaker turns when at least two lines start with a
// speaker label, blank-line-separated paragraphs otherwise (segment::segment_lines); the
// lines of a paragraph are joined with a space, since plain text wraps lines for display.
Result<std::vector<Segment>> parse_txt(std::string_view text);

}  // namespace cqda::ingest
