#include "server/read_tools.h"

#include <algorithm>
#include <charconv>

#include "common/json_text.h"

namespace cqda::server {
namespace {

Json summary_json(const DocumentSummary& d) {
  return {{"id", d.id}, {"path", d.path}, {"format", d.format}, {"segments", d.segments}, {"characters", d.characters}};
}

const Json& summary_schema() {
  static const Json schema = Json::parse(R"({"type":"object","required":["id","path","format","segments","characters"],
    "properties":{"id":{"type":"string"},"path":{"type":"string"},"format":{"type":"string"},
    "segments":{"type":"integer","minimum":0},"characters":{"type":"integer","minimum":0}}})");
  return schema;
}

void append_number(std::string& out, std::uint64_t n) {
  char digits[20];
  auto end = std::to_chars(digits, digits + sizeof digits, n).ptr;
  out.append(digits, end);
}

void append_member(std::string& out, std::string_view key, std::string_view value) {
  out.append(key);
  append_json_string(out, value);
}

void append_member(std::string& out, std::string_view key, std::uint64_t value) {
  out.append(key);
  append_number(out, value);
}

}  // namespace

std::string page_json_text(const DocumentSummary& d, std::span<const Segment> segments, std::uint64_t offset) {
  // The keys in the order summary_json and the Json of read_document's output schema had:
  // json_text of that tree is what this writes (tests/server hold the two together).
  std::size_t bytes = d.id.size() + d.path.size() + d.format.size() + 160;
  for (const Segment& s : segments) bytes += s.id.size() + s.speaker.size() + s.text.size() * 11 / 10 + 80;
  std::string out;
  out.reserve(bytes);
  append_member(out, R"({"document":{"id":)", d.id);
  append_member(out, R"(,"path":)", d.path);
  append_member(out, R"(,"format":)", d.format);
  append_member(out, R"(,"segments":)", d.segments);
  append_member(out, R"(,"characters":)", d.characters);
  append_member(out, R"(},"offset":)", offset);
  out.append(R"(,"segments":[)");
  bool first = true;
  for (const Segment& s : segments) {
    append_member(out, first ? R"({"id":)" : R"(,{"id":)", s.id);
    first = false;
    append_member(out, R"(,"text":)", s.text);
    append_member(out, R"(,"start":)", static_cast<std::uint64_t>(s.start));
    append_member(out, R"(,"length":)", static_cast<std::uint64_t>(s.length));
    if (!s.speaker.empty()) append_member(out, R"(,"speaker":)", s.speaker);
    out += '}';
  }
  out += ']';
  if (offset + segments.size() < d.segments) append_member(out, R"(,"next_offset":)", offset + segments.size());
  out += '}';
  return out;
}

std::string page_result_text(const DocumentSummary& document, std::span<const Segment> segments, std::uint64_t offset) {
  if (segments.empty()) return mcp::written_result_text("no segments at this offset", page_json_text(document, segments, offset));
  std::size_t bytes = 0;
  for (const Segment& s : segments) bytes += s.id.size() + s.speaker.size() + s.text.size() + 6;
  std::string text;
  text.reserve(bytes);
  for (const Segment& s : segments) {
    text.append("[").append(s.id).append("] ");
    if (!s.speaker.empty()) text.append(s.speaker).append(": ");
    text.append(s.text).append("\n");
  }
  return mcp::written_result_text(text, page_json_text(document, segments, offset));
}

std::optional<std::string> page_result_within(const DocumentSummary& document, std::span<const Segment> segments,
                                              std::uint64_t offset, std::size_t max_bytes) {
  std::string result = page_result_text(document, segments, offset);
  while (result.size() > max_bytes) {
    if (segments.size() <= 1) return std::nullopt;
    segments = segments.first(segments.size() / 2);
    result = page_result_text(document, segments, offset);
  }
  return result;
}

Result<DataSource::ToolResult> DataSource::read_document_result(const Json& arguments) {
  const std::uint64_t offset = arguments.value("offset", std::uint64_t{0});
  const std::uint64_t limit = std::min(arguments.value("limit", kDefaultPage), kMaxPage);
  auto page = read_document(arguments.at("id").get<std::string>(), offset, limit);
  if (!page) return page.error();
  return ToolResult{page_result_text(page->document, page->segments, offset), false};
}

