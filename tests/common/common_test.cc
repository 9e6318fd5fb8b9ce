#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <utf8proc.h>

#include <cstdlib>
#include <fstream>
#include <random>

#include "common/csv.h"
#include "common/document.h"
#include "common/files.h"
#include "common/hash.h"
#include "common/json.h"
#include "common/utf8.h"
#include "support/test_support.h"

using namespace cqda;

TEST_CASE("sha256 matches the known vectors", "[common]") {
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  std::string bytes;
  CHECK(from_hex("00ff10", bytes));
  CHECK(bytes == std::string("\x00\xff\x10", 3));
  CHECK_FALSE(from_hex("0g", bytes));
  CHECK_FALSE(from_hex("abc", bytes));
  // In pieces: the same digest however the bytes are split.
  const std::string text(100000, 'q');
  for (std::size_t piece : {1u, 7u, 4096u, 100000u}) {
    Sha256 hasher;
    for (std::size_t at = 0; at < text.size(); at += piece) hasher.update(std::string_view(text).substr(at, piece));
    CHECK(hasher.finish_hex() == sha256_hex(text));
  }
  Sha256 empty;
  CHECK(empty.finish_hex() == sha256_hex(""));
}

TEST_CASE("utf8 validation reports the first bad byte", "[common]") {
  CHECK_FALSE(utf8::first_invalid_byte("plain ascii é ✓ 😀").has_value());
  CHECK(utf8::first_invalid_byte("ab\xff").value() == 2);
  CHECK(utf8::first_invalid_byte("ab\xc3").value() == 2);          // truncated sequence
  CHECK(utf8::first_invalid_byte("a\xc0\xaf").value() == 1);       // overlong
  CHECK(utf8::first_invalid_byte("a\xed\xa0\x80").value() == 1);   // surrogate
  CHECK(utf8::first_invalid_byte("a\xf4\x90\x80\x80").value() == 1);  // above U+10FFFF
}

TEST_CASE("utf8 code-point helpers", "[common]") {
  std::string s = "Zoë 😀 東京";
  CHECK(utf8::length(s) == 8);
  CHECK(utf8::substr(s, 4, 1) == "😀");
  CHECK(utf8::substr(s, 6, 2) == "東京");
  CHECK(utf8::to_nfc("e\xcc\x81") == "\xc3\xa9");
  CHECK(utf8::to_lower("ÉCOLE Łódź") == "école łódź");
  CHECK(utf8::to_upper("müller") == "MÜLLER");
}

// NFC is taken line by line and only where a line holds a code point at or above U+0300;
// the result must be what utf8proc gives for the whole text at once.
TEST_CASE("to_nfc equals utf8proc's NFC of the whole text", "[common]") {
  auto whole_nfc = [](const std::string& text) {
    utf8proc_uint8_t* out = nullptr;
    utf8proc_ssize_t n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
                                      static_cast<utf8proc_ssize_t>(text.size()), &out,
                                      static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
    REQUIRE(n >= 0);
    std::string result(reinterpret_cast<const char*>(out), static_cast<std::size_t>(n));
    std::free(out);
    return result;
  };
  // Pieces that compose, decompose, reorder or stay: combining marks at a line's start and
  // end, Hangul jamo, singletons (Ohm, Angstrom), marks out of canonical order, Latin-1.
  const std::vector<std::string> pieces = {
      "a", "e", "Zo\xc3\xab", "\n", "\n", " ", "\xcc\x81", "\xcc\xa3", "\xcc\x88", "\xe1\x84\x80", "\xe1\x85\xa1",
      "\xe1\x86\xa8", "\xe2\x84\xa6", "\xe2\x84\xab", "\xcd\x84", "A\xcc\x8a", "\xc3\xa9", "\xe2\x80\x99", "\r",
      "\xe6\x9d\xb1", "\xf0\x9f\x98\x80", "o\xcc\x9b\xcc\xa3", "\xd7\x91\xd6\xbc"};
  std::mt19937 random(7);
  for (int round = 0; round < 3000; ++round) {
    std::string text;
    const int n = static_cast<int>(random() % 24);
    for (int i = 0; i < n; ++i) text += pieces[random() % pieces.size()];
    INFO("round " << round);
    CHECK(utf8::to_nfc(text) == whole_nfc(text));
  }
  CHECK(utf8::to_nfc("line one\nZo\xc3\xab\ne\xcc\x81\n\xcc\x81x") == "line one\nZo\xc3\xab\n\xc3\xa9\n\xcc\x81x");
}

