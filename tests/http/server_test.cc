// The Streamable HTTP endpoint over real sockets: TLS, the session lifecycle, responses as
// JSON and as event streams, cancellation from another connection.
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "http/listen.h"
#include "http/server_fixture.h"

using namespace cqda;
using namespace cqda::test;

TEST_CASE(
    "TLS: the generated CA verifies the server for localhost and 127.0.0.1, old protocols are "
    "refused",
    "[http]") {
  ServerFixture fixture;
  const std::string& ca = test_certificates().ca_certificate;
  for (const char* name : {"localhost", "127.0.0.1", "::1"}) {
    std::string error;
    auto connection = HttpConnection::tls(fixture.port(), {ca, name}, &error);
    INFO(name << ": " << error);
    REQUIRE(connection);
    CHECK((connection->tls_version() == "TLSv1.3" || connection->tls_version() == "TLSv1.2"));
  }
  std::string error;
  CHECK_FALSE(HttpConnection::tls(fixture.port(), {ca, "example.com"}, &error));
  CHECK_FALSE(
      HttpConnection::tls(fixture.port(), {ca, "localhost", TLS1_VERSION, TLS1_1_VERSION}, &error));
  // TLS 1.2 is offered only with forward secrecy and AEAD.
  auto tls12 = HttpConnection::tls(fixture.port(),
                                   {ca, "localhost", TLS1_2_VERSION, TLS1_2_VERSION}, &error);
  REQUIRE(tls12);
  CHECK(tls12->cipher().rfind("ECDHE-ECDSA-", 0) == 0);
  CHECK((tls12->cipher().find("GCM") != std::string::npos ||
         tls12->cipher().find("CHACHA20") != std::string::npos));
}

TEST_CASE("configuration: plain HTTP only on loopback, a token and allowed hosts required",
          "[http]") {
  auto factory = [] { return std::make_shared<mcp::Session>(mcp::ServerInfo{}, Json::object()); };
  auto make = [&](const std::string& address, auto tweak) {
    auto listener = http::listen_tcp(address, 0);
    REQUIRE(listener);
    http::ServerOptions options;
    options.transport = http::Transport::kPlainLoopback;
    options.bearer_token = kToken;
    tweak(options);
    return http::Server::create(std::move(*listener), std::move(options), factory);
  };
  auto none = [](http::ServerOptions&) {};
  auto refused = make("0.0.0.0", none);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message.find("loopback") != std::string::npos);
  CHECK(make("127.0.0.1", none));
  CHECK_FALSE(make("127.0.0.1", [](http::ServerOptions& o) { o.bearer_token = "short"; }));
  CHECK_FALSE(make("127.0.0.1", [](http::ServerOptions& o) { o.allowed_hosts.clear(); }));
  CHECK_FALSE(
      make("127.0.0.1", [](http::ServerOptions& o) { o.allowed_hosts = {"localhost:80"}; }));
  // TLS without certificates, or with a key that is not the certificate's.
  CHECK_FALSE(
      make("127.0.0.1", [](http::ServerOptions& o) { o.transport = http::Transport::kTls; }));
  auto other = http::make_certificates();
  REQUIRE(other);
  CHECK_FALSE(make("127.0.0.1", [&](http::ServerOptions& o) {
    o.transport = http::Transport::kTls;
    o.certificate_chain_pem = test_certificates().server_chain;
    o.private_key_pem = other->server_key;
  }));
}