namespace {

mcp::Tool list_documents(DataSource& source) {
  mcp::Tool t;
  t.name = "list_documents";
  t.failures = {"the supervisor cannot answer (the server is shutting down)"};
  t.title = "List documents";
  t.description = "Every document of the project: its id (for read_document), its path as exported, format and size.";
  t.input_schema = Json::parse(R"({"type":"object","properties":{},"additionalProperties":false})");
  t.output_schema = {{"type", "object"},
                     {"required", {"documents"}},
                     {"properties", {{"documents", {{"type", "array"}, {"items", summary_schema()}}}}}};
  t.handler = [&source](const Json&, mcp::RequestContext&) -> mcp::ToolOutcome {
    auto documents = source.list_documents();
    if (!documents) return mcp::ToolOutcome::failure(documents.error().message);
    Json list = Json::array();
    std::string text;
    for (const auto& d : *documents) {
      list.push_back(summary_json(d));
      text += d.id + "  " + d.path + "  (" + d.format + ", " + std::to_string(d.segments) + " segments)\n";
    }
    return {Json{{"documents", std::move(list)}}, text.empty() ? "no documents" : text, false};
  };
  return t;
}

mcp::Tool read_document(DataSource& source) {
  mcp::Tool t;
  t.name = "read_document";
  t.failures = {"no document has this id"};
  t.title = "Read a document";
  t.description = "A page of a document's segments (speaker turns, paragraphs or survey answers), anonymized as the "
                  "policy requires, with segment ids and code-point offsets for coding.";
  t.input_schema = Json::parse(R"json({"type":"object","required":["id"],"additionalProperties":false,"properties":{
    "id":{"type":"string","minLength":1,"maxLength":200,"pattern":"^[a-z0-9-]+$"},
    "offset":{"type":"integer","minimum":0,"description":"first segment, from 0"},
    "limit":{"type":"integer","minimum":1,"maximum":500,"description":"segments per page (default 50)"}}})json");
  t.output_schema = {
      {"type", "object"},
      {"required", {"document", "offset", "segments"}},
      {"properties",
       {{"document", summary_schema()},
        {"offset", {{"type", "integer"}}},
        {"next_offset", {{"type", "integer"}}},
        {"segments",
         {{"type", "array"},
          {"items",
           Json::parse(R"({"type":"object","required":["id","text","start","length"],"properties":{
             "id":{"type":"string"},"speaker":{"type":"string"},"text":{"type":"string"},
             "start":{"type":"integer"},"length":{"type":"integer"}}})")}}}}}};
  // The source writes the result (in the broker: the supervisor, which records the call).
  t.handler = [&source](const Json& args, mcp::RequestContext&) -> mcp::ToolOutcome {
    auto result = source.read_document_result(args);
    if (!result) return mcp::ToolOutcome::failure(result.error().message);
    return mcp::ToolOutcome::framed(std::move(result->text), result->recorded);
  };
  return t;
}

mcp::Tool get_codebook(DataSource& source) {
  mcp::Tool t;
  t.name = "get_codebook";
  t.failures = {"the supervisor cannot answer (the server is shutting down)"};
  t.title = "Get the codebook";
  t.description = "The project's codebook: categories and codes with definitions, criteria and examples. Its text is "
                  "anonymized like the documents (names get the pseudonyms the documents use).";
  t.input_schema = Json::parse(R"({"type":"object","properties":{},"additionalProperties":false})");
  t.output_schema = Json::parse(R"({"type":"object","required":["codebook"],"properties":{"codebook":{"type":"object"}}})");
  t.handler = [&source](const Json&, mcp::RequestContext&) -> mcp::ToolOutcome {
    auto codebook = source.codebook();
    if (!codebook) return mcp::ToolOutcome::failure(codebook.error().message);
    std::string text = codebook->dump(2);
    return {Json{{"codebook", std::move(codebook).value()}}, std::move(text), false};
  };
  return t;
}

mcp::Tool search_corpus(DataSource& source) {
  mcp::Tool t;
  t.name = "search_corpus";
  t.failures = {"regex is true and the query is not a valid RE2 pattern, or needs more than 8 MiB to compile"};
  t.title = "Search the corpus";
  t.description = "Keyword (literal, case-insensitive) or RE2 search over every segment; keyword-in-context lines with "
                  "document, segment and code-point span.";
  t.input_schema = Json::parse(R"json({"type":"object","required":["query"],"additionalProperties":false,"properties":{
    "query":{"type":"string","minLength":1,"maxLength":200},
    "regex":{"type":"boolean","description":"query is an RE2 pattern (default: a literal keyword)"},
    "document_id":{"type":"string","pattern":"^[a-z0-9-]+$","maxLength":200},
    "limit":{"type":"integer","minimum":1,"maximum":200,"description":"hits returned (default 50)"},
    "context":{"type":"integer","minimum":0,"maximum":200,"description":"characters either side (default 40)"}}})json");
  t.output_schema = Json::parse(R"json({"type":"object","required":["hits","total","truncated"],"properties":{
    "total":{"type":"integer"},"truncated":{"type":"boolean"},
    "hits":{"type":"array","items":{"type":"object","required":["document_id","segment_id","start","end","left","match","right"],
      "properties":{"document_id":{"type":"string"},"segment_id":{"type":"string"},"start":{"type":"integer"},
        "end":{"type":"integer"},"left":{"type":"string"},"match":{"type":"string"},"right":{"type":"string"}}}}}})json");
  t.handler = [&source](const Json& args, mcp::RequestContext&) -> mcp::ToolOutcome {
    auto found = source.search(args);
    if (!found) return mcp::ToolOutcome::failure(found.error().message);
    std::string text;
    for (const auto& h : (*found)["hits"])
      text += h["segment_id"].get<std::string>() + ": ..." + h["left"].get<std::string>() + "[" +
              h["match"].get<std::string>() + "]" + h["right"].get<std::string>() + "...\n";
    text += std::to_string((*found)["total"].get<std::uint64_t>()) + " hits" +
            ((*found)["truncated"].get<bool>() ? " (more than returned)" : "");
    return {std::move(found).value(), std::move(text), false};
  };
  return t;
}

}  // namespace

void add_read_tools(mcp::ToolRegistry& registry, DataSource& source) {
  registry.add(list_documents(source));
  registry.add(read_document(source));
  registry.add(get_codebook(source));
  registry.add(search_corpus(source));
}

}  // namespace cqda::server
