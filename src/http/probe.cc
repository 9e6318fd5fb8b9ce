#include "http/probe.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/pem.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "common/fd.h"
#include "common/files.h"
#include "http/openssl_ptr.h"
#include "http/tls.h"

namespace cqda::http {
namespace {

Result<UniqueFd> connect_with_timeout(const ListenAddress& a, std::chrono::milliseconds timeout) {
  sockaddr_storage storage{};
  socklen_t length = 0;
  int family = AF_INET;
  if (a.address.find(':') != std::string::npos) {
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
    if (inet_pton(AF_INET6, a.address.c_str(), &v6->sin6_addr) != 1) return make_error("not an IPv6 address: " + a.address);
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(a.port);
    length = sizeof *v6;
    family = AF_INET6;
  } else {
    auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
    if (inet_pton(AF_INET, a.address.c_str(), &v4->sin_addr) != 1) return make_error("not an IPv4 address: " + a.address);
    v4->sin_family = AF_INET;
    v4->sin_port = htons(a.port);
    length = sizeof *v4;
  }
  UniqueFd fd(::socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd.valid()) return make_error("socket: " + errno_text(errno));
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&storage), length) != 0) {
    if (errno != EINPROGRESS) return make_error("connect: " + errno_text(errno));
    pollfd p{fd.get(), POLLOUT, 0};
    int ready;
    do ready = ::poll(&p, 1, static_cast<int>(timeout.count()));
    while (ready < 0 && errno == EINTR);
    if (ready == 0) return make_error("connect: no answer within " + std::to_string(timeout.count()) + " ms");
    if (ready < 0) return make_error("poll: " + errno_text(errno));
    int err = 0;
    socklen_t err_len = sizeof err;
    if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &err_len) != 0) err = errno;
    if (err != 0) return make_error("connect: " + errno_text(err));
  }
  // Blocking from here on, with the same bound on every read and write.
  timeval tv{static_cast<time_t>(timeout.count() / 1000), static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
  if (::fcntl(fd.get(), F_SETFL, 0) != 0) return make_error("fcntl: " + errno_text(errno));
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0 ||
      ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) != 0)
    return make_error("setsockopt: " + errno_text(errno));
  return fd;
}

Result<CertPtr> first_certificate(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return make_error("out of memory");
  CertPtr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return make_error("the pinned certificate is not PEM: " + openssl_errors());
  return cert;
}

// Reads until the end of the status line (or the peer closes, or the bound is reached).
template <class ReadFn>
Result<int> read_status(ReadFn read_some) {
  std::string head;
  char buf[512];
  while (head.find("\r\n") == std::string::npos && head.size() < 4096) {
    int n = read_some(buf, sizeof buf);
    if (n <= 0) break;
    head.append(buf, static_cast<std::size_t>(n));
  }
  // "HTTP/1.1 401 Unauthorized"
  if (head.size() < 12 || head.compare(0, 7, "HTTP/1.") != 0 || head[8] != ' ')
    return make_error(head.empty() ? "the server closed the connection without answering" : "the answer is not HTTP/1.x");
  int status = 0;
  for (int i = 9; i < 12; ++i) {
    if (head[i] < '0' || head[i] > '9') return make_error("the answer has no status code");
    status = status * 10 + (head[i] - '0');
  }
  return status;
}

}  // namespace

Result<ProbeResult> probe_server(const ProbeOptions& o) {
  auto fd = connect_with_timeout(o.address, o.timeout);
  if (!fd) return fd.error();
  const bool v6 = o.address.address.find(':') != std::string::npos;
  const std::string authority = (v6 ? "[" + o.address.address + "]" : o.address.address) + ":" + std::to_string(o.address.port);
  const std::string request = "GET /mcp HTTP/1.1\r\nHost: " + authority +
                              "\r\nAccept: application/json, text/event-stream\r\nConnection: close\r\n\r\n";
  const std::string url = std::string(o.tls ? "https://" : "http://") + authority + "/mcp";
  ProbeResult result;
  if (!o.tls) {
    if (::send(fd->get(), request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size()))
      return make_error("send: " + errno_text(errno));
    auto status = read_status([&](char* b, std::size_t n) { return static_cast<int>(::recv(fd->get(), b, n, 0)); });
    if (!status) return status.error();
    result.status = *status;
    result.summary = std::to_string(*status) + " from " + url;
    return result;
  }
  SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx) return make_error("TLS: " + openssl_errors());
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  // The chain is not verified against a trust store: the probe speaks to the address it was
  // given (a loopback one in the container) and sends no secret. A pin, when given, is checked
  // below and is stronger than a chain check.
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
  SslPtr ssl(SSL_new(ctx.get()));
  if (!ssl || SSL_set_fd(ssl.get(), fd->get()) != 1) return make_error("TLS: " + openssl_errors());
  if (SSL_connect(ssl.get()) != 1) return make_error("TLS handshake with " + authority + " failed: " + openssl_errors());
  if (o.pinned_certificate_pem) {
    auto pinned = first_certificate(*o.pinned_certificate_pem);
    if (!pinned) return pinned.error();
    CertPtr peer(SSL_get1_peer_certificate(ssl.get()));
    if (!peer || X509_cmp(peer.get(), pinned->get()) != 0)
      return make_error("the server at " + authority + " presented a certificate other than the pinned one");
  }
  if (SSL_write(ssl.get(), request.data(), static_cast<int>(request.size())) != static_cast<int>(request.size()))
    return make_error("TLS write: " + openssl_errors());
  auto status = read_status([&](char* b, std::size_t n) { return SSL_read(ssl.get(), b, static_cast<int>(n)); });
  if (!status) return status.error();
  result.status = *status;
  result.summary = std::to_string(*status) + " from " + url + " (" + SSL_get_version(ssl.get()) + ")";
  return result;
}

}  // namespace cqda::http
