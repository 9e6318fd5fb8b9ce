#include "ingest/text_normalize.h"

#include <catch2/catch.hpp>

using cqda::ingest::normalize_text;

TEST_CASE("BOM is stripped, CRLF and CR become LF", "[normalize]") {
  auto text = normalize_text("\xEF\xBB\xBFline one\r\nline two\rline three\n", "a.txt");
  REQUIRE(text.ok());
  CHECK(*text == "line one\nline two\nline three\n");
}

TEST_CASE("text is composed to NFC", "[normalize]") {
  auto text = normalize_text(
      "caf"
      "e\xCC\x81",
      "a.txt");  // e + U+0301
  REQUIRE(text.ok());
  CHECK(*text == "caf\xC3\xA9");  // é
}

TEST_CASE("NUL bytes are binary content, with the offset", "[normalize]") {
  auto text = normalize_text(std::string("abc\0def", 7), "x/a.txt");
  REQUIRE_FALSE(text.ok());
  CHECK(text.error().message == "x/a.txt: binary content: NUL byte at offset 3");
  auto utf16 = normalize_text(std::string("\xFF\xFEh\0i\0", 6), "u.txt");
  REQUIRE_FALSE(utf16.ok());
  CHECK(utf16.error().message.find("UTF-16") != std::string::npos);
}

TEST_CASE("invalid UTF-8 is reported at its exact byte offset", "[normalize]") {
  auto text = normalize_text("ok caf\xC3\xA9 \xC3\x28 more", "a.txt");
  REQUIRE_FALSE(text.ok());
  CHECK(text.error().message == "a.txt: invalid UTF-8 at byte offset 9");
  auto overlong = normalize_text(
      "\xEF\xBB\xBF"
      "ab\xC0\xAF",
      "b.txt");
  REQUIRE_FALSE(overlong.ok());
  CHECK(overlong.error().message == "b.txt: invalid UTF-8 at byte offset 5");
  auto surrogate = normalize_text("\xED\xA0\x80", "c.txt");
  CHECK_FALSE(surrogate.ok());
}

TEST_CASE("control characters are replaced, tab and newline kept", "[normalize]") {
  auto text = normalize_text(
      "a\tb\x0C"
      "c\x0B"
      "d\x1A"
      "e\x7F"
      "f\xC2\x85g\xE2\x80\xA8h",
      "a.txt");
  REQUIRE(text.ok());
  CHECK(*text == "a\tb\nc\nd e f g\nh");
}
