// HTTP/1.1 over a socket someone else connected: what the LLM caller does with the socket the
// supervisor hands it. TLS 1.2+ with the certificate chain verified against trust anchors
// loaded in memory before lockdown (the system bundle, OpenSSL's SSL_CERT_FILE, and an extra
// CA file for private endpoints) and the host name checked (SNI and SSL_set1_host, or the IP
// address for an IP literal). The response is parsed by Boost.Beast's parser from memory,
// bounded in header and body size, within one deadline for the whole exchange. Redirects
// are returned as such, never followed.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "llm/settings.h"

struct ssl_ctx_st;

namespace cqda::llm {

class ClientTls {
 public:
  // Loads the trust anchors now: the file named by SSL_CERT_FILE, else OpenSSL's default
  // bundle (/etc/ssl/certs/ca-certificates.crt on Debian), plus `extra_ca_file`. An
  // unreadable extra file is an error; a missing system bundle is not (then only the extra
  // file is trusted), and `anchors()` says how many certificates were loaded.
  static Result<std::shared_ptr<ClientTls>> create(const std::optional<std::filesystem::path>& extra_ca_file);
  ~ClientTls();
  ClientTls(const ClientTls&) = delete;
  ClientTls& operator=(const ClientTls&) = delete;

  ssl_ctx_st* context() const { return ctx_; }
  std::size_t anchors() const { return anchors_; }
  const std::string& sources() const { return sources_; }  // which files were loaded

 private:
  ClientTls() = default;
  ssl_ctx_st* ctx_ = nullptr;
  std::size_t anchors_ = 0;
  std::string sources_;
};

struct HttpReply {
  unsigned status = 0;
  std::string retry_after;  // the Retry-After header, verbatim (bounded)
  std::string location;     // the Location header of a redirect (bounded)
  std::string body;
};

// Parses a complete HTTP/1.1 response held in memory (the bytes up to the connection's end),
// fed to the parser `piece` bytes at a time as a socket would deliver them (0: all at once).
// Errors for anything Beast's parser rejects, a body over `max_body_bytes`, headers over
// 64 KiB, a line the parser keeps waiting on beyond that, a 1xx status, or a response cut
// short.
Result<HttpReply> parse_http_response(std::string_view bytes, std::size_t max_body_bytes, std::size_t piece = 0);

struct Exchange {
  std::string_view host;     // for SNI and the certificate check
  bool tls = true;
  std::string_view request;  // the whole HTTP request
  std::chrono::steady_clock::time_point deadline;
  std::size_t max_body_bytes = 4u << 20;
};

struct ExchangeStats {
  std::uint64_t bytes_sent = 0;      // request bytes written (TLS overhead excluded)
  bool certificate_refused = false;  // the chain or the host name did not verify
};

// Sends the request on `fd` (connected, non-blocking) and reads the response. `tls` must be
// set when exchange.tls is.
Result<HttpReply> exchange_over(int fd, const ClientTls* tls, const Exchange& exchange, ExchangeStats& stats);

}  // namespace cqda::llm

namespace cqda::llm {

// A POST of a JSON body: Host (with the port when it is not the scheme's default), the
// bearer token when there is one and the URL is https (never over plain HTTP),
// Content-Length, Connection: close.
std::string make_post_request(std::string_view url, std::string_view body, std::string_view api_key,
                              KeyHeader key_header = KeyHeader::kBearer);

}  // namespace cqda::llm
