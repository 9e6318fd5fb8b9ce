// Socket addresses and their classification (RFC 6890 special-purpose registries, plus the
// cloud metadata services an SSRF would aim at).
#include <arpa/inet.h>
#include <net/if.h>

#include <array>
#include <cstring>

#include "egress/egress.h"

namespace cqda::egress {
namespace {

struct V4Range {
  std::uint32_t prefix;  // host order
  int length;
  AddressClass cls;
};

constexpr std::uint32_t v4(unsigned a, unsigned b, unsigned c, unsigned d) {
  return (a << 24) | (b << 16) | (c << 8) | d;
}

// First match wins, so the single metadata addresses come before the ranges holding them.
// Anything not listed is public.
constexpr std::array kV4Ranges{
    V4Range{v4(169, 254, 169, 254), 32, AddressClass::kMetadata},  // AWS, GCP, Azure, OpenStack
    V4Range{v4(169, 254, 170, 2), 32, AddressClass::kMetadata},    // AWS ECS task credentials
    V4Range{v4(100, 100, 100, 200), 32, AddressClass::kMetadata},  // Alibaba Cloud
    V4Range{v4(0, 0, 0, 0), 8, AddressClass::kUnspecified},  // "this network"; 0.0.0.0 = localhost
    V4Range{v4(127, 0, 0, 0), 8, AddressClass::kLoopback},
    V4Range{v4(10, 0, 0, 0), 8, AddressClass::kPrivate},      // RFC 1918
    V4Range{v4(172, 16, 0, 0), 12, AddressClass::kPrivate},   // RFC 1918
    V4Range{v4(192, 168, 0, 0), 16, AddressClass::kPrivate},  // RFC 1918
    V4Range{v4(100, 64, 0, 0), 10, AddressClass::kPrivate},   // CGNAT, RFC 6598
    V4Range{v4(169, 254, 0, 0), 16, AddressClass::kLinkLocal},
    V4Range{v4(192, 0, 0, 0), 24, AddressClass::kReserved},     // IETF protocol assignments
    V4Range{v4(192, 0, 2, 0), 24, AddressClass::kReserved},     // TEST-NET-1
    V4Range{v4(198, 51, 100, 0), 24, AddressClass::kReserved},  // TEST-NET-2
    V4Range{v4(203, 0, 113, 0), 24, AddressClass::kReserved},   // TEST-NET-3
    V4Range{v4(198, 18, 0, 0), 15, AddressClass::kReserved},    // benchmarking, RFC 2544
    V4Range{v4(192, 88, 99, 0), 24, AddressClass::kReserved},   // 6to4 relay anycast (retired)
    V4Range{v4(224, 0, 0, 0), 4, AddressClass::kMulticast},
    V4Range{v4(240, 0, 0, 0), 4, AddressClass::kReserved},  // incl. 255.255.255.255
};

AddressClass classify_v4(std::uint32_t ip) {
  for (const V4Range& r : kV4Ranges) {
    std::uint32_t mask = r.length == 0 ? 0 : ~std::uint32_t{0} << (32 - r.length);
    if ((ip & mask) == r.prefix) return r.cls;
  }
  return AddressClass::kPublic;
}

using V6Bytes = std::array<std::uint8_t, 16>;

// Whether the first `bits` bits of `ip` equal those of `prefix` (missing bytes are zero).
bool has_prefix(const V6Bytes& ip, const V6Bytes& prefix, int bits) {
  for (std::size_t i = 0; bits > 0; ++i, bits -= 8) {
    std::uint8_t mask = bits >= 8 ? 0xff : static_cast<std::uint8_t>(0xff << (8 - bits));
    if ((ip[i] & mask) != (prefix[i] & mask)) return false;
  }
  return true;
}

std::uint32_t v4_at(const V6Bytes& ip, int offset) {
  return (std::uint32_t{ip[offset]} << 24) | (std::uint32_t{ip[offset + 1]} << 16) |
         (std::uint32_t{ip[offset + 2]} << 8) | std::uint32_t{ip[offset + 3]};
}

AddressClass classify_v6(const V6Bytes& ip) {
  static constexpr V6Bytes kLoopback{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  static constexpr V6Bytes kAwsMetadata{0xfd, 0, 0x0e, 0xc2, 0, 0, 0,    0,
                                        0,    0, 0,    0,    0, 0, 0x02, 0x54};
  if (ip == V6Bytes{}) return AddressClass::kUnspecified;
  if (ip == kLoopback) return AddressClass::kLoopback;
  if (ip == kAwsMetadata) return AddressClass::kMetadata;
  // ::ffff:a.b.c.d reaches the IPv4 host on a dual-stack socket, so it is that host.
  if (has_prefix(ip, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}, 96))
    return classify_v4(v4_at(ip, 12));
  // NAT64 (64:ff9b::/96 and the local-use 64:ff9b:1::/48) translates to any IPv4,
  // private ones included, behind the check's back.
  if (has_prefix(ip, {0, 0x64, 0xff, 0x9b}, 32)) return AddressClass::kReserved;
  // ::a.b.c.d (IPv4-compatible, deprecated) and the rest of ::/8.
  if (has_prefix(ip, {0}, 8)) return AddressClass::kReserved;
  if (has_prefix(ip, {0x01, 0x00, 0, 0, 0, 0, 0, 0}, 64))
    return AddressClass::kReserved;  // discard
  if (has_prefix(ip, {0x20, 0x01, 0x0d, 0xb8}, 32))
    return AddressClass::kReserved;                                      // documentation
  if (has_prefix(ip, {0x3f, 0xff}, 20)) return AddressClass::kReserved;  // documentation, RFC 9637
  // 2001::/23: IETF protocol assignments (Teredo, which tunnels to any IPv4, benchmarking,
  // ORCHID, AMT, ...). No LLM endpoint lives there.
  if (has_prefix(ip, {0x20, 0x01, 0x00}, 23)) return AddressClass::kReserved;
  // 6to4 carries an IPv4 in bits 16..47 and a relay would deliver to it, so the address
  // is only as public as that IPv4.
  if (has_prefix(ip, {0x20, 0x02}, 16)) {
    return classify_v4(v4_at(ip, 2));
  }
  if (has_prefix(ip, {0xfc}, 7)) return AddressClass::kPrivate;  // unique local
  if (has_prefix(ip, {0xfe, 0x80}, 10)) return AddressClass::kLinkLocal;
  if (has_prefix(ip, {0xff}, 8)) return AddressClass::kMulticast;
  // Outside 2000::/3 nothing is assigned for global unicast (fec0::/10 site-local included).
  if (!has_prefix(ip, {0x20}, 3)) return AddressClass::kReserved;
  return AddressClass::kPublic;
}

}  // namespace

std::string_view address_class_name(AddressClass c) {
  switch (c) {
    case AddressClass::kPublic:
      return "public";
    case AddressClass::kLoopback:
      return "loopback";
    case AddressClass::kPrivate:
      return "private";
    case AddressClass::kLinkLocal:
      return "link-local";
    case AddressClass::kMetadata:
      return "metadata";
    case AddressClass::kUnspecified:
      return "unspecified";
    case AddressClass::kMulticast:
      return "multicast";
    case AddressClass::kReserved:
      return "reserved";
  }
  return "unknown";
}

std::string Address::ip_text() const {
  char buffer[INET6_ADDRSTRLEN + IF_NAMESIZE + 2] = {};
  if (storage.ss_family == AF_INET && length >= sizeof(sockaddr_in)) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&storage);
    if (!inet_ntop(AF_INET, &in->sin_addr, buffer, sizeof buffer)) return "?";
    return buffer;
  }
  if (storage.ss_family == AF_INET6 && length >= sizeof(sockaddr_in6)) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&storage);
    if (!inet_ntop(AF_INET6, &in6->sin6_addr, buffer, sizeof buffer)) return "?";
    std::string text = buffer;
    if (in6->sin6_scope_id != 0) text += "%" + std::to_string(in6->sin6_scope_id);
    return text;
  }
  return "(address family " + std::to_string(storage.ss_family) + ")";
}

