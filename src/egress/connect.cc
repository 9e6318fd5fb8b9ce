// Name resolution and the check-then-connect sequence. Nothing here writes to a socket:
// the caller receives a bare connected TCP socket and speaks TLS/HTTP over it itself.
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <memory>

#include "common/files.h"
#include "egress/egress.h"

namespace cqda::egress {
namespace {

using Clock = std::chrono::steady_clock;

// A resolver answer longer than this is not a real service; refuse instead of trying it all.
constexpr std::size_t kMaxAddresses = 64;

struct AddrinfoDeleter {
  void operator()(addrinfo* list) const { freeaddrinfo(list); }
};
using AddrinfoList = std::unique_ptr<addrinfo, AddrinfoDeleter>;

// The resolver decides which host, the policy decides which port.
Result<Address> with_port(const Address& resolved, std::uint16_t port) {
  Address address = resolved;
  if (address.storage.ss_family == AF_INET && address.length == sizeof(sockaddr_in)) {
    reinterpret_cast<sockaddr_in*>(&address.storage)->sin_port = htons(port);
    return address;
  }
  if (address.storage.ss_family == AF_INET6 && address.length == sizeof(sockaddr_in6)) {
    reinterpret_cast<sockaddr_in6*>(&address.storage)->sin6_port = htons(port);
    return address;
  }
  return make_error("address family " + std::to_string(address.storage.ss_family) +
                    " is not IPv4 or IPv6");
}

int remaining_ms(Clock::time_point deadline) {
  auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
  if (left <= 0) return 0;
  return left > INT_MAX ? INT_MAX : static_cast<int>(left);
}

// One non-blocking connect, waited for until `deadline`. On success the socket is blocking.
Result<UniqueFd> connect_one(const Address& address, Clock::time_point deadline) {
  UniqueFd fd(
      ::socket(address.storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_TCP));
  if (!fd.valid()) return make_error("socket: " + errno_text(errno));

  int rc = ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address.storage), address.length);
  // An interrupted connect carries on in the background just like EINPROGRESS (calling
  // connect again would only report EALREADY), so both are waited for with poll.
  if (rc != 0 && errno != EINPROGRESS && errno != EINTR)
    return make_error("connect: " + errno_text(errno));

  if (rc != 0) {
    pollfd waiting{fd.get(), POLLOUT, 0};
    while (true) {
      int wait_ms = remaining_ms(deadline);
      if (wait_ms == 0) return make_error("connect: timed out");
      int ready = ::poll(&waiting, 1, wait_ms);
      if (ready > 0) break;
      if (ready < 0 && errno != EINTR) return make_error("poll: " + errno_text(errno));
    }
    int so_error = 0;
    socklen_t size = sizeof so_error;
    if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &so_error, &size) != 0)
      return make_error("getsockopt(SO_ERROR): " + errno_text(errno));
    if (so_error != 0) return make_error("connect: " + errno_text(so_error));
  }

  int flags = ::fcntl(fd.get(), F_GETFL);
  if (flags < 0 || ::fcntl(fd.get(), F_SETFL, flags & ~O_NONBLOCK) != 0)
    return make_error("fcntl(O_NONBLOCK): " + errno_text(errno));
  return fd;
}

}  // namespace

Resolver system_resolver() {
  return [](const std::string& host, std::uint16_t port) -> Result<std::vector<Address>> {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    // No IPv6 answers on a host without IPv6, which would only fail to connect.
    hints.ai_flags = AI_ADDRCONFIG | AI_NUMERICSERV;
    addrinfo* raw = nullptr;
    int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &raw);
    AddrinfoList list(raw);
    if (rc != 0) {
      std::string reason = rc == EAI_SYSTEM ? errno_text(errno) : ::gai_strerror(rc);
      return make_error("resolving " + host + ": " + reason);
    }
    std::vector<Address> addresses;
    for (const addrinfo* ai = list.get(); ai != nullptr; ai = ai->ai_next) {
      if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
          ai->ai_addrlen > sizeof(sockaddr_storage))
        continue;
      if (addresses.size() == kMaxAddresses)
        return make_error("resolving " + host + ": more than " + std::to_string(kMaxAddresses) +
                          " addresses");
      Address address;
      std::memcpy(&address.storage, ai->ai_addr, ai->ai_addrlen);
      address.length = ai->ai_addrlen;
      addresses.push_back(address);
    }
    if (addresses.empty()) return make_error("resolving " + host + ": no IPv4 or IPv6 address");
    return addresses;
  };
}

Result<Connection> connect_allowed(const policy::EgressPolicy& egress, std::string_view url_text,
                                   const Resolver& resolver, std::chrono::milliseconds timeout) {
  Clock::time_point deadline = Clock::now() + timeout;
  auto url = parse_url(url_text);
  if (!url) return url.error();
  auto endpoint = find_endpoint(egress, *url);
  if (!endpoint) return endpoint.error();

  auto resolved = resolver(url->host, url->port);
  if (!resolved) return resolved.error();
  if (resolved->empty()) return make_error(url->host + " resolves to no address");
  if (resolved->size() > kMaxAddresses)
    return make_error(url->host + " resolves to more than " + std::to_string(kMaxAddresses) +
                      " addresses");

  // Every address is checked before any is tried: one forbidden answer refuses the name.
  std::vector<Address> targets;
  for (const Address& answer : *resolved) {
    auto address = with_port(answer, url->port);
    if (!address)
      return make_error(url->host + " resolves to an unusable address: " + address.error().message);
    AddressClass cls = classify(*address);
    // Plain HTTP crosses no network it does not own: loopback or a private network only.
    if (url->scheme == "http" && cls == AddressClass::kPublic)
      return make_error(url->host + " resolves to " + address->ip_text() +
                        " (public): plain http is refused to a public address; use https");
    if (!address_allowed(cls, **endpoint)) {
      return make_error(url->host + " resolves to " + address->ip_text() + " (" +
                        std::string(address_class_name(cls)) + "): refused by the egress policy");
    }
    targets.push_back(*address);
  }

  std::string failures;
  for (const Address& address : targets) {
    auto fd = connect_one(address, deadline);
    if (fd) return Connection{std::move(*fd), address, *endpoint};
    failures += (failures.empty() ? "" : "; ") + address.text() + ": " + fd.error().message;
    if (remaining_ms(deadline) == 0) break;
  }
  return make_error("connecting to " + url->host + " (" + (*endpoint)->name + ") within " +
                    std::to_string(timeout.count()) + " ms failed: " + failures);
}

}  // namespace cqda::egress
