// Segmentation: turns the lines a parser extracted into Document segments — speaker turns for
// transcripts, paragraphs otherwise — and finishes a Document (trimmed, no empty segments,
// stable ids, rendered text with code-point offsets).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/document.h"

namespace cqda::segment {

// How the lines of one paragraph are joined. Plain text wraps lines at ~72 columns, so a line
// break inside a paragraph carries no meaning and becomes a space (kSpace). A break a writer
// typed inside a word-processor paragraph (docx w:br, odt text:line-break) is kept (kNewline).
enum class LineJoin { kSpace, kNewline };

// Segments `lines` (a blank line separates paragraphs):
//   * Speaker mode, when at least two lines start with a speaker label (speaker_label.h):
//     text before the first label becomes paragraph segments without a speaker; each labelled
//     line starts a turn that runs until the next labelled line, over blank lines. Inside a
//     turn, the lines of one paragraph are joined per `join` and paragraphs with '\n'.
//   * Paragraph mode otherwise: each blank-line-separated group is one segment.
// Every line is trimmed; empty segments are never produced.
std::vector<Segment> segment_lines(const std::vector<std::string_view>& lines, LineJoin join);

// One subtitle cue (or the part of a cue one voice speaks) in file order.
struct Cue {
  std::string start;    // normalized start time "HH:MM:SS.mmm" (or as written if unparsable)
  std::string speaker;  // "" when unknown
  std::string text;
};

// Consecutive cues of the same (non-empty) speaker merge into one segment whose `cue` is the
// first cue's start; their texts are joined with a space. Cues without a speaker stay
// separate segments, so an unlabelled subtitle file does not collapse into one segment.
std::vector<Segment> merge_cues(const std::vector<Cue>& cues);

// Finishes `document` whose `id` is set: trims every segment's text and speaker, drops
// segments with no text, numbers them (number_segments) and renders the text
// (render_document_text), which sets every segment's code-point start and length.
void finish_document(Document& document);

}  // namespace cqda::segment
