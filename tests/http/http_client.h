// A small blocking HTTP/1.1 client for the server tests: raw TCP or OpenSSL TLS with the test
// CA and host-name verification, requests written byte for byte (so hostile ones can be), and
// responses parsed with Content-Length or chunked bodies and SSE events.
#pragma once

#include <openssl/ssl.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace cqda::test {

struct TlsClientOptions {
  std::string ca_pem;
  std::string verify_name = "localhost";  // a DNS name or an IP address
  int min_version = TLS1_2_VERSION;
  int max_version = 0;  // 0: the newest
};

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names; repeats joined with ", "
  std::string body;
  std::vector<std::string> events;  // the data of each SSE event
  std::string header(const std::string& name) const;
};

class HttpConnection {
 public:
  // nullptr when the TCP connect or the TLS handshake fails; `error` says why.
  static std::unique_ptr<HttpConnection> plain(std::uint16_t port, std::string* error = nullptr);
  static std::unique_ptr<HttpConnection> tls(std::uint16_t port, const TlsClientOptions& options,
                                             std::string* error = nullptr);
  ~HttpConnection();

  bool send(const std::string& bytes);
  // The next response; `on_event` sees each SSE event as it arrives. nullopt on EOF or error.
  std::optional<HttpResponse> read_response(
      const std::function<void(const std::string&)>& on_event = {});
  // Whether the server closed the connection (a read gives EOF or an error) within `wait`.
  bool closed_within(std::chrono::milliseconds wait);
  int fd() const { return fd_; }
  std::string tls_version() const;
  std::string cipher() const;

 private:
  HttpConnection() = default;
  bool fill();  // reads more bytes into in_; false on EOF or error
  std::optional<std::string> read_line();
  bool read_exact(std::size_t n, std::string& out);

  int fd_ = -1;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  std::string in_;
};

// One request's bytes: the method, target, headers in order, and a body with Content-Length.
std::string http_request(const std::string& method,
                         const std::vector<std::pair<std::string, std::string>>& headers,
                         const std::string& body = "", const std::string& target = "/mcp");

}  // namespace cqda::test
