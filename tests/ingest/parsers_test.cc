#include <catch2/catch.hpp>

#include "ingest/csv_parser.h"
#include "ingest/md_parser.h"
#include "ingest/srt_parser.h"
#include "ingest/txt_parser.h"
#include "ingest/vtt_parser.h"

using namespace cqda;
using namespace cqda::ingest;

TEST_CASE("txt: speaker turns with varied labels", "[txt]") {
  auto segments = parse_txt(
      "Interview P02\nRecorded 21 March 2024. I = interviewer, R = participant.\n\n"
      "I: Can you tell me\nabout it?\n\nR: Born in Enugu.\n\nWorked nine years.\n"
      "Dr. Okafor: Yes.\nMaria Santos: No.\n");
  REQUIRE(segments.ok());
  REQUIRE(segments->size() == 5);
  CHECK((*segments)[0].speaker.empty());
  CHECK((*segments)[0].text ==
        "Interview P02 Recorded 21 March 2024. I = interviewer, R = participant.");
  CHECK((*segments)[1].speaker == "I");
  CHECK((*segments)[1].text == "Can you tell me about it?");
  CHECK((*segments)[2].speaker == "R");
  CHECK((*segments)[2].text == "Born in Enugu.\nWorked nine years.");
  CHECK((*segments)[3].speaker == "Dr. Okafor");
  CHECK((*segments)[4].speaker == "Maria Santos");
}

TEST_CASE("txt: field notes become paragraphs", "[txt]") {
  auto segments = parse_txt("Arrived at 9:30.\nNote: the room was cold.\n\nStaff were busy.\n");
  REQUIRE(segments.ok());
  REQUIRE(segments->size() == 2);
  CHECK((*segments)[0].text == "Arrived at 9:30. Note: the room was cold.");
}

TEST_CASE("md: headings, list items, quotes, code and front matter", "[md]") {
  auto segments = parse_md(
      "---\ntitle: secret\n---\n# Observations ##\n\nThe ward was\n*busy* today.\n\n"
      "- first item\n  continues here\n* second item\n1. numbered\n\n> quoted\n> words\n\n"
      "Setext Heading\n==============\n\n---\n\n```\ncode line 1\n\ncode line 3\n```\n"
      "<!-- a comment -->\n####### not a heading\n");
  REQUIRE(segments.ok());
  std::vector<std::string> texts;
  for (const auto& s : *segments) texts.push_back(s.text);
  CHECK(texts == std::vector<std::string>{"Observations", "The ward was *busy* today.",
                                          "first item continues here", "second item", "numbered",
                                          "quoted words", "Setext Heading",
                                          "code line 1\n\ncode line 3", "####### not a heading"});
}

TEST_CASE("vtt: voice tags, merged cues, tags and entities", "[vtt]") {
  auto segments = parse_vtt(
      "WEBVTT - meeting\nKind: captions\n\nNOTE recorded with consent\nsecond note line\n\n"
      "STYLE\n::cue { color: red }\n\n"
      "1\n00:00:01.000 --> 00:00:04.000 align:start\n<v Dr. Okafor>Hello &amp; <i>welcome</i>.\n\n"
      "2\n00:00:04.500 --> 00:00:06.000\n<v Dr. Okafor>Shall we "
      "<00:00:05.000><c.loud>start</c>?</v>\n\n"
      "00:01.000 --> 00:02.000\n<v.first Maria Santos>Yes &lt;3&nbsp;ok\n\n"
      "00:03.000 --> 00:04.000\nMARIA: labelled\n\n"
      "00:05.000 --> 00:06.000\nINTERVIEWER: also labelled\ncontinues\n");
  REQUIRE(segments.ok());
  REQUIRE(segments->size() == 4);
  CHECK((*segments)[0].speaker == "Dr. Okafor");
  CHECK((*segments)[0].text == "Hello & welcome. Shall we start?");
  CHECK((*segments)[0].cue == "00:00:01.000");
  CHECK((*segments)[1].speaker == "Maria Santos");
  CHECK((*segments)[1].text == "Yes <3 ok");
  CHECK((*segments)[1].cue == "00:00:01.000");
  CHECK((*segments)[2].speaker == "MARIA");
  CHECK((*segments)[3].text == "also labelled continues");
  CHECK((*segments)[3].cue == "00:00:05.000");
}

