// `cqda healthcheck`: is the local HTTPS (or loopback HTTP) server answering at its edge?
//
// The probe connects to a numeric address, completes the TLS handshake, sends
// `GET /mcp` without a token and reads the status line. A healthy server refuses it with 401:
// the edge parsed the request, checked Host, and asked for the bearer token. Nothing secret is
// sent. With a pinned certificate (the server's own, from the same secret or folder the server
// reads) the handshake must present exactly that certificate; without one, the probe trusts the
// loopback connection it made and checks only that TLS works.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "common/result.h"
#include "http/listen.h"

namespace cqda::http {

struct ProbeOptions {
  ListenAddress address{"127.0.0.1", 8765};
  bool tls = true;
  std::optional<std::string> pinned_certificate_pem;  // the first certificate is compared
  std::chrono::milliseconds timeout{5000};
};

struct ProbeResult {
  int status = 0;       // the HTTP status the server answered
  std::string summary;  // "401 from https://127.0.0.1:8765/mcp (TLSv1.3)"
};

// Errors name the step that failed (connect, handshake, pin, response). `timeout` bounds each
// step (connect, and every read and write). A peer that closes the connection mid-write is an
// error, not a signal: callers that write to sockets ignore SIGPIPE (cqda healthcheck does).
Result<ProbeResult> probe_server(const ProbeOptions& options);

}  // namespace cqda::http
