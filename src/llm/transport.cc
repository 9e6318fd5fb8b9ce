#include "llm/transport.h"

#include "egress/egress.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <unistd.h>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <system_error>

namespace cqda::llm {
namespace http = boost::beast::http;
namespace {

constexpr std::size_t kMaxHeaderBytes = 64u << 10;
constexpr std::size_t kMaxHeaderValue = 2048;

std::string ssl_errors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buffer[256];
    ERR_error_string_n(e, buffer, sizeof buffer);
    out += (out.empty() ? "" : "; ") + std::string(buffer);
  }
  return out.empty() ? "unknown TLS error" : out;
}

// Certificates in a PEM file, added to the store; -1 when the file cannot be read.
long load_pem_file(X509_STORE* store, const std::string& path) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_file(path.c_str(), "r"), &BIO_free);
  if (!bio) {
    ERR_clear_error();
    return -1;
  }
  long count = 0;
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    if (X509_STORE_add_cert(store, cert) == 1) ++count;
    X509_free(cert);
  }
  ERR_clear_error();  // the end of the file reads as an error
  return count;
}

int remaining_ms(std::chrono::steady_clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
  return left <= 0 ? 0 : static_cast<int>(std::min<long long>(left, 1 << 30));
}

Status wait_for(int fd, short events, std::chrono::steady_clock::time_point deadline, const char* what) {
  for (;;) {
    int left = remaining_ms(deadline);
    if (left == 0) return make_error(std::string(what) + " timed out");
    pollfd p{fd, events, 0};
    int ready = ::poll(&p, 1, left);
    if (ready > 0) return Status::success();
    if (ready < 0 && errno != EINTR) return make_error(std::string("poll: ") + std::strerror(errno));
  }
}

// Feeds bytes to Beast's response parser as they arrive.
class ResponseReader {
 public:
  explicit ResponseReader(std::size_t max_body) : max_body_(max_body) {
    parser_.header_limit(kMaxHeaderBytes);
    parser_.body_limit(max_body);
    // Not eager until the header has been checked: Beast 1.74 goes on into the body of a
    // response whose Content-Length exceeds the body limit, and string_body reserves that
    // length (a huge allocation chosen by the peer). The header is parsed alone first.
    parser_.eager(false);
  }

  // Ok(true) once the response is complete.
  Result<bool> feed(std::string_view bytes) {
    pending_.append(bytes);
    while (!pending_.empty() && !parser_.is_done()) {
      boost::beast::error_code ec;
      std::size_t used = parser_.put(boost::asio::buffer(pending_.data(), pending_.size()), ec);
      pending_.erase(0, used);
      if (ec == http::error::need_more) {
        // Beast 1.74 bounds the header but not a chunk-size line or the trailer: bytes it
        // keeps asking more for are bounded here.
        if (pending_.size() > kMaxHeaderBytes) return make_error("invalid HTTP response: a line longer than 64 KiB");
        break;
      }
      if (ec) return make_error("invalid HTTP response: " + ec.message());
      if (parser_.is_header_done() && !header_checked_) {
        header_checked_ = true;
        if (auto length = parser_.content_length(); length && *length > max_body_)
          return make_error("the response body (" + std::to_string(*length) + " bytes) is larger than " +
                            std::to_string(max_body_) + " bytes");
        parser_.eager(true);
        continue;
      }
      if (used == 0) break;
    }
    if (parser_.is_header_done() && parser_.get().result_int() < 200)
      return make_error("unexpected informational response " + std::to_string(parser_.get().result_int()));
    return parser_.is_done();
  }

  // The connection ended: a response delimited by the close is complete now.
  Status end() {
    if (parser_.is_done()) return Status::success();
    if (!parser_.is_header_done()) return make_error("the connection closed before a complete response header arrived");
    boost::beast::error_code ec;
    parser_.put_eof(ec);
    if (ec || !parser_.is_done()) return make_error("the connection closed before the response was complete");
    return Status::success();
  }

  HttpReply take() {
    auto message = parser_.release();
    HttpReply reply;
    reply.status = message.result_int();
    auto header = [&](http::field f) {
      auto it = message.find(f);
      if (it == message.end()) return std::string();
      return std::string(it->value().substr(0, kMaxHeaderValue));
    };
    reply.retry_after = header(http::field::retry_after);
    reply.location = header(http::field::location);
    reply.body = std::move(message.body());
    return reply;
  }

 private:
  std::size_t max_body_;
  bool header_checked_ = false;
  http::response_parser<http::string_body> parser_;
  std::string pending_;
};

bool is_ip_literal(std::string_view host) {
  std::string h(host);
  in6_addr v6;
  in_addr v4;
  return ::inet_pton(AF_INET, h.c_str(), &v4) == 1 || ::inet_pton(AF_INET6, h.c_str(), &v6) == 1;
}