TEST_CASE("json nesting is bounded before parsing", "[common]") {
  CHECK(json_nesting_depth(R"({"a": "[[[[", "b": [1, {"c": []}]})", 100) == 4);
  auto deep = parse_json(std::string(1000, '[') + std::string(1000, ']'), "x", JsonLimits{1 << 20, 64, false});
  REQUIRE_FALSE(deep.ok());
  CHECK_THAT(deep.error().message, Catch::Contains("nests deeper than 64"));
  auto big = parse_json(std::string(100, ' '), "body", JsonLimits{10, 64, false});
  CHECK_THAT(big.error().message, Catch::Contains("more than the limit"));
  auto bad = parse_json("{\"a\": }", "body", JsonLimits{});
  CHECK_THAT(bad.error().message, Catch::Contains("body: invalid JSON"));
  CHECK_FALSE(parse_json("{} // c", "x", JsonLimits{}).ok());
  // A number too large for a double is an error, not an exception.
  CHECK_THAT(parse_json("[1e999]", "body", JsonLimits{}).error().message, Catch::Contains("body: invalid JSON"));
  CHECK(parse_json("{} // c", "x", JsonLimits{1 << 20, 8, true}).ok());
}

TEST_CASE("csv parses RFC 4180 and round-trips", "[common]") {
  auto rows = csv::parse("id,answer\r\nR1,\"Hello, \"\"world\"\"\nsecond line\"\n\nR2,plain\n");
  REQUIRE(rows.ok());
  REQUIRE(rows->size() == 3);
  CHECK((*rows)[1].fields[1] == "Hello, \"world\"\nsecond line");
  CHECK((*rows)[1].line == 2);
  CHECK((*rows)[2].fields[0] == "R2");
  CHECK((*rows)[2].line == 5);
  CHECK(csv::format_row((*rows)[1].fields) == "R1,\"Hello, \"\"world\"\"\nsecond line\"\n");
  // Quotes at either end and side by side are doubled, and the field reads back as it was.
  for (std::string_view field : {"\"", "\"\"", "a\"", "\"a", "a\"\"b", "x,y", "plain", "", "line\r\nbreak\""}) {
    std::string row = "k,";
    csv::append_escaped(row, field);
    CHECK(row == "k," + csv::escape(field));
    auto back = csv::parse(row + "\n");
    REQUIRE(back.ok());
    CHECK((*back)[0].fields[1] == field);
  }
  CHECK(csv::escape("a\"\"b") == "\"a\"\"\"\"b\"");
  CHECK_THAT(csv::parse("a,\"open\n").error().message, Catch::Contains("line 1: a quoted field is never closed"));
  CHECK_THAT(csv::parse("a,\"x\"y\n").error().message, Catch::Contains("after a closing quote"));
  CHECK_THAT(csv::parse("a,b\"c\n").error().message, Catch::Contains("inside an unquoted field"));
  CHECK_FALSE(csv::parse("a,b,c\n", csv::Limits{10, 2}).ok());
  CHECK_FALSE(csv::parse("a\nb\nc\n", csv::Limits{2, 10}).ok());
}

TEST_CASE("document ids and rendering", "[common]") {
  CHECK(document_id_for_path("interviews/P01 Maria.txt") == "interviews-p01-maria-txt");
  CHECK(document_id_for_path("///") == "document");
  Document d;
  d.id = "d";
  d.segments.push_back({"", 0, "Interviewer", "", "", "Hello é.", 0, 0});
  d.segments.push_back({"", 0, "R07", "q1", "", "Fine 😀", 0, 0});
  d.segments.push_back({"", 0, "", "", "", "No speaker", 0, 0});
  number_segments(d);
  render_document_text(d);
  CHECK(d.text == "Interviewer: Hello é.\n\nR07 (q1): Fine 😀\n\nNo speaker");
  CHECK(d.segments[1].id == "d.s0001");
  for (const auto& s : d.segments) CHECK(utf8::substr(d.text, s.start, s.length) == s.text);
}

TEST_CASE("atomic writes and bounded reads", "[common]") {
  test::TempDir dir;
  auto file = dir / "a.txt";
  REQUIRE(write_file_atomic(file, "first", 0600).ok());
  REQUIRE(write_file_atomic(file, "second").ok());
  CHECK(read_file(file, 100).value() == "second");
  struct stat st {};
  REQUIRE(::stat(file.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0644);
  CHECK_THAT(read_file(file, 3).error().message, Catch::Contains("more than the limit"));
  CHECK_THAT(read_file(dir.path(), 3).error().message, Catch::Contains("not a regular file"));
  CHECK_THAT(read_file(dir / "missing", 3).error().message, Catch::Contains("ENOENT"));
  CHECK_FALSE(write_file_atomic(dir / "no/such/dir/x", "x").ok());
}

TEST_CASE("secret_present: only a regular file with content counts as a given secret", "[common]") {
  const auto dir = std::filesystem::temp_directory_path() / ("cqda-secret-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir / "folder");
  CHECK_FALSE(secret_present(dir / "missing"));
  CHECK_FALSE(secret_present(dir / "folder"));  // what a bind mount of an absent secret can leave
  std::ofstream(dir / "empty").close();
  CHECK_FALSE(secret_present(dir / "empty"));
  std::ofstream(dir / "key") << "sk-test";
  CHECK(secret_present(dir / "key"));
  std::filesystem::create_symlink(dir / "empty", dir / "link-to-empty");
  CHECK_FALSE(secret_present(dir / "link-to-empty"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("utf8 length, offsets and validation a word at a time equal a byte at a time", "[utf8]") {
  // The reference: one byte at a time, as the functions are specified.
  auto length = [](std::string_view s) {
    std::size_t n = 0;
    for (unsigned char c : s) n += (c & 0xC0) != 0x80;
    return n;
  };
  auto byte_offset = [](std::string_view s, std::size_t index) {
    std::size_t count = 0;
    for (std::size_t i = 0; i < s.size(); ++i)
      if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80 && count++ == index) return i;
    return s.size();
  };
  auto first_invalid = [](std::string_view s) -> std::optional<std::size_t> {
    std::size_t pos = 0;
    while (pos < s.size()) {
      utf8proc_int32_t cp = 0;
      auto n = utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(s.data()) + pos,
                                static_cast<utf8proc_ssize_t>(s.size() - pos), &cp);
      if (n <= 0 || cp < 0) return pos;
      pos += static_cast<std::size_t>(n);
    }
    return std::nullopt;
  };
  const std::vector<std::string> pieces = {"a", "bc", " ", "é", "✓", "😀", "\n", "\xff", "\xc3", "\x80", "word "};
  std::mt19937 rng(5);
  for (int round = 0; round < 3000; ++round) {
    std::string s;
    const std::size_t n = rng() % 40;
    const bool valid = round % 2 == 0;
    for (std::size_t i = 0; i < n; ++i) s += pieces[rng() % (valid ? 7 : pieces.size())];
    INFO("round " << round);
    CHECK(utf8::length(s) == length(s));
    CHECK(utf8::first_invalid_byte(s) == first_invalid(s));
    const std::size_t points = length(s);
    for (std::size_t index = 0; index <= points + 1; ++index) {
      CHECK(utf8::byte_offset(s, index) == byte_offset(s, index));  // invalid bytes too
      if (!valid) continue;
      const std::size_t count = rng() % 6;
      const std::size_t begin = byte_offset(s, index);
      const std::size_t end = index > points ? s.size() : begin + byte_offset(std::string_view(s).substr(begin), count);
      CHECK(utf8::substr(s, index, count) == std::string_view(s).substr(begin, end - begin));
    }
  }
}
