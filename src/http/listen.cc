#include "http/listen.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "common/files.h"

namespace cqda::http {
namespace {

Result<sockaddr_storage> local_address(int fd) {
  sockaddr_storage storage{};
  socklen_t length = sizeof(storage);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&storage), &length) != 0)
    return make_error("getsockname: " + errno_text(errno));
  if (storage.ss_family != AF_INET && storage.ss_family != AF_INET6)
    return make_error("getsockname: not a TCP/IP socket");
  return storage;
}

}  // namespace

Result<ListenAddress> parse_listen_address(std::string_view text) {
  auto fail = [&] {
    return make_error("listen address '" + std::string(text) +
                      "': expected ADDR:PORT such as 127.0.0.1:8765 or [::1]:8765");
  };
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return fail();
  std::string_view host = text.substr(0, colon);
  std::string_view port_text = text.substr(colon + 1);
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() ||
      port > 65535)
    return fail();
  ListenAddress out;
  out.port = static_cast<std::uint16_t>(port);
  if (host == "localhost") {
    out.address = "127.0.0.1";
    return out;
  }
  in_addr v4{};
  in6_addr v6{};
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    out.address = std::string(host.substr(1, host.size() - 2));
    if (::inet_pton(AF_INET6, out.address.c_str(), &v6) != 1) return fail();
    return out;
  }
  out.address = std::string(host);
  if (::inet_pton(AF_INET, out.address.c_str(), &v4) != 1) return fail();
  return out;
}

Result<UniqueFd> listen_tcp(const std::string& address, std::uint16_t port) {
  sockaddr_storage storage{};
  socklen_t length = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
  if (::inet_pton(AF_INET, address.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    length = sizeof(sockaddr_in);
  } else if (::inet_pton(AF_INET6, address.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    length = sizeof(sockaddr_in6);
  } else {
    return make_error("listen(" + address + "): not a numeric IPv4 or IPv6 address");
  }
  const std::string where = "(" + address + ":" + std::to_string(port) + ")";
  UniqueFd fd(::socket(storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP));
  if (!fd.valid()) return make_error("socket" + where + ": " + errno_text(errno));
  int one = 1;
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0)
    return make_error("setsockopt(SO_REUSEADDR)" + where + ": " + errno_text(errno));
  if (storage.ss_family == AF_INET6 &&
      ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) != 0)
    return make_error("setsockopt(IPV6_V6ONLY)" + where + ": " + errno_text(errno));
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&storage), length) != 0)
    return make_error("bind" + where + ": " + errno_text(errno));
  if (::listen(fd.get(), SOMAXCONN) != 0)
    return make_error("listen" + where + ": " + errno_text(errno));
  return fd;
}

Result<std::uint16_t> local_port(int fd) {
  auto address = local_address(fd);
  if (!address) return address.error();
  if (address->ss_family == AF_INET)
    return ntohs(reinterpret_cast<const sockaddr_in*>(&*address)->sin_port);
  return ntohs(reinterpret_cast<const sockaddr_in6*>(&*address)->sin6_port);
}

Result<bool> is_loopback(int fd) {
  auto address = local_address(fd);
  if (!address) return address.error();
  if (address->ss_family == AF_INET)
    return (ntohl(reinterpret_cast<const sockaddr_in*>(&*address)->sin_addr.s_addr) >> 24) == 127;
  const in6_addr& a = reinterpret_cast<const sockaddr_in6*>(&*address)->sin6_addr;
  if (IN6_IS_ADDR_LOOPBACK(&a)) return true;
  return IN6_IS_ADDR_V4MAPPED(&a) && a.s6_addr[12] == 127;
}

}  // namespace cqda::http
