#include <arpa/inet.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <string>

#include "egress/egress.h"

using namespace cqda;
using egress::AddressClass;

namespace {

egress::Address parse_ip(const std::string& text, std::uint16_t port = 443) {
  in_addr v4{};
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1)
    return egress::make_address_v4(ntohl(v4.s_addr), port);
  in6_addr v6{};
  REQUIRE(inet_pton(AF_INET6, text.c_str(), &v6) == 1);
  std::uint8_t bytes[16];
  std::memcpy(bytes, &v6, 16);
  return egress::make_address_v6(bytes, port);
}

AddressClass class_of(const std::string& text) { return egress::classify(parse_ip(text)); }

struct Case {
  const char* ip;
  AddressClass cls;
};

void check_table(std::initializer_list<Case> cases) {
  for (const Case& c : cases) {
    INFO(c.ip << " expected " << egress::address_class_name(c.cls) << ", got "
              << egress::address_class_name(class_of(c.ip)));
    CHECK(class_of(c.ip) == c.cls);
  }
}

policy::Endpoint endpoint(bool allow_private) {
  return policy::Endpoint{"test", "https", "llm.example", 443, allow_private};
}

}  // namespace

TEST_CASE("IPv4 addresses are classified by the special-purpose ranges", "[egress][classify]") {
  check_table({
      {"8.8.8.8", AddressClass::kPublic},
      {"1.1.1.1", AddressClass::kPublic},
      {"104.18.6.192", AddressClass::kPublic},
      {"172.15.255.255", AddressClass::kPublic},  // just below 172.16/12
      {"172.32.0.0", AddressClass::kPublic},      // just above
      {"100.63.255.255", AddressClass::kPublic},  // just below CGNAT
      {"100.128.0.0", AddressClass::kPublic},     // just above
      {"169.253.255.255", AddressClass::kPublic},
      {"192.0.1.1", AddressClass::kPublic},
      {"198.17.255.255", AddressClass::kPublic},
      {"198.20.0.0", AddressClass::kPublic},
      {"223.255.255.255", AddressClass::kPublic},
      {"127.0.0.1", AddressClass::kLoopback},
      {"127.255.255.254", AddressClass::kLoopback},
      {"127.1.2.3", AddressClass::kLoopback},
      {"10.0.0.1", AddressClass::kPrivate},
      {"10.255.255.255", AddressClass::kPrivate},
      {"172.16.0.1", AddressClass::kPrivate},
      {"172.31.255.255", AddressClass::kPrivate},
      {"192.168.1.1", AddressClass::kPrivate},
      {"100.64.0.1", AddressClass::kPrivate},
      {"100.127.255.255", AddressClass::kPrivate},
      {"169.254.0.1", AddressClass::kLinkLocal},
      {"169.254.169.253", AddressClass::kLinkLocal},
      {"169.254.255.255", AddressClass::kLinkLocal},
      {"169.254.169.254", AddressClass::kMetadata},
      {"169.254.170.2", AddressClass::kMetadata},
      {"100.100.100.200", AddressClass::kMetadata},
      {"0.0.0.0", AddressClass::kUnspecified},
      {"0.1.2.3", AddressClass::kUnspecified},
      {"224.0.0.1", AddressClass::kMulticast},
      {"239.255.255.250", AddressClass::kMulticast},
      {"240.0.0.1", AddressClass::kReserved},
      {"255.255.255.255", AddressClass::kReserved},
      {"192.0.0.8", AddressClass::kReserved},
      {"192.0.2.1", AddressClass::kReserved},
      {"198.51.100.7", AddressClass::kReserved},
      {"203.0.113.9", AddressClass::kReserved},
      {"198.18.0.1", AddressClass::kReserved},
      {"198.19.255.255", AddressClass::kReserved},
      {"192.88.99.1", AddressClass::kReserved},
  });
}

