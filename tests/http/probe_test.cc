// `cqda healthcheck`'s probe against a real server: healthy means the edge answered 401 to a
// request without a token; a wrong pinned certificate, a wrong transport or no listener is
// unhealthy, with the step that failed named.
#include <catch2/catch.hpp>

#include "http/listen.h"
#include "http/probe.h"
#include "http/server_fixture.h"

using namespace cqda;
using namespace cqda::test;

namespace {

http::ProbeOptions probe_for(std::uint16_t port, bool tls) {
  http::ProbeOptions o;
  o.address = {"127.0.0.1", port};
  o.tls = tls;
  o.timeout = std::chrono::milliseconds(3000);
  return o;
}

}  // namespace

TEST_CASE("healthcheck probe: a TLS server's edge answers 401, with or without the pinned certificate", "[http]") {
  ServerFixture fixture;
  auto o = probe_for(fixture.port(), true);
  auto result = http::probe_server(o);
  REQUIRE(result);
  CHECK(result->status == 401);
  CHECK(result->summary.find("https://127.0.0.1:") != std::string::npos);

  o.pinned_certificate_pem = test_certificates().server_chain;
  result = http::probe_server(o);
  REQUIRE(result);
  CHECK(result->status == 401);

  // Another server certificate (a fresh CA's) is not the one the server presents.
  auto other = http::make_certificates();
  REQUIRE(other);
  o.pinned_certificate_pem = other->server_chain;
  result = http::probe_server(o);
  REQUIRE_FALSE(result);
  CHECK(result.error().message.find("other than the pinned") != std::string::npos);

  o.pinned_certificate_pem = "not a certificate";
  CHECK_FALSE(http::probe_server(o));
}

TEST_CASE("healthcheck probe: the wrong transport or no listener is unhealthy", "[http]") {
  ServerFixture tls_server;
  // Plain HTTP to a TLS port: no HTTP answer comes back.
  CHECK_FALSE(http::probe_server(probe_for(tls_server.port(), false)));

  ServerFixture plain_server({}, http::Transport::kPlainLoopback);
  auto plain = http::probe_server(probe_for(plain_server.port(), false));
  REQUIRE(plain);
  CHECK(plain->status == 401);
  // TLS to a plain HTTP port: the handshake fails.
  auto handshake = http::probe_server(probe_for(plain_server.port(), true));
  REQUIRE_FALSE(handshake);
  CHECK(handshake.error().message.find("TLS handshake") != std::string::npos);

  // A port nobody listens on.
  auto closed = http::listen_tcp("127.0.0.1", 0);
  REQUIRE(closed);
  auto port = http::local_port(closed->get());
  REQUIRE(port);
  closed->reset();
  auto refused = http::probe_server(probe_for(*port, true));
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message.find("connect") != std::string::npos);
}
