#include "segment/segmenter.h"

#include <catch2/catch.hpp>

#include "common/utf8.h"
#include "segment/text_lines.h"

using namespace cqda;
using segment::LineJoin;

namespace {

std::vector<Segment> segment_text(std::string_view text, LineJoin join = LineJoin::kSpace) {
  return segment::segment_lines(segment::split_lines(text), join);
}

}  // namespace

TEST_CASE("speaker turns continue over lines and paragraphs until the next label", "[segment]") {
  auto segments = segment_text(
      "Interview with P01, May 2024\n\n"
      "Interviewer: How did you come\nhere?\n"
      "Maria: By bus. It was\na long trip.\n\nAnd cold.\n"
      "Interviewer: Thank you.\n");
  REQUIRE(segments.size() == 4);
  CHECK(segments[0].speaker.empty());
  CHECK(segments[0].text == "Interview with P01, May 2024");
  CHECK(segments[1].speaker == "Interviewer");
  CHECK(segments[1].text == "How did you come here?");
  CHECK(segments[2].speaker == "Maria");
  CHECK(segments[2].text == "By bus. It was a long trip.\nAnd cold.");
  CHECK(segments[3].text == "Thank you.");
}

TEST_CASE("a single label is not enough for speaker mode", "[segment]") {
  auto segments =
      segment_text("Summary of the day\n\nMaria: said she was tired.\nWe left.\n\nEnd.");
  REQUIRE(segments.size() == 3);
  for (const auto& s : segments) CHECK(s.speaker.empty());
  CHECK(segments[1].text == "Maria: said she was tired. We left.");
}

TEST_CASE("paragraphs: blank-line separated, wrapped lines joined, no empty segments",
          "[segment]") {
  auto segments = segment_text("\n\n  First line\n  continues  \n\n\n \t \nSecond.\n\n");
  REQUIRE(segments.size() == 2);
  CHECK(segments[0].text == "First line continues");
  CHECK(segments[1].text == "Second.");
  auto kept = segment_text("a\nb", LineJoin::kNewline);
  REQUIRE(kept.size() == 1);
  CHECK(kept[0].text == "a\nb");
  CHECK(segment_text("").empty());
  CHECK(segment_text("\n \n\t\n").empty());
}

TEST_CASE("consecutive cues of one speaker merge; unnamed cues stay apart", "[segment]") {
  std::vector<segment::Cue> cues{
      {"00:00:01.000", "Ana", "Hello"},   {"00:00:02.000", "Ana", "there."},
      {"00:00:03.000", "Ben", "Hi."},     {"00:00:04.000", "", "music"},
      {"00:00:05.000", "", "more music"}, {"00:00:06.000", "Ana", "  "},
      {"00:00:07.000", "Ana", "Bye."}};
  auto segments = segment::merge_cues(cues);
  REQUIRE(segments.size() == 5);
  CHECK(segments[0].text == "Hello there.");
  CHECK(segments[0].cue == "00:00:01.000");
  CHECK(segments[1].speaker == "Ben");
  CHECK(segments[2].text == "music");
  CHECK(segments[3].text == "more music");
  CHECK(segments[4].cue == "00:00:07.000");
}

TEST_CASE("finish_document numbers stably and offsets are code points", "[segment]") {
  Document document;
  document.id = "notes-txt";
  document.segments =
      segment_text("Ana: café crème 😀 ok\nBen: 東京 was far\nAna:   \nBen:  well  \n");
  segment::finish_document(document);
  REQUIRE(document.segments.size() == 3);
  CHECK(document.segments[0].id == "notes-txt.s0000");
  CHECK(document.segments[2].id == "notes-txt.s0002");
  CHECK(document.segments[2].text == "well");
  for (const auto& s : document.segments)
    CHECK(utf8::substr(document.text, s.start, s.length) == s.text);
  CHECK(document.segments[1].start == utf8::length("Ana: café crème 😀 ok\n\nBen: "));
}