TEST_CASE("IPv6 addresses are classified by the special-purpose ranges", "[egress][classify]") {
  check_table({
      {"2606:4700:4700::1111", AddressClass::kPublic},
      {"2a00:1450:4001:82a::200e", AddressClass::kPublic},
      {"2001:4860:4860::8888", AddressClass::kPublic},
      {"2001:200::1", AddressClass::kPublic},  // just above 2001::/23
      {"::1", AddressClass::kLoopback},
      {"::", AddressClass::kUnspecified},
      {"fc00::1", AddressClass::kPrivate},
      {"fd12:3456:789a::1", AddressClass::kPrivate},
      {"fe80::1", AddressClass::kLinkLocal},
      {"febf:ffff::1", AddressClass::kLinkLocal},
      {"fd00:ec2::254", AddressClass::kMetadata},
      {"ff02::1", AddressClass::kMulticast},
      {"ff0e::1", AddressClass::kMulticast},
      {"::2", AddressClass::kReserved},
      {"::7f00:1", AddressClass::kReserved},            // IPv4-compatible ::127.0.0.1
      {"::8.8.8.8", AddressClass::kReserved},           // IPv4-compatible
      {"::ffff:0:a00:1", AddressClass::kReserved},      // IPv4-translated (SIIT)
      {"64:ff9b::a9fe:a9fe", AddressClass::kReserved},  // NAT64 of 169.254.169.254
      {"64:ff9b::808:808", AddressClass::kReserved},    // NAT64 of 8.8.8.8
      {"64:ff9b:1::1", AddressClass::kReserved},        // local-use NAT64
      {"100::1", AddressClass::kReserved},              // discard-only
      {"2001:db8::1", AddressClass::kReserved},
      {"2001:db8:ffff::1", AddressClass::kReserved},
      {"3fff::1", AddressClass::kReserved},
      {"2001::1", AddressClass::kReserved},    // Teredo
      {"2001:2::1", AddressClass::kReserved},  // benchmarking
      {"fec0::1", AddressClass::kReserved},    // site-local, deprecated
      {"4000::1", AddressClass::kReserved},    // outside 2000::/3
      {"5f00::1", AddressClass::kReserved},
  });
}

TEST_CASE("IPv4-mapped and 6to4 addresses are classified as the IPv4 they carry",
          "[egress][classify]") {
  check_table({
      {"::ffff:8.8.8.8", AddressClass::kPublic},
      {"::ffff:127.0.0.1", AddressClass::kLoopback},
      {"::ffff:10.1.2.3", AddressClass::kPrivate},
      {"::ffff:192.168.0.1", AddressClass::kPrivate},
      {"::ffff:169.254.1.1", AddressClass::kLinkLocal},
      {"::ffff:169.254.169.254", AddressClass::kMetadata},
      {"::ffff:100.100.100.200", AddressClass::kMetadata},
      {"::ffff:0.0.0.0", AddressClass::kUnspecified},
      {"::ffff:224.0.0.1", AddressClass::kMulticast},
      {"::ffff:192.0.2.1", AddressClass::kReserved},
      {"2002:808:808::1", AddressClass::kPublic},      // 6to4 of 8.8.8.8
      {"2002:7f00:1::1", AddressClass::kLoopback},     // 6to4 of 127.0.0.1
      {"2002:a00:1::1", AddressClass::kPrivate},       // 6to4 of 10.0.0.1
      {"2002:c0a8:101::1", AddressClass::kPrivate},    // 6to4 of 192.168.1.1
      {"2002:a9fe:a9fe::1", AddressClass::kMetadata},  // 6to4 of 169.254.169.254
  });
}

TEST_CASE("an address that is neither IPv4 nor IPv6 is reserved", "[egress][classify]") {
  egress::Address unix_address;
  unix_address.storage.ss_family = AF_UNIX;
  unix_address.length = sizeof(sa_family_t);
  CHECK(egress::classify(unix_address) == AddressClass::kReserved);
  CHECK(egress::classify(egress::Address{}) == AddressClass::kReserved);
}

TEST_CASE("addresses print with their port", "[egress][classify]") {
  CHECK(parse_ip("127.0.0.1", 8080).text() == "127.0.0.1:8080");
  CHECK(parse_ip("::1", 443).text() == "[::1]:443");
  CHECK(parse_ip("::ffff:10.0.0.1", 80).text() == "[::ffff:10.0.0.1]:80");
  CHECK(parse_ip("169.254.169.254").ip_text() == "169.254.169.254");
  CHECK(parse_ip("fd00:ec2::254").ip_text() == "fd00:ec2::254");
  CHECK(egress::address_class_name(AddressClass::kLinkLocal) == "link-local");
  CHECK(egress::address_class_name(AddressClass::kMetadata) == "metadata");
}

TEST_CASE("public addresses are always allowed, local ones only with allow_private",
          "[egress][allow]") {
  struct Expectation {
    AddressClass cls;
    bool without_private;
    bool with_private;
  };
  for (const Expectation& e : {
           Expectation{AddressClass::kPublic, true, true},
           Expectation{AddressClass::kLoopback, false, true},
           Expectation{AddressClass::kPrivate, false, true},
           Expectation{AddressClass::kLinkLocal, false, true},
           Expectation{AddressClass::kMetadata, false, false},
           Expectation{AddressClass::kUnspecified, false, false},
           Expectation{AddressClass::kMulticast, false, false},
           Expectation{AddressClass::kReserved, false, false},
       }) {
    INFO(egress::address_class_name(e.cls));
    CHECK(egress::address_allowed(e.cls, endpoint(false)) == e.without_private);
    CHECK(egress::address_allowed(e.cls, endpoint(true)) == e.with_private);
  }
}
