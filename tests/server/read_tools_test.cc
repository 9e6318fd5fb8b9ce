// The read tools over a fake data source: read_document's result, written as text without a
// JSON tree, must be the bytes json_text gives for the result built as a value, and must meet
// the tool's own output schema, since the registry does not check such a result per call.
#include <catch2/catch.hpp>

#include <random>

#include "common/json_text.h"
#include "server/read_tools.h"

using namespace cqda;
using namespace cqda::server;

namespace {

class FakeSource : public DataSource {
 public:
  DataSource::Page page;
  std::string refusal;  // when set, read_document fails with it
  std::uint64_t asked_offset = 0, asked_limit = 0;

  Result<std::vector<DocumentSummary>> list_documents() override { return std::vector<DocumentSummary>{page.document}; }
  Result<Page> read_document(const std::string&, std::uint64_t offset, std::uint64_t limit) override {
    asked_offset = offset;
    asked_limit = limit;
    if (!refusal.empty()) return make_error(refusal);
    return page;
  }
  Result<Json> codebook() override { return Json::object(); }
  Result<Json> search(const Json&) override { return Json{{"hits", Json::array()}, {"total", 0}, {"truncated", false}}; }
  Result<Json> request(const std::string&, Json) override { return Json::object(); }
};

// read_document's result as the tool built it before it was written as text.
Json reference_result(const DataSource::Page& page, std::uint64_t offset) {
  const DocumentSummary& d = page.document;
  Json segments = Json::array();
  for (const Segment& s : page.segments) {
    Json entry = {{"id", s.id}, {"text", s.text}, {"start", s.start}, {"length", s.length}};
    if (!s.speaker.empty()) entry["speaker"] = s.speaker;
    segments.push_back(std::move(entry));
  }
  Json result = {{"document",
                  {{"id", d.id}, {"path", d.path}, {"format", d.format}, {"segments", d.segments}, {"characters", d.characters}}},
                 {"offset", offset},
                 {"segments", std::move(segments)}};
  if (offset + page.segments.size() < d.segments) result["next_offset"] = offset + page.segments.size();
  return result;
}

std::string random_text(std::mt19937& rng, std::size_t max) {
  // Plain words, every character JSON must escape, and multi-byte UTF-8.
  static const std::vector<std::string> pieces = {"word", " ", "\"", "\\", "\n", "\t", "\r", "\x01", "\x1f", "/",
                                                  "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80", "[P-0012]", "\x7f"};
  std::string out;
  const std::size_t n = std::uniform_int_distribution<std::size_t>(0, max)(rng);
  for (std::size_t i = 0; i < n; ++i) out += pieces[std::uniform_int_distribution<std::size_t>(0, pieces.size() - 1)(rng)];
  return out;
}

const mcp::Tool& tool_named(const mcp::ToolRegistry& registry, const std::string& name) {
  for (const mcp::Tool* t : registry.all())
    if (t->name == name) return *t;
  FAIL("no tool " << name);
  throw std::logic_error("unreachable");
}

}  // namespace

TEST_CASE("read_document writes the result json_text gives for the same value, within its output schema",
          "[server][read_tools]") {
  FakeSource source;
  mcp::ToolRegistry registry;
  add_read_tools(registry, source);
  const SchemaValidator output(tool_named(registry, "read_document").output_schema);
  std::mt19937 rng(20261125);
  for (int round = 0; round < 500; ++round) {
    DataSource::Page& page = source.page;
    page.segments.clear();
    const std::size_t n = std::uniform_int_distribution<std::size_t>(0, 12)(rng);
    const std::uint64_t offset = std::uniform_int_distribution<std::uint64_t>(0, 3)(rng);
    page.document = {"d-" + std::to_string(round), random_text(rng, 6), round % 2 ? "txt" : "vtt",
                     offset + n + std::uniform_int_distribution<std::uint64_t>(0, 2)(rng),
                     std::uniform_int_distribution<std::uint64_t>(0, INT64_MAX)(rng)};
    for (std::size_t i = 0; i < n; ++i) {
      Segment s;
      s.id = page.document.id + ".s" + std::to_string(offset + i);
      s.speaker = rng() % 3 == 0 ? "" : random_text(rng, 3);
      s.text = random_text(rng, 40);
      s.start = rng();
      s.length = rng() % 5000;
      page.segments.push_back(s);
    }
    const Json expected = reference_result(page, offset);
    INFO(format_violations(output.validate(expected)));
    REQUIRE(output.validate(expected).empty());
    CHECK(page_json_text(page, offset) == json_text(expected));

    Json args = {{"id", page.document.id}};
    if (offset > 0) args["offset"] = offset;
    auto reply = registry.call(Json{{"name", "read_document"}, {"arguments", args}});
    REQUIRE(std::holds_alternative<Json>(reply));
    const Json& result = std::get<Json>(reply);
    CHECK(result["isError"] == false);
    CHECK(result["structuredContent"] == expected);
    CHECK(output.validate(result["structuredContent"]).empty());
    CHECK(source.asked_offset == offset);
    CHECK(source.asked_limit == 50);
    // The text block: one line per segment, "[id] speaker: text".
    std::string text;
    for (const Segment& s : page.segments)
      text += "[" + s.id + "] " + (s.speaker.empty() ? "" : s.speaker + ": ") + s.text + "\n";
    CHECK(result["content"][0]["text"] == (n == 0 ? "no segments at this offset" : text));
    // The whole result, as the supervisor writes it for the broker: the bytes json_text
    // gives for the result made as a tree.
    const Json tree = {{"content", {{{"type", "text"}, {"text", n == 0 ? "no segments at this offset" : text}}}},
                       {"isError", false},
                       {"structuredContent", expected}};
    CHECK(page_result_text(page.document, page.segments, offset) == json_text(tree));
  }
}

