// A server on 127.0.0.1 (ephemeral port) in a background thread, with a session factory that
// serves two tools: `progress` (reports progress, so its answer is an event stream, and waits
// until the client has seen the first event) and `slow` (runs until cancelled).
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "http/certs.h"
#include "http/http_client.h"
#include "http/server.h"
#include "mcp/tools.h"

namespace cqda::test {

inline constexpr const char* kToken = "test-token-0123456789abcdef";

// The CA and server certificate for every test, made once with write_certificates' generator.
const http::CertificateSet& test_certificates();

struct ToolProbe {
  std::atomic<bool> first_event_seen{false};
  std::atomic<bool> slow_started{false};
  std::atomic<bool> slow_cancelled{false};
};

using Headers = std::vector<std::pair<std::string, std::string>>;

class ServerFixture {
 public:
  explicit ServerFixture(http::Limits limits = {},
                         http::Transport transport = http::Transport::kTls,
                         const std::function<void(http::ServerOptions&)>& adjust = {});
  ~ServerFixture();

  std::uint16_t port() const { return server_->port(); }
  http::Server& server() { return *server_; }
  ToolProbe& probe() { return probe_; }
  std::string host() const { return "localhost:" + std::to_string(port()); }

  std::unique_ptr<HttpConnection> connect();
  // Host, Authorization, Content-Type and Accept as a well-behaved client sends them, then
  // the session id (when given) and `extra`.
  Headers headers(const std::string& session_id = "", const Headers& extra = {}) const;
  HttpResponse post(HttpConnection& connection, const std::string& body,
                    const std::string& session_id = "", const Headers& extra = {});
  // initialize + notifications/initialized on `connection`; returns the session id.
  std::string open_session(HttpConnection& connection);

 private:
  ToolProbe probe_;
  mcp::ToolRegistry registry_;
  http::Transport transport_;
  std::unique_ptr<http::Server> server_;
  std::thread thread_;
};

std::string initialize_body(int id = 1, const std::string& version = "2025-11-25");
std::string request_body(int id, const std::string& method, const std::string& params = "{}");

}  // namespace cqda::test
