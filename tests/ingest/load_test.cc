#include "ingest/load.h"

#include <catch2/catch.hpp>

#include "common/hash.h"
#include "common/utf8.h"
#include "ingest/document_check.h"
#include "ingest_test_util.h"
#include "support/test_support.h"

using namespace cqda;
using namespace cqda::ingest;
using namespace cqda::ingest::testing;

namespace {

RawFile raw(std::string path, DocumentFormat format, std::string bytes) {
  return RawFile{std::move(path), format, std::move(bytes)};
}

void check_offsets(const Document& document) {
  Status invariants = check_document(document);
  INFO((invariants ? std::string() : invariants.error().message));
  CHECK(invariants.ok());
  for (const auto& segment : document.segments) {
    INFO(segment.id);
    CHECK(utf8::substr(document.text, segment.start, segment.length) == segment.text);
  }
}

}  // namespace

TEST_CASE("load_document fills every field", "[load]") {
  std::string bytes = "\xEF\xBB\xBFInterviewer: Hello\r\nMaria: Bonjour\r\n";
  auto document =
      load_document(raw("interviews/P01 Maria.txt", DocumentFormat::kText, bytes), default_paths());
  REQUIRE(document.ok());
  CHECK(document->id == "interviews-p01-maria-txt");
  CHECK(document->relative_path == "interviews/P01 Maria.txt");
  CHECK(document->format == DocumentFormat::kText);
  CHECK(document->sha256 == sha256_hex(bytes));
  CHECK(document->raw_bytes == bytes.size());
  CHECK(document->text == "Interviewer: Hello\n\nMaria: Bonjour");
  REQUIRE(document->segments.size() == 2);
  CHECK(document->segments[1].id == "interviews-p01-maria-txt.s0001");
  CHECK(document->segments[1].start == 27);
  check_offsets(*document);
}

TEST_CASE("segment ids and offsets are stable across loads", "[load]") {
  auto file = raw("a.txt", DocumentFormat::kText, "A: one\nB: two\nA: three\n");
  auto first = load_document(file, default_paths());
  auto second = load_document(file, default_paths());
  REQUIRE(first.ok());
  REQUIRE(second.ok());
  REQUIRE(first->segments.size() == second->segments.size());
  for (std::size_t i = 0; i < first->segments.size(); ++i) {
    CHECK(first->segments[i].id == second->segments[i].id);
    CHECK(first->segments[i].start == second->segments[i].start);
  }
  CHECK(first->text == second->text);
}

TEST_CASE("offsets count code points through accents, emoji, CJK and NFC", "[load]") {
  std::string text =
      "Ana: Cafe\xCC\x81 au lait 😀😀\n"  // decomposed é, composed by NFC
      "Li: 我们在东京 — très loin\n"
      "Ana: 👩‍👩‍👧 family, naïve\n";
  auto document = load_document(raw("u.txt", DocumentFormat::kText, text), default_paths());
  REQUIRE(document.ok());
  REQUIRE(document->segments.size() == 3);
  CHECK(document->segments[0].text == "Caf\xC3\xA9 au lait 😀😀");
  check_offsets(*document);
  CHECK(document->segments[1].start == utf8::length("Ana: Café au lait 😀😀\n\nLi: "));
}