TEST_CASE("read_document sends a result its source wrote and recorded as it is, and records no other", "[server][read_tools]") {
  // The broker's source: the supervisor writes the result and records the call itself.
  class RecordingSource : public FakeSource {
   public:
    Json asked;
    Result<ToolResult> read_document_result(const Json& arguments) override {
      asked = arguments;
      if (!refusal.empty()) return make_error(refusal);
      return ToolResult{page_result_text(page.document, page.segments, 0), true};
    }
  };
  RecordingSource source;
  source.page.document = {"d", "p.txt", "txt", 2, 10};
  Segment s;
  s.id = "d.s0";
  s.text = "first";
  source.page.segments.push_back(s);
  mcp::ToolRegistry registry;
  add_read_tools(registry, source);
  std::vector<std::pair<std::string, bool>> observed;
  registry.observe([&](const mcp::Tool& tool, const Json&, bool is_error, std::string_view) {
    observed.emplace_back(tool.name, is_error);
    return true;
  });
  const Json args = {{"id", "d"}, {"limit", 1}};
  auto reply = registry.call(Json{{"name", "read_document"}, {"arguments", args}});
  REQUIRE(std::holds_alternative<Json>(reply));
  CHECK(source.asked == args);  // the validated arguments, as the client sent them
  CHECK(json_text(std::get<Json>(reply)) == page_result_text(source.page.document, source.page.segments, 0));
  CHECK(observed.empty());
  // A refusal is the broker's to record, as for every other tool.
  source.refusal = "no document has this id";
  auto refused = registry.call(Json{{"name", "read_document"}, {"arguments", {{"id", "x"}}}});
  REQUIRE(std::holds_alternative<Json>(refused));
  CHECK(std::get<Json>(refused)["isError"] == true);
  CHECK(observed == std::vector<std::pair<std::string, bool>>{{"read_document", true}});
}

TEST_CASE("read_document reports a refusal as a tool error and caps the page size", "[server][read_tools]") {
  FakeSource source;
  mcp::ToolRegistry registry;
  add_read_tools(registry, source);
  source.refusal = "no document has this id";
  auto refused = registry.call(Json{{"name", "read_document"}, {"arguments", {{"id", "nope"}}}});
  REQUIRE(std::holds_alternative<Json>(refused));
  CHECK(std::get<Json>(refused)["isError"] == true);
  CHECK(std::get<Json>(refused)["content"][0]["text"] == "no document has this id");
  CHECK_FALSE(std::get<Json>(refused).contains("structuredContent"));

  source.refusal.clear();
  source.page.document = {"d", "p.txt", "txt", 0, 0};
  auto empty = registry.call(Json{{"name", "read_document"}, {"arguments", {{"id", "d"}, {"limit", 500}}}});
  REQUIRE(std::holds_alternative<Json>(empty));
  CHECK(source.asked_limit == 500);
  CHECK(std::get<Json>(empty)["structuredContent"] == reference_result(source.page, 0));
  // Above the schema's maximum is an invalid-params error; the source is not asked.
  source.asked_limit = 0;
  auto too_many = registry.call(Json{{"name", "read_document"}, {"arguments", {{"id", "d"}, {"limit", 501}}}});
  REQUIRE(std::holds_alternative<mcp::RpcError>(too_many));
  CHECK(std::get<mcp::RpcError>(too_many).code == mcp::ErrorCode::kInvalidParams);
  CHECK(source.asked_limit == 0);
}

TEST_CASE("a page too large for one result is cut, and one segment too large is refused", "[server][read_tools]") {
  const DocumentSummary d = {"d", "p.txt", "txt", 10, 1000};
  std::vector<Segment> segments;
  for (int i = 0; i < 8; ++i) {
    Segment s;
    s.id = "d.s" + std::to_string(i + 2);
    s.text = std::string(100, 'a' + i) + "\"";
    s.start = 101u * i;
    s.length = 101;
    segments.push_back(s);
  }
  const std::string whole = page_result_text(d, segments, 2);
  // Room for all of them: the whole page.
  CHECK(page_result_within(d, segments, 2, whole.size()) == whole);
  // One byte less: half the segments, and next_offset continues after them.
  auto cut = page_result_within(d, segments, 2, whole.size() - 1);
  REQUIRE(cut);
  CHECK(cut->size() < whole.size());
  const Json result = Json::parse(*cut);
  CHECK(result["structuredContent"]["segments"].size() == 4);
  CHECK(result["structuredContent"]["offset"] == 2);
  CHECK(result["structuredContent"]["next_offset"] == 6);
  CHECK(*cut == page_result_text(d, std::span<const Segment>(segments).first(4), 2));
  // Just room for the first segment.
  const std::string one = page_result_text(d, std::span<const Segment>(segments).first(1), 2);
  auto single = page_result_within(d, segments, 2, one.size());
  REQUIRE(single);
  CHECK(*single == one);
  // Not even that: refused.
  CHECK_FALSE(page_result_within(d, segments, 2, one.size() - 1));
  // An empty page always fits what it needs.
  const std::string empty = page_result_text(d, {}, 12);
  CHECK(page_result_within(d, {}, 12, empty.size()) == empty);
}
