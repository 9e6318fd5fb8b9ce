#include "segment/segmenter.h"

#include <optional>

#include "segment/speaker_label.h"
#include "segment/text_lines.h"

namespace cqda::segment {
namespace {

// A segment under construction: paragraphs are closed at blank lines.
class Builder {
 public:
  explicit Builder(LineJoin join) : line_separator_(join == LineJoin::kSpace ? " " : "\n") {}

  void start(std::string speaker) {
    flush();
    speaker_ = std::move(speaker);
  }
  void add_line(std::string_view line) { append_joined(paragraph_, trim(line), line_separator_); }
  // A blank line: ends the paragraph. In a turn, the next paragraph joins the same segment.
  void end_paragraph(bool in_turn) {
    append_joined(text_, paragraph_, "\n");
    paragraph_.clear();
    if (!in_turn) flush();
  }
  std::vector<Segment> finish() {
    flush();
    return std::move(segments_);
  }

 private:
  void flush() {
    append_joined(text_, paragraph_, "\n");
    paragraph_.clear();
    if (!text_.empty()) {
      Segment segment;
      segment.speaker = speaker_;
      segment.text = std::move(text_);
      segments_.push_back(std::move(segment));
    }
    text_.clear();
    speaker_.clear();
  }

  std::string_view line_separator_;
  std::string speaker_;
  std::string text_;       // closed paragraphs of the current segment
  std::string paragraph_;  // the open paragraph
  std::vector<Segment> segments_;
};

std::size_t count_labelled_lines(const std::vector<std::string_view>& lines) {
  std::size_t count = 0;
  for (std::string_view line : lines)
    if (parse_speaker_label(line)) ++count;
  return count;
}

}  // namespace

std::vector<Segment> segment_lines(const std::vector<std::string_view>& lines, LineJoin join) {
  const bool speaker_mode = count_labelled_lines(lines) >= 2;
  Builder builder(join);
  bool in_turn = false;
  for (std::string_view line : lines) {
    if (is_blank(line)) {
      builder.end_paragraph(in_turn);
      continue;
    }
    if (speaker_mode) {
      if (std::optional<SpeakerLabel> label = parse_speaker_label(line)) {
        builder.start(label->speaker);
        builder.add_line(label->rest);
        in_turn = true;
        continue;
      }
    }
    builder.add_line(line);
  }
  return builder.finish();
}

std::vector<Segment> merge_cues(const std::vector<Cue>& cues) {
  std::vector<Segment> segments;
  for (const Cue& cue : cues) {
    std::string_view text = trim(cue.text);
    if (text.empty()) continue;
    bool same_speaker =
        !segments.empty() && !cue.speaker.empty() && segments.back().speaker == cue.speaker;
    if (same_speaker) {
      append_joined(segments.back().text, text, " ");
      continue;
    }
    Segment segment;
    segment.speaker = cue.speaker;
    segment.cue = cue.start;
    segment.text = std::string(text);
    segments.push_back(std::move(segment));
  }
  return segments;
}

void finish_document(Document& document) {
  std::vector<Segment> kept;
  kept.reserve(document.segments.size());
  for (Segment& segment : document.segments) {
    segment.text = std::string(trim(segment.text));
    segment.speaker = std::string(trim(segment.speaker));
    if (!segment.text.empty()) kept.push_back(std::move(segment));
  }
  document.segments = std::move(kept);
  number_segments(document);
  render_document_text(document);
}

}  // namespace cqda::segment
