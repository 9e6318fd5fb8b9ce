// Tools: schemas enforced before handlers run, isError results, output schemas, cursors.
#include <catch2/catch.hpp>

#include "mcp/tools.h"

#include "common/json_text.h"

using namespace cqda;
using namespace cqda::mcp;

namespace {

Tool echo_tool(int* calls) {
  Tool t;
  t.name = "read_document";
  t.title = "Read a document";
  t.description = "Returns a page of segments";
  t.input_schema = Json::parse(R"({"type":"object","properties":{"id":{"type":"string","pattern":"^[a-z0-9-]+$"},
      "page":{"type":"integer","minimum":0}},"required":["id"],"additionalProperties":false})");
  t.output_schema = Json::parse(R"({"type":"object","properties":{"id":{"type":"string"}},"required":["id"]})");
  t.handler = [calls](const Json& args, RequestContext&) -> ToolOutcome {
    ++*calls;
    if (args["id"] == "missing") return ToolOutcome::failure("no document with id missing");
    if (args["id"] == "broken") return {Json{{"wrong", 1}}, "broken", false};
    return {Json{{"id", args["id"]}}, "document " + args["id"].get<std::string>(), false};
  };
  return t;
}

Json as_json(const Reply& reply) {
  REQUIRE(std::holds_alternative<Json>(reply));
  return std::get<Json>(reply);
}

// The answer line to tools/call of `tool` (no arguments) in an initialized session over `registry`.
std::string call_in_session(const ToolRegistry& registry, const std::string& tool) {
  Session session({"cqda", "test"}, Json{{"tools", Json::object()}});
  registry.serve(session);
  session.handle(R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25",
      "capabilities":{},"clientInfo":{"name":"t","version":"1"}}})");
  auto answer = session.handle(R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":")" + tool +
                               R"(","arguments":{}}})");
  REQUIRE(answer);
  return *answer;
}

int code_of(const Reply& reply) {
  REQUIRE(std::holds_alternative<RpcError>(reply));
  return static_cast<int>(std::get<RpcError>(reply).code);
}

}  // namespace

TEST_CASE("tools/call validates arguments before the handler runs", "[mcp][tools]") {
  int calls = 0;
  ToolRegistry registry;
  registry.add(echo_tool(&calls));

  Json ok = as_json(registry.call(Json{{"name", "read_document"}, {"arguments", {{"id", "p01-txt"}}}}));
  CHECK(ok["isError"] == false);
  CHECK(ok["structuredContent"]["id"] == "p01-txt");
  CHECK(ok["content"][0]["text"] == "document p01-txt");
  CHECK(calls == 1);

  CHECK(code_of(registry.call(Json{{"name", "read_document"}, {"arguments", {{"id", "UPPER CASE"}}}})) == -32602);
  CHECK(code_of(registry.call(Json{{"name", "read_document"}, {"arguments", {{"page", 1}}}})) == -32602);
  CHECK(code_of(registry.call(Json{{"name", "read_document"}, {"arguments", {{"id", "a"}, {"extra", true}}}})) == -32602);
  CHECK(code_of(registry.call(Json{{"name", "read_document"}, {"arguments", "id=a"}})) == -32602);
  CHECK(code_of(registry.call(Json{{"name", "no_such_tool"}, {"arguments", Json::object()}})) == -32602);
  CHECK(code_of(registry.call(Json{{"arguments", Json::object()}})) == -32602);
  CHECK(calls == 1);  // none of the refused calls reached the handler

  Json failed = as_json(registry.call(Json{{"name", "read_document"}, {"arguments", {{"id", "missing"}}}}));
  CHECK(failed["isError"] == true);
  CHECK(failed["content"][0]["text"] == "no document with id missing");
  CHECK_FALSE(failed.contains("structuredContent"));
  // A result that breaks the tool's own output schema is never sent.
  CHECK(code_of(registry.call(Json{{"name", "read_document"}, {"arguments", {{"id", "broken"}}}})) == -32603);
}