// Plain HTTP on a non-blocking socket.
class PlainStream {
 public:
  explicit PlainStream(int fd) : fd_(fd) {}
  Status handshake(std::chrono::steady_clock::time_point) { return Status::success(); }
  Result<std::size_t> write(std::string_view data, std::chrono::steady_clock::time_point deadline) {
    for (;;) {
      ssize_t n = ::write(fd_, data.data(), data.size());
      if (n >= 0) return static_cast<std::size_t>(n);
      if (errno == EINTR) continue;
      if (errno != EAGAIN) return make_error(std::string("sending the request: ") + std::strerror(errno));
      if (auto st = wait_for(fd_, POLLOUT, deadline, "sending the request"); !st) return st.error();
    }
  }
  // 0 = the peer closed.
  Result<std::size_t> read(char* buffer, std::size_t size, std::chrono::steady_clock::time_point deadline) {
    for (;;) {
      ssize_t n = ::read(fd_, buffer, size);
      if (n >= 0) return static_cast<std::size_t>(n);
      if (errno == EINTR) continue;
      if (errno != EAGAIN) return make_error(std::string("reading the response: ") + std::strerror(errno));
      if (auto st = wait_for(fd_, POLLIN, deadline, "the response"); !st) return st.error();
    }
  }

 private:
  int fd_;
};

class TlsStream {
 public:
  TlsStream(int fd, SSL* ssl) : fd_(fd), ssl_(ssl) {}
  ~TlsStream() { SSL_free(ssl_); }

  Status handshake(std::chrono::steady_clock::time_point deadline) {
    for (;;) {
      ERR_clear_error();
      errno = 0;
      int rc = SSL_connect(ssl_);
      if (rc == 1) return Status::success();
      auto st = again(rc, deadline, "the TLS handshake");
      if (!st) {
        long verify = SSL_get_verify_result(ssl_);
        if (verify != X509_V_OK) {
          certificate_refused_ = true;
          return make_error(std::string("the server's certificate was refused: ") + X509_verify_cert_error_string(verify));
        }
        return st;
      }
    }
  }
  Result<std::size_t> write(std::string_view data, std::chrono::steady_clock::time_point deadline) {
    for (;;) {
      ERR_clear_error();
      errno = 0;
      std::size_t written = 0;
      int rc = SSL_write_ex(ssl_, data.data(), data.size(), &written);
      if (rc == 1) return written;
      if (auto st = again(0, deadline, "sending the request"); !st) return st.error();
    }
  }
  Result<std::size_t> read(char* buffer, std::size_t size, std::chrono::steady_clock::time_point deadline) {
    for (;;) {
      ERR_clear_error();
      errno = 0;
      std::size_t got = 0;
      int rc = SSL_read_ex(ssl_, buffer, size, &got);
      if (rc == 1) return got;
      int error = SSL_get_error(ssl_, rc);
      if (error == SSL_ERROR_ZERO_RETURN) return std::size_t{0};  // close_notify: a clean end
      if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) {
        if (auto st = wait_for(fd_, error == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline, "the response"); !st)
          return st.error();
        continue;
      }
      // Without close_notify the end cannot be told from a cut (OpenSSL 3 reports an
      // unexpected EOF): only a response that is complete by its own framing is accepted.
      return make_error("the TLS connection ended without close_notify: " + ssl_errors());
    }
  }

 private:
  Status again(int rc, std::chrono::steady_clock::time_point deadline, const char* what) {
    int error = SSL_get_error(ssl_, rc);
    if (error == SSL_ERROR_WANT_READ) return wait_for(fd_, POLLIN, deadline, what);
    if (error == SSL_ERROR_WANT_WRITE) return wait_for(fd_, POLLOUT, deadline, what);
    if (error == SSL_ERROR_SYSCALL && errno != 0) return make_error(std::string(what) + ": " + std::strerror(errno));
    return make_error(std::string(what) + " failed: " + ssl_errors());
  }

  int fd_;
  SSL* ssl_;

 public:
  bool certificate_refused_ = false;
};

template <typename Stream>
Result<HttpReply> run_exchange(Stream& stream, const Exchange& x, std::uint64_t& bytes_sent) {
  // A peer that closes while the request is written must be an error, not SIGPIPE: the
  // caller ignores SIGPIPE (llm_caller_main), so write() fails with EPIPE.
  if (auto st = stream.handshake(x.deadline); !st) return st.error();
  std::string_view left = x.request;
  while (!left.empty()) {
    auto n = stream.write(left, x.deadline);
    if (!n) return n.error();
    left.remove_prefix(*n);
    bytes_sent += *n;
  }
  ResponseReader reader(x.max_body_bytes);
  char buffer[16384];
  for (;;) {
    auto n = stream.read(buffer, sizeof buffer, x.deadline);
    if (!n) {
      return n.error();
    }
    if (*n == 0) {
      if (auto st = reader.end(); !st) return st.error();
      return reader.take();
    }
    auto done = reader.feed(std::string_view(buffer, *n));
    if (!done) return done.error();
    if (*done) return reader.take();
  }
}

}  // namespace

