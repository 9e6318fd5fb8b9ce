// The MCP Streamable HTTP endpoint (revision 2025-11-25): POST, DELETE on /mcp, over TLS
// (or plain HTTP on a loopback listener when asked for explicitly). docs/HTTP.md describes
// every status code, the limits and the order of the edge checks.
//
// Threads: run() is the one I/O thread (Asio io_context); handlers of MCP requests run on a
// fixed pool of worker threads, started by create(). create() also loads everything OpenSSL
// needs, so serving opens no file and makes no socket but by accept.
//
// Ownership: the Server owns the listening socket, every connection and every session; its
// destructor closes them and waits for handlers still running on the workers (handlers should
// poll RequestContext::cancelled()).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/fd.h"
#include "common/result.h"
#include "mcp/session.h"

namespace cqda::http {

// Every bound in one place, so tests can shrink them.
struct Limits {
  std::size_t max_header_bytes = 8 * 1024;         // request line and headers (431)
  std::size_t max_body_bytes = 4u << 20;           // also for chunked bodies (413)
  std::size_t max_connections = 1024;              // more are closed as soon as they are accepted
  std::size_t max_sessions = 64;                   // initialize beyond it gets 503
  std::chrono::milliseconds request_time{10'000};  // TLS handshake; head and body of a request
  std::chrono::milliseconds idle_time{60'000};     // a keep-alive connection waiting for a request
  std::chrono::milliseconds session_idle{30 * 60'000};  // a session unused this long ends
  double requests_per_second = 50;                      // per session, on average (429 beyond)
  double burst = 100;                                   // per session, at once
  std::size_t max_stream_backlog = 16u
                                   << 20;  // bytes queued for a slow reader before it is dropped
};

enum class Transport {
  kTls,            // HTTPS: certificate_chain_pem and private_key_pem required
  kPlainLoopback,  // HTTP: refused unless the listening socket is bound to a loopback address
};

// What a request's MCP-Protocol-Version header must name once a session exists (absent is
// always accepted, as the specification allows; an unsupported version is always 400).
enum class VersionHeader {
  kSessionVersion,  // exactly the version the session negotiated
  kAnySupported,    // any supported version: the specification's minimum. The official
                    // conformance suite (server-sse-multiple-streams) sends 2025-03-26 on a
                    // 2025-11-25 session and expects 200.
};

struct ServerOptions {
  Transport transport = Transport::kTls;
  std::string certificate_chain_pem;  // the server certificate, then its issuers
  std::string private_key_pem;
  std::string bearer_token;  // required: at least 16 characters (RFC 6750 b64token)
  // Names a client may use for this server in Host and Origin ("::1" or "[::1]" for IPv6).
  std::vector<std::string> allowed_hosts = {"localhost", "127.0.0.1", "[::1]"};
  Limits limits;
  VersionHeader version_header = VersionHeader::kSessionVersion;
  std::size_t workers = 4;
  // Where server faults go (never request contents); stderr when empty. Never stdout.
  std::function<void(std::string_view message)> on_error;
};

// Makes the session for a new client; a fresh, unshared Session with its handlers registered.
using SessionFactory = std::function<std::shared_ptr<mcp::Session>()>;

class Server {
 public:
  // Adopts `listener` (bound and listening). Refuses an empty token or host list, plain HTTP
  // on a non-loopback address, and TLS material that does not load.
  static Result<std::unique_ptr<Server>> create(UniqueFd listener, ServerOptions options,
                                                SessionFactory factory);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Serves on the calling thread until stop().
  void run();
  // From any thread: closes the listener and every connection and makes run() return.
  void stop();

  std::uint16_t port() const;
  std::size_t open_connections() const;
  std::size_t open_sessions() const;

  struct Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cqda::http