TEST_CASE("load errors start with the path", "[load]") {
  auto paths = default_paths();
  auto empty = load_document(raw("e.txt", DocumentFormat::kText, ""), paths);
  REQUIRE_FALSE(empty.ok());
  CHECK(empty.error().message == "e.txt: empty file");
  auto blank = load_document(raw("b.txt", DocumentFormat::kText, " \n\t\r\n"), paths);
  REQUIRE_FALSE(blank.ok());
  CHECK(contains(blank.error().message, "b.txt: empty file"));
  auto binary = load_document(raw("bin.txt", DocumentFormat::kText,
                                  std::string("\x7f"
                                              "ELF\x02\x01\x01\0\0",
                                              9)),
                              paths);
  REQUIRE_FALSE(binary.ok());
  CHECK(binary.error().message == "bin.txt: binary content: NUL byte at offset 7");
  auto invalid = load_document(raw("i.md", DocumentFormat::kMarkdown, "abc\xFF"), paths);
  REQUIRE_FALSE(invalid.ok());
  CHECK(invalid.error().message == "i.md: invalid UTF-8 at byte offset 3");
  auto vtt = load_document(raw("v.vtt", DocumentFormat::kVtt, "hello"), paths);
  REQUIRE_FALSE(vtt.ok());
  CHECK(contains(vtt.error().message, "v.vtt: not a WebVTT file"));
  auto csv = load_document(raw("s.csv", DocumentFormat::kCsv, "id,x\n1,\"open"), paths);
  REQUIRE_FALSE(csv.ok());
  CHECK(csv.error().message == "s.csv: line 2: unterminated quoted field");
  auto zip = load_document(raw("z.docx", DocumentFormat::kDocx, "PK junk"), paths);
  REQUIRE_FALSE(zip.ok());
  CHECK(contains(zip.error().message, "z.docx: not a zip archive"));
  paths.max_file_bytes = 4;
  auto big = load_document(raw("big.txt", DocumentFormat::kText, "hello"), paths);
  REQUIRE_FALSE(big.ok());
  CHECK(big.error().message == "big.txt: 5 bytes is more than the policy's max_file_bytes (4)");
}

TEST_CASE("every format loads through load_document", "[load]") {
  auto paths = default_paths();
  struct Case {
    RawFile file;
    std::size_t segments;
  };
  std::vector<Case> cases{
      {raw("n.md", DocumentFormat::kMarkdown, "# Title\n\nText.\n"), 2},
      {raw("c.vtt", DocumentFormat::kVtt,
           "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<v Ana>Hi\n\n"
           "00:00:02.000 --> 00:00:03.000\n<v Ana>again\n"),
       1},
      {raw("c.srt", DocumentFormat::kSrt, "1\n00:00:01,000 --> 00:00:02,000\nHi\n"), 1},
      {raw("s.csv", DocumentFormat::kCsv,
           "id,comment\n1,This is a long open-ended answer of many words\n"),
       1},
      {raw("d.docx", DocumentFormat::kDocx,
           make_zip({{"word/document.xml",
                      "<w:document><w:body><w:p><w:r><w:t>Hi</w:t></w:r></w:p></w:body>"
                      "</w:document>"}})),
       1},
      {raw("o.odt", DocumentFormat::kOdt,
           make_zip({{"content.xml",
                      "<office:document-content><text:p>Hi</text:p>"
                      "</office:document-content>"}})),
       1},
  };
  for (const auto& c : cases) {
    INFO(c.file.relative_path);
    auto document = load_document(c.file, paths);
    REQUIRE(document.ok());
    CHECK(document->segments.size() == c.segments);
    CHECK(document->format == c.file.format);
    check_offsets(*document);
  }
  auto empty_docx = load_document(
      raw("e.docx", DocumentFormat::kDocx, make_zip({{"word/document.xml", "<w:document/>"}})),
      paths);
  REQUIRE_FALSE(empty_docx.ok());
  CHECK(contains(empty_docx.error().message, "e.docx: empty file"));
}

TEST_CASE("the example corpus loads end to end from an input root", "[load]") {
  auto root = InputRoot::open((test::source_dir() / "examples/corpus").string());
  REQUIRE(root.ok());
  ScanResult scan = root->scan(default_paths());
  REQUIRE_FALSE(scan.accepted.empty());
  for (const auto& path : scan.accepted) {
    INFO(path);
    auto file = root->read(path, default_paths());
    REQUIRE(file.ok());
    auto document = load_document(*file, default_paths());
    REQUIRE(document.ok());
    CHECK(document->segments.size() > 2);
    check_offsets(*document);
  }
}
