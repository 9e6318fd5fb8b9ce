// Outbound connections on the policy's allow-list, made by the supervisor on behalf of the
// LLM caller (sandbox2's network proxy: the caller receives a socket that is already
// connected and never gets socket(), connect() or DNS itself).
//
// Order of checks, each before a byte is sent: the URL parses and its scheme/host/port
// match an endpoint of `egress.endpoints` exactly; the host resolves; *every* resolved
// address is allowed for that endpoint (a name that answers with one forbidden address is
// refused as a whole, so DNS cannot steer the connection); then a non-blocking connect with
// a deadline to the allowed addresses in order.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/fd.h"
#include "common/result.h"
#include "policy/policy.h"

namespace cqda::egress {

enum class AddressClass {
  kPublic,
  kLoopback,     // 127/8, ::1
  kPrivate,      // 10/8, 172.16/12, 192.168/16, 100.64/10 (CGNAT), fc00::/7
  kLinkLocal,    // 169.254/16, fe80::/10
  kMetadata,     // cloud instance metadata: 169.254.169.254, 169.254.170.2 (ECS task
                 // credentials), 100.100.100.200, fd00:ec2::254
  kUnspecified,  // 0.0.0.0/8, ::
  kMulticast,    // 224/4, ff00::/8
  kReserved,     // 240/4 incl. 255.255.255.255, documentation ranges, 64:ff9b::/96 etc.
};
std::string_view address_class_name(AddressClass c);

struct Address {
  sockaddr_storage storage{};
  socklen_t length = 0;
  std::string text() const;     // "127.0.0.1:8080", "[::1]:443"
  std::string ip_text() const;  // without the port: "127.0.0.1", "::1"
};
Address make_address_v4(std::uint32_t host_order_ip, std::uint16_t port);
Address make_address_v6(const std::uint8_t bytes[16], std::uint16_t port);

// IPv4-mapped IPv6 addresses are classified as the IPv4 address they carry; so is the
// IPv4 inside a 6to4 address (2002::/16) when that IPv4 is not public. Anything that is
// neither AF_INET nor AF_INET6, and IPv6 outside the global unicast 2000::/3 that no rule
// names, is kReserved (deny by default).
AddressClass classify(const Address& address);

// Public addresses are always allowed; loopback, private and link-local only for an
// endpoint with allow_private; metadata, unspecified, multicast and reserved never.
bool address_allowed(AddressClass c, const policy::Endpoint& endpoint);

// scheme://host[:port][/path...]; lower-cased scheme and host, default port by scheme.
// Strict, because the parse decides where data goes: only http and https; no userinfo
// ("https://api.openai.com@evil.example/" is refused, not guessed at); IPv6 literals only
// in brackets and without a zone; port 1..65535; no fragment; ASCII without spaces,
// control characters or backslashes (IDNs must be given in punycode); a host ending in a
// numeric label must be a dotted-quad IPv4 (no "127.1", "2130706433" or "0x7f.0.0.1").
struct Url {
  std::string scheme;
  std::string host;  // without brackets for IPv6 literals
  std::uint16_t port = 0;
  std::string target = "/";  // path and query
};
Result<Url> parse_url(std::string_view url);

// The allow-listed endpoint whose scheme, host and port equal the URL's, or an error that
// names the URL and says it is not on the allow-list.
Result<const policy::Endpoint*> find_endpoint(const policy::EgressPolicy& egress, const Url& url);

using Resolver = std::function<Result<std::vector<Address>>(const std::string& host, std::uint16_t port)>;
// getaddrinfo (AI_ADDRCONFIG, SOCK_STREAM); the supervisor's only DNS.
Resolver system_resolver();

struct Connection {
  UniqueFd fd;  // connected TCP socket, blocking, close-on-exec
  Address address;
  const policy::Endpoint* endpoint = nullptr;  // points into the EgressPolicy passed in
};

// The whole check-then-connect sequence described above. The resolver decides only the
// IP addresses: every address is connected on the URL's port, whatever port it carries.
// `timeout` bounds all connect attempts together; an error lists every address tried.
Result<Connection> connect_allowed(const policy::EgressPolicy& egress, std::string_view url,
                                   const Resolver& resolver, std::chrono::milliseconds timeout);

}  // namespace cqda::egress
