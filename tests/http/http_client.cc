#include "http/http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace cqda::test {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

int connect_loopback(std::uint16_t port, std::string* error) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    if (error) *error = std::string("connect: ") + std::strerror(errno);
    if (fd >= 0) ::close(fd);
    return -1;
  }
  int one = 1;  // the TLS Finished and the request must not wait for each other (Nagle)
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  timeval timeout{10, 0};  // no test waits forever
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  return fd;
}

}  // namespace

std::string HttpResponse::header(const std::string& name) const {
  auto it = headers.find(lower(name));
  return it == headers.end() ? std::string() : it->second;
}

std::unique_ptr<HttpConnection> HttpConnection::plain(std::uint16_t port, std::string* error) {
  std::unique_ptr<HttpConnection> c(new HttpConnection);
  c->fd_ = connect_loopback(port, error);
  if (c->fd_ < 0) return nullptr;
  return c;
}

std::unique_ptr<HttpConnection> HttpConnection::tls(std::uint16_t port,
                                                    const TlsClientOptions& options,
                                                    std::string* error) {
  std::unique_ptr<HttpConnection> c(new HttpConnection);
  c->fd_ = connect_loopback(port, error);
  if (c->fd_ < 0) return nullptr;
  c->ctx_ = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_min_proto_version(c->ctx_, options.min_version);
  if (options.max_version) SSL_CTX_set_max_proto_version(c->ctx_, options.max_version);
  // An old protocol is tried for real: the client side must not refuse it first.
  if (options.max_version && options.max_version < TLS1_2_VERSION)
    SSL_CTX_set_cipher_list(c->ctx_, "DEFAULT:@SECLEVEL=0");
  SSL_CTX_set_verify(c->ctx_, SSL_VERIFY_PEER, nullptr);
  BIO* bio = BIO_new_mem_buf(options.ca_pem.data(), static_cast<int>(options.ca_pem.size()));
  X509* ca = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  X509_STORE_add_cert(SSL_CTX_get_cert_store(c->ctx_), ca);
  X509_free(ca);
  BIO_free(bio);
  c->ssl_ = SSL_new(c->ctx_);
  SSL_set_fd(c->ssl_, c->fd_);
  X509_VERIFY_PARAM* param = SSL_get0_param(c->ssl_);
  in6_addr ip{};
  if (inet_pton(AF_INET, options.verify_name.c_str(), &ip) == 1 ||
      inet_pton(AF_INET6, options.verify_name.c_str(), &ip) == 1) {
    X509_VERIFY_PARAM_set1_ip_asc(param, options.verify_name.c_str());
  } else {
    SSL_set_tlsext_host_name(c->ssl_, options.verify_name.c_str());
    X509_VERIFY_PARAM_set1_host(param, options.verify_name.c_str(), 0);
  }
  if (SSL_connect(c->ssl_) != 1) {
    if (error) {
      char text[256];
      ERR_error_string_n(ERR_get_error(), text, sizeof(text));
      *error = text;
    }
    ERR_clear_error();
    return nullptr;
  }
  return c;
}

HttpConnection::~HttpConnection() {
  if (ssl_) SSL_free(ssl_);
  if (ctx_) SSL_CTX_free(ctx_);
  if (fd_ >= 0) ::close(fd_);
}

std::string HttpConnection::tls_version() const { return ssl_ ? SSL_get_version(ssl_) : ""; }
std::string HttpConnection::cipher() const { return ssl_ ? SSL_get_cipher_name(ssl_) : ""; }

bool HttpConnection::send(const std::string& bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    long n = ssl_ ? SSL_write(ssl_, bytes.data() + done, static_cast<int>(bytes.size() - done))
                  : ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

bool HttpConnection::fill() {
  char buffer[16384];
  long n = ssl_ ? SSL_read(ssl_, buffer, sizeof(buffer)) : ::recv(fd_, buffer, sizeof(buffer), 0);
  if (n <= 0) {
    ERR_clear_error();
    return false;
  }
  in_.append(buffer, static_cast<std::size_t>(n));
  return true;
}

std::optional<std::string> HttpConnection::read_line() {
  std::size_t end;
  while ((end = in_.find("\r\n")) == std::string::npos)
    if (!fill()) return std::nullopt;
  std::string line = in_.substr(0, end);
  in_.erase(0, end + 2);
  return line;
}

bool HttpConnection::read_exact(std::size_t n, std::string& out) {
  while (in_.size() < n)
    if (!fill()) return false;
  out.append(in_, 0, n);
  in_.erase(0, n);
  return true;
}

std::optional<HttpResponse> HttpConnection::read_response(
    const std::function<void(const std::string&)>& on_event) {
  HttpResponse r;
  auto status = read_line();
  if (!status || status->size() < 12 || status->compare(0, 9, "HTTP/1.1 ") != 0)
    return std::nullopt;
  r.status = std::stoi(status->substr(9, 3));
  while (true) {
    auto line = read_line();
    if (!line) return std::nullopt;
    if (line->empty()) break;
    auto colon = line->find(':');
    if (colon == std::string::npos) return std::nullopt;
    std::string name = lower(line->substr(0, colon));
    std::string value = line->substr(line->find_first_not_of(' ', colon + 1) == std::string::npos
                                         ? line->size()
                                         : line->find_first_not_of(' ', colon + 1));
    r.headers[name] = r.headers.count(name) ? r.headers[name] + ", " + value : value;
  }
  if (r.header("transfer-encoding") == "chunked") {
    std::string pending;  // SSE text not yet ended by a blank line
    while (true) {
      auto size_line = read_line();
      if (!size_line) return std::nullopt;
      std::size_t size = std::stoul(*size_line, nullptr, 16);
      std::string data;
      if (!read_exact(size + 2, data)) return std::nullopt;
      data.resize(size);
      r.body += data;
      pending += data;
      std::size_t end;
      while ((end = pending.find("\n\n")) != std::string::npos) {
        std::string event = pending.substr(0, end + 1), text;
        pending.erase(0, end + 2);
        for (std::size_t pos = 0; (pos = event.find("data: ", pos)) != std::string::npos;) {
          std::size_t eol = event.find('\n', pos);
          if (!text.empty()) text += "\n";
          text += event.substr(pos + 6, eol - pos - 6);
          pos = eol;
        }
        r.events.push_back(text);
        if (on_event) on_event(text);
      }
      if (size == 0) break;
    }
  } else if (!r.header("content-length").empty()) {
    if (!read_exact(std::stoul(r.header("content-length")), r.body)) return std::nullopt;
  }
  return r;
}

bool HttpConnection::closed_within(std::chrono::milliseconds wait) {
  const auto deadline = std::chrono::steady_clock::now() + wait;
  while (std::chrono::steady_clock::now() < deadline) {
    if (ssl_ && SSL_pending(ssl_) > 0) {
      if (!fill()) return true;
      continue;
    }
    pollfd p{fd_, POLLIN, 0};
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (::poll(&p, 1, static_cast<int>(std::max<long>(0, left.count()))) <= 0) continue;
    if (!fill()) return true;
  }
  return false;
}

std::string http_request(const std::string& method,
                         const std::vector<std::pair<std::string, std::string>>& headers,
                         const std::string& body, const std::string& target) {
  std::string out = method + " " + target + " HTTP/1.1\r\n";
  for (const auto& [name, value] : headers) out += name + ": " + value + "\r\n";
  if (!body.empty() || method == "POST")
    out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  return out + "\r\n" + body;
}

}  // namespace cqda::test
