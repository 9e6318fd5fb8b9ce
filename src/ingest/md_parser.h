// Markdown notes: a deliberately small subset of CommonMark, enough to segment a document
// without losing words.
#pragma once

#include <string_view>
#include <vector>

#include "common/document.h"
#include "common/result.h"

namespace cqda::ingest {

// `text` is normalized (text_normalize.h). Segments, in order:
//   * ATX headings ("# Title", closing #s removed) and setext headings (a line followed by
//     === or ---) are segments of their own, without the markers;
//   * each list item ("- ", "* ", "+ ", "1. ", "1) ") is a segment without its bullet;
//     indented lines that follow continue it;
//   * blockquote markers ("> ") are removed and the quoted text segments as paragraphs;
//   * fenced code blocks are one segment each, line breaks kept;
//   * YAML front matter at the top ("---" ... "---"), thematic breaks and HTML comment lines
//     are not text;
//   * everything else: blank-line-separated paragraphs, lines joined with a space.
// Inline markup (emphasis, links) is kept as written, so a quote matches the file.
Result<std::vector<Segment>> parse_md(std::string_view text);

}  // namespace cqda::ingest