TEST_CASE("tools/list pages with cursors that cannot be forged", "[mcp][tools]") {
  int calls = 0;
  ToolRegistry registry(2);
  for (int i = 0; i < 5; ++i) {
    Tool t = echo_tool(&calls);
    t.name = "tool_" + std::to_string(i);
    t.annotations.read_only = i % 2 == 0;
    registry.add(std::move(t));
  }
  std::vector<std::string> names;
  Json params = Json::object();
  for (int page = 0; page < 10; ++page) {
    Json r = as_json(registry.list(params));
    for (const auto& t : r["tools"]) {
      names.push_back(t["name"]);
      CHECK(t.contains("inputSchema"));
      CHECK(t.contains("outputSchema"));
      CHECK(t["annotations"]["readOnlyHint"].is_boolean());
    }
    if (!r.contains("nextCursor")) break;
    params = {{"cursor", r["nextCursor"]}};
  }
  CHECK(names == std::vector<std::string>{"tool_0", "tool_1", "tool_2", "tool_3", "tool_4"});

  Json first = as_json(registry.list(Json::object()));
  std::string cursor = first["nextCursor"];
  std::string forged = "4" + cursor.substr(cursor.find('.'));  // another offset, the old MAC
  CHECK(code_of(registry.list({{"cursor", forged}})) == -32602);
  std::string flipped = cursor;
  flipped.back() = flipped.back() == '0' ? '1' : '0';
  CHECK(code_of(registry.list({{"cursor", flipped}})) == -32602);
  CHECK(code_of(registry.list({{"cursor", "2"}})) == -32602);
  CHECK(code_of(registry.list({{"cursor", 2}})) == -32602);
  // A cursor from another server instance is refused.
  ToolRegistry other(2);
  for (int i = 0; i < 5; ++i) {
    Tool t = echo_tool(&calls);
    t.name = "tool_" + std::to_string(i);
    other.add(std::move(t));
  }
  CHECK(code_of(other.list({{"cursor", cursor}})) == -32602);
}

TEST_CASE("a session serves the registry's tools after initialize", "[mcp][tools]") {
  int calls = 0;
  ToolRegistry registry;
  registry.add(echo_tool(&calls));
  Session session({"cqda", "test", ""}, Json{{"tools", {{"listChanged", false}}}});
  registry.serve(session);
  CHECK(Json::parse(*session.handle(R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"read_document","arguments":{"id":"a"}}})"))
            ["error"]["code"] == -32600);  // not initialized yet
  session.handle(R"({"jsonrpc":"2.0","id":2,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}})");
  const std::string text =
      *session.handle(R"({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"read_document","arguments":{"id":"a"}}})");
  Json r = Json::parse(text);
  CHECK(r["id"] == 3);
  CHECK(r["result"]["structuredContent"]["id"] == "a");
  CHECK(calls == 1);
  // The result goes in as the text the registry wrote (and the audit observer hashed): the
  // response is exactly what writing it whole would give, alone and inside a batch of the
  // 2025-03-26 revision.
  CHECK(text == json_text(r));
  CHECK(json_text(std::get<Json>(registry.call(Json{{"name", "read_document"}, {"arguments", {{"id", "a"}}}}))) ==
        json_text(r["result"]));
  Session old({"cqda", "test", ""}, Json{{"tools", {{"listChanged", false}}}});
  registry.serve(old);
  old.handle(R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-03-26","capabilities":{},"clientInfo":{"name":"t","version":"1"}}})");
  const std::string batch = *old.handle(
      R"([{"jsonrpc":"2.0","id":"x","method":"tools/call","params":{"name":"read_document","arguments":{"id":"b"}}},)"
      R"({"jsonrpc":"2.0","id":4,"method":"nope"},{"jsonrpc":"2.0","id":5,"method":"ping"}])");
  Json answers = Json::parse(batch);
  REQUIRE(answers.is_array());
  REQUIRE(answers.size() == 3);
  CHECK(batch == json_text(answers));
  CHECK(answers[0]["id"] == "x");
  CHECK(answers[0]["result"]["structuredContent"]["id"] == "b");
  CHECK(answers[1]["error"]["code"] == -32601);
  CHECK(answers[2]["result"] == Json::object());
}

TEST_CASE("a tool call that cannot be recorded is withheld", "[mcp][tools]") {
  ToolRegistry registry;
  Tool t;
  t.name = "echo";
  t.title = "Echo";
  t.input_schema = Json::parse(R"({"type":"object"})");
  t.handler = [](const Json&, RequestContext&) -> ToolOutcome { return {nullptr, "secret text", false}; };
  registry.add(t);
  std::vector<std::string> seen;
  bool accept = true;
  registry.observe([&](const Tool& tool, const Json& args, bool is_error, std::string_view text) {
    const Json result = Json::parse(text);
    CHECK(result["isError"] == is_error);
    seen.push_back(tool.name + " " + args.dump() + " " + result["content"][0]["text"].get<std::string>());
    return accept;
  });
  auto ok = registry.call(Json{{"name", "echo"}, {"arguments", {{"a", 1}}}});
  REQUIRE(std::holds_alternative<Json>(ok));
  CHECK(seen == std::vector<std::string>{R"(echo {"a":1} secret text)"});
  accept = false;
  auto refused = registry.call(Json{{"name", "echo"}, {"arguments", Json::object()}});
  REQUIRE(std::holds_alternative<RpcError>(refused));
  CHECK(std::get<RpcError>(refused).code == ErrorCode::kInternalError);
  CHECK(std::get<RpcError>(refused).message.find("secret") == std::string::npos);
  // A call refused by the input schema never runs, so there is nothing to record.
  registry.call(Json{{"name", "echo"}, {"arguments", 5}});
  CHECK(seen.size() == 2);
}

