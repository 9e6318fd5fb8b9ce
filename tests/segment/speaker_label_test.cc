#include "segment/speaker_label.h"

#include <catch2/catch.hpp>

using cqda::segment::parse_speaker_label;

TEST_CASE("speaker labels that transcripts use are recognized", "[segment][label]") {
  for (const char* line : {"Interviewer: hello", "I: hello", "R: hello", "P03: hello",
                           "MARIA: hello", "Maria Santos: hello", "Dr. Okafor: hello",
                           "Facilitator: hello", "Interviewer 2: hello", "Zoë: hello"}) {
    INFO(line);
    auto label = parse_speaker_label(line);
    REQUIRE(label);
    CHECK(label->rest == "hello");
  }
  auto label = parse_speaker_label("  Dr. Okafor:   It was  hard.  ");
  REQUIRE(label);
  CHECK(label->speaker == "Dr. Okafor");
  CHECK(label->rest == "It was  hard.");
}

TEST_CASE("a label alone on its line has empty rest", "[segment][label]") {
  auto label = parse_speaker_label("Interviewer:");
  REQUIRE(label);
  CHECK(label->speaker == "Interviewer");
  CHECK(label->rest.empty());
}

TEST_CASE("prose, times, urls and metadata are not labels", "[segment][label]") {
  for (const char* line :
       {"She said: no", "We met at 10:30 today", "See https://example.org", "Note: check audio",
        "Date: 12 May", "Well, I thought: why not", "Is it true? Yes: it is",
        "One Two Three Four Five: too many words", "3 people: many", ": nothing before",
        "Interviewer :spaced", "\"Quoted\": no",
        "Aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa: too long", "Label:nospace"}) {
    INFO(line);
    CHECK_FALSE(parse_speaker_label(line));
  }
}