TEST_CASE("vtt: the header is required", "[vtt]") {
  auto segments = parse_vtt("00:00:01.000 --> 00:00:02.000\nhello\n");
  REQUIRE_FALSE(segments.ok());
  CHECK(segments.error().message.find("WEBVTT") != std::string::npos);
  CHECK_FALSE(parse_vtt("WEBVTTX\n").ok());
}

TEST_CASE("srt: numbered cues, NAME: speakers, merged, tags stripped", "[srt]") {
  auto segments = parse_srt(
      "1\n00:00:01,000 --> 00:00:04,500\nANA: <i>Hello</i> there\n\n"
      "2\n00:00:05,000 --> 00:00:06,000\nANA: {\\an8}how are you?\n\n"
      "3\n00:00:07,000 --> 00:00:08,000\n- BEN: <font color=\"red\">Fine</font>\nthanks\n\n"
      "\n\n4\n00:00:09,000 --> 00:00:10,000\nmusic playing\n\nafter a blank line\n\n"
      "5\n00:00:11,000 --> 00:00:12,000\nx < y\n");
  REQUIRE(segments.ok());
  REQUIRE(segments->size() == 4);
  CHECK((*segments)[0].speaker == "ANA");
  CHECK((*segments)[0].text == "Hello there how are you?");
  CHECK((*segments)[0].cue == "00:00:01.000");
  CHECK((*segments)[1].speaker == "BEN");
  CHECK((*segments)[1].text == "Fine thanks");
  CHECK((*segments)[2].speaker.empty());
  CHECK((*segments)[2].text == "music playing after a blank line");
  CHECK((*segments)[2].cue == "00:00:09.000");
  CHECK((*segments)[3].text == "x < y");
}

TEST_CASE("csv: quoting, respondent column, open-ended detection", "[csv]") {
  auto segments = parse_csv(
      "Age,Respondent ID,Satisfaction,What did you like?\n"
      "34,P01,4,\"The staff, mostly. They were \"\"kind\"\"\nand patient.\"\n"
      "51,P02,2,\n"
      "29,,5,Short but it still has many words in it\n"
      "\n");
  REQUIRE(segments.ok());
  REQUIRE(segments->size() == 2);
  CHECK((*segments)[0].speaker == "P01");
  CHECK((*segments)[0].field == "What did you like?");
  CHECK((*segments)[0].text == "The staff, mostly. They were \"kind\"\nand patient.");
  CHECK((*segments)[1].speaker == "row 3");
}

TEST_CASE("csv: first column is the id by default; semicolons detected", "[csv]") {
  auto segments = parse_csv("code;comment\nA7;I would like longer visiting hours please\n");
  REQUIRE(segments.ok());
  REQUIRE(segments->size() == 1);
  CHECK((*segments)[0].speaker == "A7");
  CHECK((*segments)[0].field == "comment");
}

TEST_CASE("csv: malformed input is refused with the line", "[csv]") {
  auto unterminated = parse_csv("id,text\n1,\"never closed\n2,x\n");
  REQUIRE_FALSE(unterminated.ok());
  CHECK(unterminated.error().message == "line 2: unterminated quoted field");
  auto after_quote = parse_csv("id,text\n1,\"a\"b\n");
  REQUIRE_FALSE(after_quote.ok());
  CHECK(after_quote.error().message.find("line 2") != std::string::npos);
  auto too_many_fields = parse_csv("id,text\n1,a,b\n");
  REQUIRE_FALSE(too_many_fields.ok());
  CHECK(too_many_fields.error().message.find("line 2: 3 fields") != std::string::npos);
  std::string wide;
  for (int i = 0; i < 1001; ++i) wide += "c,";
  CHECK_FALSE(parse_csv(wide + "\n").ok());
}
