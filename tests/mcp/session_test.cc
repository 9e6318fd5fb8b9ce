// The MCP message layer: JSON-RPC parsing and errors, the lifecycle, revision negotiation
// and batches, driven with the bytes a client would send.
#include <catch2/catch.hpp>

#include <memory>
#include <string>

#include "mcp/session.h"

using namespace cqda;
using namespace cqda::mcp;

namespace {

std::unique_ptr<Session> make_session() {
  auto session = std::make_unique<Session>(ServerInfo{"cqda", "0.1.0", ""}, Json{{"tools", Json::object()}});
  session->on_request("tools/list", [](const Json&) -> Reply { return Json{{"tools", Json::array()}}; });
  session->on_request("boom", [](const Json&) -> Reply { throw std::runtime_error("secret detail"); });
  return session;
}

Json call(Session& s, const std::string& text) {
  auto out = s.handle(text);
  REQUIRE(out);
  return Json::parse(*out);
}

std::string initialize(const std::string& version, int id = 1) {
  return R"({"jsonrpc":"2.0","id":)" + std::to_string(id) + R"(,"method":"initialize","params":{"protocolVersion":")" +
         version + R"(","capabilities":{},"clientInfo":{"name":"test","version":"1"}}})";
}

int error_code(const Json& response) { return response.at("error").at("code").get<int>(); }

}  // namespace

TEST_CASE("initialize negotiates the revision the client asks for, else the newest", "[mcp]") {
  for (const char* version : {"2025-11-25", "2025-06-18", "2025-03-26"}) {
    auto s_owner = make_session();
  Session& s = *s_owner;
    Json r = call(s, initialize(version));
    CHECK(r["id"] == 1);
    CHECK(r["result"]["protocolVersion"] == version);
    CHECK(r["result"]["serverInfo"]["name"] == "cqda");
    CHECK(r["result"]["capabilities"].contains("tools"));
    CHECK(s.state() == Session::State::kInitialized);
    CHECK_FALSE(s.handle(R"({"jsonrpc":"2.0","method":"notifications/initialized"})"));
    CHECK(s.state() == Session::State::kReady);
  }
  auto s_owner = make_session();
  Session& s = *s_owner;
  CHECK(call(s, initialize("2024-11-05"))["result"]["protocolVersion"] == "2025-11-25");
  CHECK(call(s, initialize("2025-11-25", 2))["error"]["message"] == "the session is already initialized");
}

TEST_CASE("before initialize only ping is answered", "[mcp]") {
  auto s_owner = make_session();
  Session& s = *s_owner;
  CHECK(call(s, R"({"jsonrpc":"2.0","id":"a","method":"ping"})")["result"] == Json::object());
  Json r = call(s, R"({"jsonrpc":"2.0","id":7,"method":"tools/list"})");
  CHECK(r["id"] == 7);
  CHECK(error_code(r) == -32600);
  call(s, initialize("2025-11-25"));
  CHECK(call(s, R"({"jsonrpc":"2.0","id":8,"method":"tools/list"})")["result"]["tools"] == Json::array());
}

TEST_CASE("malformed input gets the right JSON-RPC error codes", "[mcp]") {
  auto s_owner = make_session();
  Session& s = *s_owner;
  call(s, initialize("2025-11-25"));
  CHECK(error_code(call(s, "{not json")) == -32700);
  CHECK(call(s, "{not json")["id"].is_null());
  CHECK(error_code(call(s, std::string("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"x\":\"\xff\"}"))) == -32700);
  CHECK(error_code(call(s, std::string(40, '[') + std::string(40, ']'))) == -32700);  // nesting bound
  CHECK(error_code(call(s, R"({"jsonrpc":"1.0","id":1,"method":"ping"})")) == -32600);
  CHECK(error_code(call(s, R"({"id":1,"method":"ping"})")) == -32600);
  CHECK(error_code(call(s, R"({"jsonrpc":"2.0","id":null,"method":"ping"})")) == -32600);
  CHECK(error_code(call(s, R"({"jsonrpc":"2.0","id":1.5,"method":"ping"})")) == -32600);
  CHECK(error_code(call(s, R"({"jsonrpc":"2.0","id":1,"method":42})")) == -32600);
  CHECK(error_code(call(s, R"({"jsonrpc":"2.0","id":1,"method":"ping","params":[1]})")) == -32602);
  CHECK(error_code(call(s, R"("just a string")")) == -32600);
  Json unknown = call(s, R"({"jsonrpc":"2.0","id":"u","method":"no/such"})");
  CHECK(error_code(unknown) == -32601);
  CHECK(unknown["id"] == "u");
  Json boom = call(s, R"({"jsonrpc":"2.0","id":3,"method":"boom"})");
  CHECK(error_code(boom) == -32603);
  CHECK(boom.dump().find("secret detail") == std::string::npos);
  // Invalid initialize params.
  auto fresh_owner = make_session();
  Session& fresh = *fresh_owner;
  CHECK(error_code(call(fresh, R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":5}})")) == -32602);
  CHECK(error_code(call(fresh, R"({"jsonrpc":"2.0","id":1,"method":"initialize"})")) == -32602);
}

TEST_CASE("notifications and responses are never answered", "[mcp]") {
  auto s_owner = make_session();
  Session& s = *s_owner;
  call(s, initialize("2025-11-25"));
  CHECK_FALSE(s.handle(R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}})"));
  CHECK_FALSE(s.handle(R"({"jsonrpc":"2.0","method":"notifications/unknown"})"));
  CHECK_FALSE(s.handle(R"({"jsonrpc":"2.0","id":99,"result":{}})"));
  CHECK(error_code(call(s, R"({"jsonrpc":"2.0","id":99,"result":{},"error":{"code":1,"message":"x"}})")) == -32600);
}

TEST_CASE("batches only where the negotiated revision has them", "[mcp]") {
  const std::string batch = R"([{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","method":"notifications/x"},)"
                            R"({"jsonrpc":"2.0","id":2,"method":"nope"}])";
  auto modern_owner = make_session();
  Session& modern = *modern_owner;
  call(modern, initialize("2025-06-18"));
  Json refused = call(modern, batch);
  CHECK(error_code(refused) == -32600);

  auto old_owner = make_session();
  Session& old = *old_owner;
  call(old, initialize("2025-03-26"));
  Json answers = call(old, batch);
  REQUIRE(answers.is_array());
  REQUIRE(answers.size() == 2);  // the notification gets none
  CHECK(answers[0]["id"] == 1);
  CHECK(answers[1]["id"] == 2);
  CHECK(error_code(answers[1]) == -32601);
  CHECK(error_code(call(old, "[]")) == -32600);
  CHECK_FALSE(old.handle(R"([{"jsonrpc":"2.0","method":"notifications/x"}])"));
  Json init_in_batch = call(old, "[" + initialize("2025-03-26", 5) + "]");
  CHECK(error_code(init_in_batch[0]) == -32600);
}
