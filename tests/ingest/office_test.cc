#include <catch2/catch.hpp>

#include "ingest/docx_parser.h"
#include "ingest/odt_parser.h"
#include "ingest/zip_archive.h"
#include "ingest_test_util.h"

using namespace cqda;
using namespace cqda::ingest;
using namespace cqda::ingest::testing;

namespace {

const std::string kDocumentXml = R"(<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"
            xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006">
<w:body>
<w:p><w:r><w:t>Interview P05</w:t></w:r></w:p>
<w:p><w:r><w:t>Interviewer: How</w:t></w:r><w:r><w:t xml:space="preserve"> </w:t></w:r><w:r><w:t>are you?</w:t></w:r></w:p>
<w:p><w:r><w:t>Maria: Fine.</w:t><w:tab/><w:t>Really</w:t><w:br/><w:t>second line</w:t></w:r></w:p>
<w:p><w:r><w:delText>deleted words</w:delText><w:t>More from Maria.</w:t></w:r></w:p>
<w:p><w:pPr><w:tabs><w:tab w:val="left" w:pos="720"/></w:tabs></w:pPr><w:r><w:t>Interviewer: Thanks &amp; bye</w:t></w:r>
<w:r><mc:AlternateContent><mc:Choice><w:t>!</w:t></mc:Choice><mc:Fallback><w:t>?</w:t></mc:Fallback></mc:AlternateContent></w:r></w:p>
</w:body></w:document>)";

const std::string kContentXml = R"(<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
    xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0">
<office:body><office:text>
<text:h text:outline-level="1">Field notes</text:h>
<text:p>First<text:s text:c="3"/>para <text:span text:style-name="T1">with <text:span>nested</text:span> span</text:span><text:tab/>tab<text:line-break/>next line</text:p>
<text:p>Second   paragraph
  collapsed.</text:p>
<text:p><office:annotation><text:p>a comment</text:p></office:annotation>Third.</text:p>
</office:text></office:body></office:document-content>)";

std::string docx(const std::string& xml) {
  return make_zip({{"[Content_Types].xml", "<Types/>"}, {"word/document.xml", xml}});
}

}  // namespace

TEST_CASE("docx: paragraphs, runs, tabs, breaks and speaker turns", "[docx]") {
  auto segments = parse_docx(docx(kDocumentXml), policy::ArchiveLimits{});
  REQUIRE(segments.ok());
  REQUIRE(segments->size() == 4);
  CHECK((*segments)[0].text == "Interview P05");
  CHECK((*segments)[1].speaker == "Interviewer");
  CHECK((*segments)[1].text == "How are you?");
  CHECK((*segments)[2].speaker == "Maria");
  CHECK((*segments)[2].text == "Fine.\tReally\nsecond line\nMore from Maria.");
  CHECK((*segments)[3].text == "Thanks & bye!");
}

TEST_CASE("odt: headings, spaces, spans, tabs, line breaks; comments skipped", "[odt]") {
  auto segments = parse_odt(make_zip({{"mimetype", "application/vnd.oasis.opendocument.text"},
                                      {"content.xml", kContentXml}}),
                            policy::ArchiveLimits{});
  REQUIRE(segments.ok());
  std::vector<std::string> texts;
  for (const auto& s : *segments) texts.push_back(s.text);
  CHECK(texts == std::vector<std::string>{"Field notes",
                                          "First   para with nested span\ttab\nnext line",
                                          "Second paragraph collapsed.", "Third."});
}

TEST_CASE("a DOCTYPE (and so any entity) is refused", "[docx]") {
  std::string xxe = R"(<?xml version="1.0"?><!DOCTYPE w [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<w:document xmlns:w="w"><w:body><w:p><w:r><w:t>&x;</w:t></w:r></w:p></w:body></w:document>)";
  auto segments = parse_docx(docx(xxe), policy::ArchiveLimits{});
  REQUIRE_FALSE(segments.ok());
  CHECK(contains(segments.error().message, "DOCTYPE is not allowed"));
}

TEST_CASE("broken containers and XML fail with a message", "[docx]") {
  CHECK(contains(parse_docx("not a zip at all", {}).error().message, "not a zip archive"));
  CHECK(contains(parse_docx(make_zip({{"other.xml", "<a/>"}}), {}).error().message,
                 "no word/document.xml"));
  CHECK(contains(parse_docx(docx("<w:document><w:body>"), {}).error().message, "XML error"));
  CHECK(contains(parse_docx(docx("<a>\xC3\x28</a>"), {}).error().message, "invalid UTF-8"));
  CHECK(contains(parse_odt(docx(kDocumentXml), {}).error().message, "no content.xml"));
}

TEST_CASE("a zip bomb is refused from its directory, before inflating", "[zip]") {
  // 200 MB of zeros deflate to about 200 KB: the declared size alone is over the limit.
  std::string zeros(200u << 20, '\0');
  std::string bomb = make_zip({{"word/document.xml", zeros}}, 1);
  zeros.clear();
  zeros.shrink_to_fit();
  CHECK(bomb.size() < (1u << 20));
  auto segments = parse_docx(bomb, policy::ArchiveLimits{});
  REQUIRE_FALSE(segments.ok());
  CHECK(contains(segments.error().message, "archive.max_uncompressed_bytes"));
}

TEST_CASE("an entry with an absurd compression ratio is refused", "[zip]") {
  std::string zeros(10u << 20, ' ');
  auto segments = parse_docx(docx("<a>" + zeros + "</a>"), policy::ArchiveLimits{});
  REQUIRE_FALSE(segments.ok());
  CHECK(contains(segments.error().message, "compresses more than 200:1"));
}

TEST_CASE("an archive lying about its sizes stops at the declared size", "[zip]") {
  std::string xml = "<w:document><w:body>";
  for (int i = 0; i < 20000; ++i) xml += "<w:p><w:r><w:t>words words</w:t></w:r></w:p>";
  xml += "</w:body></w:document>";
  std::string archive = docx(xml);
  patch_declared_sizes(archive, 100);
  auto member = read_zip_member(archive, "word/document.xml", policy::ArchiveLimits{});
  REQUIRE_FALSE(member.ok());
  INFO(member.error().message);
  auto segments = parse_docx(archive, policy::ArchiveLimits{});
  CHECK_FALSE(segments.ok());
  // Declaring a huge size is refused from the directory alone.
  patch_declared_sizes(archive, 200u << 20);
  auto huge = parse_docx(archive, policy::ArchiveLimits{});
  REQUIRE_FALSE(huge.ok());
  CHECK(contains(huge.error().message, "archive.max_uncompressed_bytes"));
}

TEST_CASE("too many entries are refused", "[zip]") {
  std::vector<std::pair<std::string, std::string>> members;
  for (int i = 0; i < 11; ++i) members.emplace_back("f" + std::to_string(i), "x");
  members.emplace_back("word/document.xml", kDocumentXml);
  policy::ArchiveLimits limits;
  limits.max_entries = 10;
  auto segments = parse_docx(make_zip(members), limits);
  REQUIRE_FALSE(segments.ok());
  CHECK(contains(segments.error().message,
                 "12 entries, more than the policy's "
                 "archive.max_entries (10)"));
}