std::string Address::text() const {
  if (storage.ss_family == AF_INET && length >= sizeof(sockaddr_in)) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&storage);
    return ip_text() + ":" + std::to_string(ntohs(in->sin_port));
  }
  if (storage.ss_family == AF_INET6 && length >= sizeof(sockaddr_in6)) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&storage);
    return "[" + ip_text() + "]:" + std::to_string(ntohs(in6->sin6_port));
  }
  return ip_text();
}

Address make_address_v4(std::uint32_t host_order_ip, std::uint16_t port) {
  Address address;
  auto* in = reinterpret_cast<sockaddr_in*>(&address.storage);
  in->sin_family = AF_INET;
  in->sin_port = htons(port);
  in->sin_addr.s_addr = htonl(host_order_ip);
  address.length = sizeof(sockaddr_in);
  return address;
}

Address make_address_v6(const std::uint8_t bytes[16], std::uint16_t port) {
  Address address;
  auto* in6 = reinterpret_cast<sockaddr_in6*>(&address.storage);
  in6->sin6_family = AF_INET6;
  in6->sin6_port = htons(port);
  std::memcpy(&in6->sin6_addr, bytes, 16);
  address.length = sizeof(sockaddr_in6);
  return address;
}

AddressClass classify(const Address& address) {
  if (address.storage.ss_family == AF_INET && address.length >= sizeof(sockaddr_in)) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&address.storage);
    return classify_v4(ntohl(in->sin_addr.s_addr));
  }
  if (address.storage.ss_family == AF_INET6 && address.length >= sizeof(sockaddr_in6)) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&address.storage);
    V6Bytes ip;
    std::memcpy(ip.data(), &in6->sin6_addr, 16);
    return classify_v6(ip);
  }
  return AddressClass::kReserved;  // not an IP address: never connect to it
}

bool address_allowed(AddressClass c, const policy::Endpoint& endpoint) {
  switch (c) {
    case AddressClass::kPublic:
      return true;
    // A local LLM (Ollama on the host or a compose network) is a deliberate, per-endpoint
    // choice in the policy.
    case AddressClass::kLoopback:
    case AddressClass::kPrivate:
    case AddressClass::kLinkLocal:
      return endpoint.allow_private;
    // Metadata hands out cloud credentials; the rest is not a server anyone means to reach.
    case AddressClass::kMetadata:
    case AddressClass::kUnspecified:
    case AddressClass::kMulticast:
    case AddressClass::kReserved:
      return false;
  }
  return false;
}

}  // namespace cqda::egress