Result<std::shared_ptr<ClientTls>> ClientTls::create(const std::optional<std::filesystem::path>& extra_ca_file) {
  if (OPENSSL_init_ssl(OPENSSL_INIT_LOAD_SSL_STRINGS | OPENSSL_INIT_LOAD_CRYPTO_STRINGS, nullptr) != 1)
    return make_error("OpenSSL could not be initialised");
  std::shared_ptr<ClientTls> tls(new ClientTls());
  tls->ctx_ = SSL_CTX_new(TLS_client_method());
  if (!tls->ctx_) return make_error("SSL_CTX_new: " + ssl_errors());
  SSL_CTX* ctx = tls->ctx_;
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_security_level(ctx, 2);
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET);
  // TLS 1.2: forward secrecy and AEAD only (TLS 1.3 suites are all of that kind).
  if (SSL_CTX_set_cipher_list(ctx, "ECDHE+AESGCM:ECDHE+CHACHA20") != 1) return make_error("cipher list: " + ssl_errors());
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  SSL_CTX_set_verify_depth(ctx, 8);
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  const char* env_name = X509_get_default_cert_file_env();
  const char* from_env = env_name ? std::getenv(env_name) : nullptr;
  const std::string bundle = from_env && *from_env ? from_env : X509_get_default_cert_file();
  if (long n = load_pem_file(store, bundle); n > 0) {
    tls->anchors_ += static_cast<std::size_t>(n);
    tls->sources_ = bundle;
  }
  if (extra_ca_file) {
    long n = load_pem_file(store, extra_ca_file->string());
    if (n < 0) return make_error("cannot read the CA file " + extra_ca_file->string());
    if (n == 0) return make_error("the CA file " + extra_ca_file->string() + " holds no PEM certificate");
    tls->anchors_ += static_cast<std::size_t>(n);
    tls->sources_ += (tls->sources_.empty() ? "" : ", ") + extra_ca_file->string();
  }
  return tls;
}

ClientTls::~ClientTls() { SSL_CTX_free(ctx_); }

Result<HttpReply> parse_http_response(std::string_view bytes, std::size_t max_body_bytes, std::size_t piece) {
  ResponseReader reader(max_body_bytes);
  if (piece == 0) piece = bytes.size();
  bool done = false;
  while (!done && !bytes.empty()) {
    auto fed = reader.feed(bytes.substr(0, piece));
    if (!fed) return fed.error();
    done = *fed;
    bytes.remove_prefix(std::min(piece, bytes.size()));
  }
  if (!done)
    if (auto st = reader.end(); !st) return st.error();
  return reader.take();
}

Result<HttpReply> exchange_over(int fd, const ClientTls* tls, const Exchange& x, ExchangeStats& stats) {
  std::uint64_t& bytes_sent = stats.bytes_sent;
  bytes_sent = 0;
  stats.certificate_refused = false;
  if (!x.tls) {
    PlainStream stream(fd);
    return run_exchange(stream, x, bytes_sent);
  }
  if (!tls) return make_error("no TLS context for an https endpoint");
  SSL* ssl = SSL_new(tls->context());
  if (!ssl) return make_error("SSL_new: " + ssl_errors());
  TlsStream stream(fd, ssl);
  if (SSL_set_fd(ssl, fd) != 1) return make_error("SSL_set_fd: " + ssl_errors());
  const std::string host(x.host);
  if (is_ip_literal(host)) {
    // No SNI for an address (RFC 6066); the certificate must name the IP address.
    if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str()) != 1)
      return make_error("cannot check the certificate against " + host);
  } else {
    if (SSL_set_tlsext_host_name(ssl, host.c_str()) != 1) return make_error("SNI: " + ssl_errors());
    SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    if (SSL_set1_host(ssl, host.c_str()) != 1) return make_error("cannot check the certificate against " + host);
  }
  auto reply = run_exchange(stream, x, bytes_sent);
  stats.certificate_refused = stream.certificate_refused_;
  return reply;
}

}  // namespace cqda::llm

namespace cqda::llm {

std::string make_post_request(std::string_view url_text, std::string_view body, std::string_view api_key,
                              KeyHeader key_header) {
  auto url = egress::parse_url(url_text);
  if (!url) return {};
  const bool default_port = (url->scheme == "https" && url->port == 443) || (url->scheme == "http" && url->port == 80);
  std::string host = url->host.find(':') != std::string::npos ? "[" + url->host + "]" : url->host;
  if (!default_port) host += ":" + std::to_string(url->port);
  std::string out = "POST " + url->target + " HTTP/1.1\r\nHost: " + host +
                    "\r\nUser-Agent: cqda\r\nAccept: application/json\r\nContent-Type: application/json\r\n";
  // The key goes only inside TLS: never over plain HTTP, whatever the configuration says.
  if (!api_key.empty() && url->scheme == "https")
    out += (key_header == KeyHeader::kApiKey ? "api-key: " : "Authorization: Bearer ") + std::string(api_key) + "\r\n";
  out += "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n";
  out += body;
  return out;
}

}  // namespace cqda::llm