TEST_CASE("a result written as text goes out as the same bytes as the same result made as a tree", "[mcp][tools]") {
  const Json structured = {{"id", "d-1"}, {"text", "line \"one\"\n\ttwo \xC3\xA9 \x01"}, {"n", 42}};
  const std::string text = "[d-1] speaker: \"quoted\"\nnext\\line \xE2\x82\xAC";
  const Json image = {{"type", "image"}, {"data", "AAAA"}, {"mimeType", "image/png"}};
  auto registry_with = [&](bool written, std::vector<std::string>* seen) {
    auto registry = std::make_unique<ToolRegistry>();
    Tool t;
    t.name = "page";
    t.input_schema = Json::parse(R"({"type":"object"})");
    t.output_schema = Json::parse(R"({"type":"object","required":["id"]})");
    t.handler = [&, written](const Json&, RequestContext&) -> ToolOutcome {
      ToolOutcome out = written ? ToolOutcome::written(json_text(structured), text) : ToolOutcome{structured, text, false};
      out.content.push_back(image);
      return out;
    };
    registry->add(t);
    registry->observe([seen](const Tool&, const Json&, bool is_error, std::string_view sent) {
      CHECK_FALSE(is_error);
      seen->emplace_back(sent);
      return true;
    });
    return registry;
  };
  std::vector<std::string> tree_seen, text_seen;
  auto tree = registry_with(false, &tree_seen);
  auto written = registry_with(true, &text_seen);
  const Json call = {{"name", "page"}, {"arguments", Json::object()}};
  const Json from_tree = as_json(tree->call(call));
  const Json from_text = as_json(written->call(call));
  CHECK(from_text == from_tree);
  CHECK(from_text["structuredContent"] == structured);
  CHECK(from_text["content"][0]["text"] == text);
  CHECK(from_text["content"][1] == image);
  REQUIRE(tree_seen.size() == 1);
  REQUIRE(text_seen.size() == 1);
  CHECK(text_seen[0] == tree_seen[0]);  // the audit log hashes the same bytes either way
  CHECK(text_seen[0] == json_text(from_tree));

  // Through a session, as a client gets it.
  for (ToolRegistry* r : {tree.get(), written.get()})
    CHECK(call_in_session(*r, "page") == R"({"jsonrpc":"2.0","id":1,"result":)" + tree_seen[0] + "}");
}

TEST_CASE("a result framed by its data source goes out as it came, and is recorded once", "[mcp][tools]") {
  const std::string framed = written_result_text("[s1] a \"line\"\n", R"({"id":"d-1"})");
  // The framing is the registry's own for a written result without further content.
  CHECK(framed == json_text(Json{{"content", {{{"type", "text"}, {"text", "[s1] a \"line\"\n"}}}},
                                 {"isError", false},
                                 {"structuredContent", {{"id", "d-1"}}}}));
  auto registry_with = [&](bool recorded, bool with_output, std::vector<std::string>* seen) {
    auto registry = std::make_unique<ToolRegistry>();
    Tool t;
    t.name = "page";
    t.input_schema = Json::parse(R"({"type":"object"})");
    if (with_output) t.output_schema = Json::parse(R"({"type":"object","required":["id"]})");
    t.handler = [&, recorded](const Json&, RequestContext&) { return ToolOutcome::framed(framed, recorded); };
    registry->add(t);
    registry->observe([seen](const Tool&, const Json&, bool, std::string_view sent) {
      seen->emplace_back(sent);
      return true;
    });
    return registry;
  };
  const Json call = {{"name", "page"}, {"arguments", Json::object()}};
  std::vector<std::string> seen;
  // Recorded by the source: the observer is not called (the call would be on record twice).
  auto recorded = registry_with(true, true, &seen);
  CHECK(as_json(recorded->call(call)) == Json::parse(framed));
  CHECK(seen.empty());
  CHECK(call_in_session(*recorded, "page") == R"({"jsonrpc":"2.0","id":1,"result":)" + framed + "}");
  CHECK(seen.empty());
  // Not recorded by the source: the observer sees exactly the bytes sent.
  auto unrecorded = registry_with(false, true, &seen);
  CHECK(as_json(unrecorded->call(call)) == Json::parse(framed));
  REQUIRE(seen.size() == 1);
  CHECK(seen[0] == framed);
  // A framed result is structured data: a tool without an output schema may not send one.
  seen.clear();
  auto schemaless = registry_with(true, false, &seen);
  auto refused = schemaless->call(call);
  REQUIRE(std::holds_alternative<RpcError>(refused));
  CHECK(std::get<RpcError>(refused).code == ErrorCode::kInternalError);
  CHECK(seen.empty());
}