TEST_CASE("the happy path: initialize, initialized, tools/list, a streamed tool call, DELETE",
          "[http]") {
  ServerFixture fixture;
  auto connection = fixture.connect();

  auto init = fixture.post(*connection, initialize_body());
  REQUIRE(init.status == 200);
  CHECK(init.header("content-type") == "application/json");
  CHECK(init.header("cache-control") == "no-store");
  CHECK(init.header("x-content-type-options") == "nosniff");
  CHECK(init.header("server").empty());
  CHECK(init.header("access-control-allow-origin").empty());
  const std::string id = init.header("mcp-session-id");
  REQUIRE(id.size() == 64);
  CHECK(id.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(Json::parse(init.body)["result"]["protocolVersion"] == "2025-11-25");
  CHECK(fixture.server().open_sessions() == 1);

  auto initialized =
      fixture.post(*connection, R"({"jsonrpc":"2.0","method":"notifications/initialized"})", id,
                   {{"MCP-Protocol-Version", "2025-11-25"}});
  CHECK(initialized.status == 202);
  CHECK(initialized.body.empty());

  auto list = fixture.post(*connection, request_body(2, "tools/list"), id,
                           {{"MCP-Protocol-Version", "2025-11-25"}});
  REQUIRE(list.status == 200);
  CHECK(list.header("content-type") == "application/json");
  CHECK(Json::parse(list.body)["result"]["tools"].size() == 2);

  // A tool that reports progress: the answer becomes an event stream, notifications first.
  REQUIRE(connection->send(http_request(
      "POST", fixture.headers(id),
      request_body(3, "tools/call",
                   R"({"name":"progress","arguments":{},"_meta":{"progressToken":"p1"}})"))));
  auto stream = connection->read_response(
      [&](const std::string&) { fixture.probe().first_event_seen = true; });
  REQUIRE(stream);
  CHECK(stream->status == 200);
  CHECK(stream->header("content-type") == "text/event-stream");
  CHECK(stream->header("cache-control") == "no-store");
  REQUIRE(stream->events.size() == 3);
  CHECK(Json::parse(stream->events[0])["method"] == "notifications/progress");
  CHECK(Json::parse(stream->events[0])["params"]["progress"] == 1);
  CHECK(Json::parse(stream->events[1])["params"]["progress"] == 2);
  Json result = Json::parse(stream->events[2]);
  CHECK(result["id"] == 3);
  CHECK(result["result"]["content"][0]["text"] == "streamed");

  // The same connection is still usable after a stream.
  CHECK(fixture.post(*connection, request_body(4, "ping"), id).status == 200);

  REQUIRE(connection->send(http_request("DELETE", fixture.headers(id))));
  auto deleted = connection->read_response();
  REQUIRE(deleted);
  CHECK(deleted->status == 204);
  CHECK(fixture.server().open_sessions() == 0);
  CHECK(fixture.post(*connection, request_body(5, "tools/list"), id).status == 404);
  REQUIRE(connection->send(http_request("DELETE", fixture.headers(id))));
  CHECK(connection->read_response()->status == 404);
}

TEST_CASE("sessions: missing, unknown and ended ids, protocol versions, methods and paths",
          "[http]") {
  ServerFixture fixture;
  auto connection = fixture.connect();
  const std::string id = fixture.open_session(*connection);

  // A request other than initialize without a session; a tool call before initialize.
  auto missing =
      fixture.post(*connection, request_body(1, "tools/call", R"({"name":"slow","arguments":{}})"));
  CHECK(missing.status == 400);
  CHECK(Json::parse(missing.body)["error"]["code"] == -32000);
  CHECK(fixture.post(*connection, request_body(1, "tools/list"), std::string(64, 'a')).status ==
        404);
  CHECK(fixture.post(*connection, request_body(1, "tools/list"), "not-a-session").status == 404);

  CHECK(fixture
            .post(*connection, request_body(2, "tools/list"), id,
                  {{"MCP-Protocol-Version", "1999-01-01"}})
            .status == 400);
  CHECK(fixture
            .post(*connection, request_body(2, "tools/list"), id,
                  {{"MCP-Protocol-Version", "2025-06-18"}})
            .status == 400);
  CHECK(fixture.post(*connection, initialize_body(), "", {{"MCP-Protocol-Version", "2024-01-01"}})
            .status == 400);
  CHECK(fixture.post(*connection, request_body(2, "tools/list"), id).status ==
        200);  // absent: allowed
  // Any supported version, when the server is configured to accept one.
  ServerFixture lenient({}, http::Transport::kTls, [](http::ServerOptions& o) {
    o.version_header = http::VersionHeader::kAnySupported;
  });
  auto other_connection = lenient.connect();
  const std::string lenient_id = lenient.open_session(*other_connection);
  CHECK(lenient
            .post(*other_connection, request_body(2, "tools/list"), lenient_id,
                  {{"MCP-Protocol-Version", "2025-03-26"}})
            .status == 200);
  CHECK(lenient
            .post(*other_connection, request_body(2, "tools/list"), lenient_id,
                  {{"MCP-Protocol-Version", "1999-01-01"}})
            .status == 400);

  // An initialize that fails (no clientInfo) makes no session.
  auto bad_init =
      fixture.post(*connection, R"({"jsonrpc":"2.0","id":9,"method":"initialize","params":{}})");
  CHECK(bad_init.status == 200);
  CHECK(Json::parse(bad_init.body)["error"]["code"] == -32602);
  CHECK(bad_init.header("mcp-session-id").empty());
  CHECK(fixture.server().open_sessions() == 1);

  // A second session at a different revision.
  auto other = fixture.post(*connection, initialize_body(1, "2025-06-18"));
  CHECK(Json::parse(other.body)["result"]["protocolVersion"] == "2025-06-18");
  CHECK(fixture
            .post(*connection, request_body(2, "ping"), other.header("mcp-session-id"),
                  {{"MCP-Protocol-Version", "2025-06-18"}})
            .status == 200);

  auto get = [&](const std::string& method, const std::string& target) {
    REQUIRE(connection->send(http_request(method, fixture.headers(id), "", target)));
    auto r = connection->read_response();
    REQUIRE(r);
    return *r;
  };
  auto stream = get("GET", "/mcp");
  CHECK(stream.status == 405);
  CHECK(stream.header("allow") == "POST, DELETE");
  CHECK(get("OPTIONS", "/mcp").status == 405);
  CHECK(get("PUT", "/mcp").status == 405);
  CHECK(get("POST", "/other").status == 404);
  CHECK(get("POST", "/mcp/").status == 404);
  CHECK(get("DELETE", "/mcp").status == 204);
}

TEST_CASE("bodies that are not JSON-RPC get a JSON-RPC error and the server keeps serving",
          "[http]") {
  ServerFixture fixture;
  auto connection = fixture.connect();
  const std::string id = fixture.open_session(*connection);
  for (std::string body :
       {std::string("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\xff\xfe\"}"),
        std::string(5000, '[') + std::string(5000, ']'), std::string("not json"),
        std::string("")}) {
    auto r = fixture.post(*connection, body, id);
    CHECK(r.status == 400);
    Json error = Json::parse(r.body);
    CHECK((error["error"]["code"] == -32700 || error["error"]["code"] == -32600));
  }
  // Without a session such bodies are simply not an initialize.
  CHECK(fixture.post(*connection, std::string(100000, '['), "").status == 400);
  CHECK(fixture.post(*connection, request_body(2, "ping"), id).status == 200);
}

TEST_CASE("cancellation: notifications/cancelled on another connection ends a running tool call",
          "[http]") {
  ServerFixture fixture;
  auto first = fixture.connect();
  const std::string id = fixture.open_session(*first);
  REQUIRE(first->send(
      http_request("POST", fixture.headers(id),
                   request_body(7, "tools/call", R"({"name":"slow","arguments":{}})"))));
  for (int i = 0; i < 500 && !fixture.probe().slow_started; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  REQUIRE(fixture.probe().slow_started);

  auto second = fixture.connect();
  auto cancel = fixture.post(
      *second, R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":7}})",
      id);
  CHECK(cancel.status == 202);
  auto ended = first->read_response();
  REQUIRE(ended);
  CHECK(ended->status == 202);  // nothing was streamed, and a cancelled request gets no response
  CHECK(ended->body.empty());
  CHECK(fixture.probe().slow_cancelled);
  CHECK(fixture.post(*first, request_body(8, "ping"), id).status == 200);
}

TEST_CASE("sessions are capped and expire when idle", "[http]") {
  http::Limits limits;
  limits.max_sessions = 2;
  limits.session_idle = std::chrono::milliseconds(300);
  ServerFixture fixture(limits);
  auto connection = fixture.connect();
  const std::string a = fixture.open_session(*connection);
  const std::string b = fixture.open_session(*connection);
  auto full = fixture.post(*connection, initialize_body());
  CHECK(full.status == 503);
  CHECK(!full.header("retry-after").empty());
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  CHECK(fixture.post(*connection, request_body(1, "ping"), a).status == 404);
  CHECK(fixture.post(*connection, initialize_body()).status == 200);  // b expired too: room again
}
