// Requests in flight (cancellation, progress, logging), resources, prompts, completion and
// the capabilities a catalog advertises — driven with the bytes a client would send.
#include <catch2/catch.hpp>

#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "mcp/catalog.h"

using namespace cqda;
using namespace cqda::mcp;

namespace {

std::string initialize(int id = 1) {
  return R"({"jsonrpc":"2.0","id":)" + std::to_string(id) +
         R"(,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}})";
}

Json request(const std::string& method, const Json& params, int id) {
  return {{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}};
}

Json call(Session& s, const Json& message, Sender sender = {}) {
  auto out = s.handle(message.dump(), std::move(sender));
  REQUIRE(out);
  return Json::parse(*out);
}

Tool slow_tool(std::atomic<int>& steps) {
  Tool t;
  t.name = "slow";
  t.title = "Slow";
  t.description = "counts until cancelled";
  t.input_schema = Json::parse(R"({"type":"object","properties":{"steps":{"type":"integer"}}})");
  t.handler = [&steps](const Json& args, RequestContext& context) -> ToolOutcome {
    const int limit = args.value("steps", 1000000);
    for (int i = 0; i < limit; ++i) {
      if (context.cancelled()) return ToolOutcome::failure("cancelled");
      context.progress(i + 1, limit, "step");
      context.log(LogLevel::kDebug, "slow", Json{{"step", i}});
      context.log(LogLevel::kWarning, "slow", Json{{"step", i}});
      ++steps;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return {nullptr, "done", false};
  };
  return t;
}

std::unique_ptr<Catalog> make_catalog(std::atomic<int>& steps) {
  auto catalog = std::make_unique<Catalog>(ServerInfo{"cqda", "1", ""});
  catalog->tools().add(slow_tool(steps));
  catalog->enable_logging();
  ResourceProvider provider;
  provider.list = []() -> Result<std::vector<Resource>> {
    std::vector<Resource> all;
    for (int i = 0; i < 5; ++i) all.push_back({"cqda://documents/d" + std::to_string(i), "d" + std::to_string(i), "", "", "text/plain", std::nullopt});
    return all;
  };
  provider.read = [](const std::string& uri) -> Result<std::optional<ResourceText>> {
    auto vars = match_template("cqda://documents/{id}", uri);
    if (!vars || vars->at("id").size() != 2 || vars->at("id")[0] != 'd') return std::optional<ResourceText>();
    return std::optional<ResourceText>(ResourceText{uri, "text/plain", "text of " + vars->at("id")});
  };
  ResourceTemplate documents{"cqda://documents/{id}", "document", "Document", "one document", "text/plain", nullptr};
  documents.complete = [](const std::string&, const std::string& prefix) {
    std::vector<std::string> out;
    for (int i = 0; i < 150; ++i)
      if (std::string id = "d" + std::to_string(i); id.rfind(prefix, 0) == 0) out.push_back(id);
    return out;
  };
  provider.templates.push_back(documents);
  catalog->set_resources(std::move(provider));
  Prompt prompt;
  prompt.name = "summary";
  prompt.title = "Summary";
  prompt.description = "summarize a code";
  PromptArgument code{"code", "Code", "a code id", true, 50, nullptr};
  code.complete = [](const std::string& prefix, const std::map<std::string, std::string>& chosen) {
    std::vector<std::string> out;
    for (std::string c : {"stress", "support", "sleep", "pay"})
      if (c.rfind(prefix, 0) == 0 && (!chosen.count("style") || chosen.at("style") != "none")) out.push_back(c);
    return out;
  };
  prompt.arguments = {code, {"style", "Style", "how", false, 20, nullptr}};
  prompt.render = [](const std::map<std::string, std::string>& args) -> Result<PromptResult> {
    if (args.at("code") == "missing") return make_error("no code named missing");
    return PromptResult{"about " + args.at("code"), {{"user", "Summarize " + args.at("code")}}};
  };
  catalog->prompts().add(prompt);
  return catalog;
}

}  // namespace

TEST_CASE("a catalog advertises what it serves, and only that", "[mcp]") {
  Catalog empty(ServerInfo{"cqda", "1", ""});
  CHECK(empty.capabilities() == Json::object());
  auto session = empty.new_session();
  Json r = call(*session, Json::parse(initialize()));
  CHECK(r["result"]["capabilities"] == Json::object());
  // Methods for what is not offered do not exist.
  for (const char* method : {"tools/list", "resources/list", "prompts/list", "completion/complete", "logging/setLevel"})
    CHECK(call(*session, request(method, Json::object(), 2))["error"]["code"] == -32601);

  std::atomic<int> steps{0};
  auto catalog = make_catalog(steps);
  Json caps = catalog->capabilities();
  for (const char* cap : {"tools", "resources", "prompts", "completions", "logging"}) CHECK(caps.contains(cap));
}

TEST_CASE("a cancelled request stops its work and gets no response", "[mcp]") {
  std::atomic<int> steps{0};
  auto catalog = make_catalog(steps);
  auto session = catalog->new_session();
  call(*session, Json::parse(initialize()));
  session->handle(R"({"jsonrpc":"2.0","method":"notifications/initialized"})");
  std::vector<Json> sent;
  std::mutex sent_mutex;
  auto work = session->accept(request("tools/call", {{"name", "slow"}, {"arguments", Json::object()}, {"_meta", {{"progressToken", "p1"}}}}, 7).dump(),
                              [&](const Json& m) { std::lock_guard l(sent_mutex); sent.push_back(m); });
  CHECK(session->in_flight() == 1);
  auto running = std::async(std::launch::async, [&work] { return work.run(); });
  while (steps.load() < 5) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  // The cancellation arrives on another "connection" while the tool runs.
  CHECK_FALSE(session->handle(R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":7,"reason":"user"}})"));
  REQUIRE(running.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
  CHECK_FALSE(running.get());  // no response for a cancelled request
  CHECK(steps.load() < 1000000);
  CHECK(session->in_flight() == 0);
  // Progress went out with the client's token, growing; info-level logging let warnings through only.
  std::lock_guard l(sent_mutex);
  double last = 0;
  int progress = 0, warnings = 0, debug = 0;
  for (const auto& m : sent) {
    if (m["method"] == "notifications/progress") {
      CHECK(m["params"]["progressToken"] == "p1");
      CHECK(m["params"]["progress"].get<double>() > last);
      last = m["params"]["progress"].get<double>();
      ++progress;
    } else if (m["method"] == "notifications/message") {
      (m["params"]["level"] == "debug" ? debug : warnings)++;
    }
  }
  CHECK(progress >= 5);
  CHECK(warnings >= 5);
  CHECK(debug == 0);
  // The session goes on: a cancellation for an unknown id is ignored, ping works.
  CHECK_FALSE(session->handle(R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"nope"}})"));
  CHECK(call(*session, request("ping", Json::object(), 8)).contains("result"));
}

TEST_CASE("progress is sent only to a client that asked, logging follows setLevel", "[mcp]") {
  std::atomic<int> steps{0};
  auto catalog = make_catalog(steps);
  auto session = catalog->new_session();
  call(*session, Json::parse(initialize()));
  std::vector<Json> sent;
  Sender sender = [&](const Json& m) { sent.push_back(m); };
  call(*session, request("tools/call", {{"name", "slow"}, {"arguments", {{"steps", 3}}}}, 2), sender);
  CHECK(std::none_of(sent.begin(), sent.end(), [](const Json& m) { return m["method"] == "notifications/progress"; }));
  CHECK(call(*session, request("logging/setLevel", {{"level", "loud"}}, 3))["error"]["code"] == -32602);
  CHECK(call(*session, request("logging/setLevel", {{"level", "debug"}}, 4))["result"] == Json::object());
  sent.clear();
  call(*session, request("tools/call", {{"name", "slow"}, {"arguments", {{"steps", 2}}}}, 5), sender);
  CHECK(std::count_if(sent.begin(), sent.end(), [](const Json& m) { return m["params"].value("level", "") == "debug"; }) == 2);
  CHECK(call(*session, request("logging/setLevel", {{"level", "emergency"}}, 6))["result"] == Json::object());
  sent.clear();
  call(*session, request("tools/call", {{"name", "slow"}, {"arguments", {{"steps", 2}}}}, 7), sender);
  CHECK(sent.empty());
}

TEST_CASE("a request id still in flight cannot be reused", "[mcp]") {
  std::atomic<int> steps{0};
  auto catalog = make_catalog(steps);
  auto session = catalog->new_session();
  call(*session, Json::parse(initialize()));
  auto first = session->accept(request("tools/call", {{"name", "slow"}, {"arguments", {{"steps", 1}}}}, 9).dump());
  Json second = call(*session, request("ping", Json::object(), 9));
  CHECK(second["error"]["code"] == -32600);
  CHECK(first.run());
  CHECK(call(*session, request("ping", Json::object(), 9)).contains("result"));  // free again
}

TEST_CASE("resources are listed in verified pages and read by URI", "[mcp]") {
  std::atomic<int> steps{0};
  auto full = make_catalog(steps);
  auto session = full->new_session();
  call(*session, Json::parse(initialize()));
  Json list = call(*session, request("resources/list", Json::object(), 2))["result"];
  CHECK(list["resources"].size() == 5);
  CHECK(list["resources"][0]["uri"] == "cqda://documents/d0");
  CHECK(list["resources"][0]["mimeType"] == "text/plain");
  Json templates = call(*session, request("resources/templates/list", Json::object(), 3))["result"];
  CHECK(templates["resourceTemplates"][0]["uriTemplate"] == "cqda://documents/{id}");
  Json read = call(*session, request("resources/read", {{"uri", "cqda://documents/d3"}}, 4))["result"];
  CHECK(read["contents"][0]["text"] == "text of d3");
  CHECK(read["contents"][0]["uri"] == "cqda://documents/d3");
  Json missing = call(*session, request("resources/read", {{"uri", "cqda://documents/zz"}}, 5));
  CHECK(missing["error"]["code"] == -32002);
  CHECK(missing["error"]["data"]["uri"] == "cqda://documents/zz");
  CHECK(call(*session, request("resources/read", {{"uri", "cqda://documents/d3/../../etc"}}, 6))["error"]["code"] == -32002);
  CHECK(call(*session, request("resources/read", Json::object(), 7))["error"]["code"] == -32602);
  CHECK(call(*session, request("resources/list", {{"cursor", "1.00"}}, 8))["error"]["code"] == -32602);
}

TEST_CASE("templates match whole variables only", "[mcp]") {
  CHECK(match_template("cqda://documents/{id}", "cqda://documents/abc")->at("id") == "abc");
  CHECK_FALSE(match_template("cqda://documents/{id}", "cqda://documents/"));
  CHECK_FALSE(match_template("cqda://documents/{id}", "cqda://documents/a/b"));
  CHECK_FALSE(match_template("cqda://documents/{id}", "cqda://documents/a?x=1"));
  CHECK_FALSE(match_template("cqda://documents/{id}", "cqda://document/abc"));
  auto two = match_template("cqda://codes/{code}/documents/{id}", "cqda://codes/c1/documents/d2");
  REQUIRE(two);
  CHECK(two->at("code") == "c1");
  CHECK(two->at("id") == "d2");
}

TEST_CASE("prompts check their arguments; completion offers values", "[mcp]") {
  std::atomic<int> steps{0};
  auto catalog = make_catalog(steps);
  auto session = catalog->new_session();
  call(*session, Json::parse(initialize()));
  Json list = call(*session, request("prompts/list", Json::object(), 2))["result"];
  REQUIRE(list["prompts"].size() == 1);
  CHECK(list["prompts"][0]["arguments"][0] == Json({{"name", "code"}, {"description", "a code id"}, {"required", true}, {"title", "Code"}}));
  Json got = call(*session, request("prompts/get", {{"name", "summary"}, {"arguments", {{"code", "stress"}}}}, 3))["result"];
  CHECK(got["messages"][0]["role"] == "user");
  CHECK(got["messages"][0]["content"]["text"] == "Summarize stress");
  CHECK(call(*session, request("prompts/get", {{"name", "summary"}}, 4))["error"]["code"] == -32602);
  CHECK(call(*session, request("prompts/get", {{"name", "summary"}, {"arguments", {{"code", 3}}}}, 5))["error"]["code"] == -32602);
  CHECK(call(*session, request("prompts/get", {{"name", "summary"}, {"arguments", {{"code", "x"}, {"extra", "y"}}}}, 6))["error"]["code"] == -32602);
  CHECK(call(*session, request("prompts/get", {{"name", "summary"}, {"arguments", {{"code", std::string(51, 'a')}}}}, 7))["error"]["code"] == -32602);
  CHECK(call(*session, request("prompts/get", {{"name", "summary"}, {"arguments", {{"code", "missing"}}}}, 8))["error"]["code"] == -32602);
  CHECK(call(*session, request("prompts/get", {{"name", "nope"}}, 9))["error"]["code"] == -32602);

  Json c = call(*session, request("completion/complete", {{"ref", {{"type", "ref/prompt"}, {"name", "summary"}}}, {"argument", {{"name", "code"}, {"value", "s"}}}}, 10))["result"];
  CHECK(c["completion"]["values"] == Json({"stress", "support", "sleep"}));
  CHECK(c["completion"]["hasMore"] == false);
  // The arguments already chosen narrow the values.
  Json narrowed = call(*session, request("completion/complete", {{"ref", {{"type", "ref/prompt"}, {"name", "summary"}}}, {"argument", {{"name", "code"}, {"value", "s"}}}, {"context", {{"arguments", {{"style", "none"}}}}}}, 11))["result"];
  CHECK(narrowed["completion"]["values"].empty());
  Json r = call(*session, request("completion/complete", {{"ref", {{"type", "ref/resource"}, {"uri", "cqda://documents/{id}"}}}, {"argument", {{"name", "id"}, {"value", "d"}}}}, 12))["result"];
  CHECK(r["completion"]["values"].size() == 100);  // MCP's cap
  CHECK(r["completion"]["total"] == 150);
  CHECK(r["completion"]["hasMore"] == true);
  CHECK(call(*session, request("completion/complete", {{"ref", {{"type", "ref/resource"}, {"uri", "cqda://x/{id}"}}}, {"argument", {{"name", "id"}, {"value", ""}}}}, 13))["error"]["code"] == -32602);
  CHECK(call(*session, request("completion/complete", {{"ref", {{"type", "ref/prompt"}, {"name", "summary"}}}, {"argument", {{"name", "nope"}, {"value", ""}}}}, 14))["error"]["code"] == -32602);
  CHECK(call(*session, request("completion/complete", {{"ref", {{"type", "ref/other"}}}, {"argument", {{"name", "x"}, {"value", ""}}}}, 15))["error"]["code"] == -32602);
}
