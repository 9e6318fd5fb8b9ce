#include "http/server_fixture.h"

#include <catch2/catch.hpp>
#include <chrono>

#include "http/listen.h"

namespace cqda::test {
namespace {

mcp::Tool progress_tool(ToolProbe& probe) {
  mcp::Tool tool;
  tool.name = "progress";
  tool.description = "Reports progress twice";
  tool.input_schema = Json::parse(R"({"type":"object","additionalProperties":false})");
  tool.handler = [&probe](const Json&, mcp::RequestContext& context) -> mcp::ToolOutcome {
    context.progress(1, 2, "first half");
    // Streaming, not buffering: the client sees the first event while the tool still runs.
    for (int i = 0; i < 500 && !probe.first_event_seen; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    context.progress(2, 2, "second half");
    return {nullptr, probe.first_event_seen ? "streamed" : "not streamed", false};
  };
  return tool;
}

mcp::Tool slow_tool(ToolProbe& probe) {
  mcp::Tool tool;
  tool.name = "slow";
  tool.description = "Runs until cancelled";
  tool.input_schema = Json::parse(R"({"type":"object","additionalProperties":false})");
  tool.handler = [&probe](const Json&, mcp::RequestContext& context) -> mcp::ToolOutcome {
    probe.slow_started = true;
    for (int i = 0; i < 1000 && !context.cancelled(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    probe.slow_cancelled = context.cancelled();
    return mcp::ToolOutcome::failure("ran out of time");
  };
  return tool;
}

}  // namespace

const http::CertificateSet& test_certificates() {
  static const http::CertificateSet set = [] {
    auto made = http::make_certificates();
    if (!made) FAIL(made.error().message);
    return *made;
  }();
  return set;
}

ServerFixture::ServerFixture(http::Limits limits, http::Transport transport,
                             const std::function<void(http::ServerOptions&)>& adjust)
    : transport_(transport) {
  registry_.add(progress_tool(probe_));
  registry_.add(slow_tool(probe_));
  auto listener = http::listen_tcp("127.0.0.1", 0);
  REQUIRE(listener);
  http::ServerOptions options;
  options.transport = transport;
  options.certificate_chain_pem = test_certificates().server_chain;
  options.private_key_pem = test_certificates().server_key;
  options.bearer_token = kToken;
  options.limits = limits;
  options.workers = 2;
  if (adjust) adjust(options);
  auto factory = [this] {
    auto session = std::make_shared<mcp::Session>(
        mcp::ServerInfo{"cqda", "test", ""},
        Json{{"tools", Json::object()}, {"logging", Json::object()}});
    registry_.serve(*session);
    return session;
  };
  auto server = http::Server::create(std::move(*listener), std::move(options), factory);
  REQUIRE(server);
  server_ = std::move(*server);
  thread_ = std::thread([this] { server_->run(); });
}

ServerFixture::~ServerFixture() {
  server_->stop();
  thread_.join();
}

std::unique_ptr<HttpConnection> ServerFixture::connect() {
  std::string error;
  auto connection = transport_ == http::Transport::kTls
                        ? HttpConnection::tls(port(), {test_certificates().ca_certificate}, &error)
                        : HttpConnection::plain(port(), &error);
  INFO(error);
  REQUIRE(connection);
  return connection;
}

Headers ServerFixture::headers(const std::string& session_id, const Headers& extra) const {
  Headers h = {{"Host", host()},
               {"Authorization", std::string("Bearer ") + kToken},
               {"Content-Type", "application/json"},
               {"Accept", "application/json, text/event-stream"}};
  if (!session_id.empty()) h.emplace_back("Mcp-Session-Id", session_id);
  h.insert(h.end(), extra.begin(), extra.end());
  return h;
}

HttpResponse ServerFixture::post(HttpConnection& connection, const std::string& body,
                                 const std::string& session_id, const Headers& extra) {
  REQUIRE(connection.send(http_request("POST", headers(session_id, extra), body)));
  auto response = connection.read_response();
  REQUIRE(response);
  return *response;
}

std::string ServerFixture::open_session(HttpConnection& connection) {
  auto init = post(connection, initialize_body());
  REQUIRE(init.status == 200);
  std::string id = init.header("mcp-session-id");
  REQUIRE(id.size() == 64);
  auto initialized =
      post(connection, R"({"jsonrpc":"2.0","method":"notifications/initialized"})", id);
  REQUIRE(initialized.status == 202);
  return id;
}

std::string initialize_body(int id, const std::string& version) {
  return R"({"jsonrpc":"2.0","id":)" + std::to_string(id) +
         R"(,"method":"initialize","params":{"protocolVersion":")" + version +
         R"(","capabilities":{},"clientInfo":{"name":"test","version":"1"}}})";
}

std::string request_body(int id, const std::string& method, const std::string& params) {
  return R"({"jsonrpc":"2.0","id":)" + std::to_string(id) + R"(,"method":")" + method +
         R"(","params":)" + params + "}";
}

}  // namespace cqda::test
