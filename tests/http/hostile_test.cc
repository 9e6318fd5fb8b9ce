// Hostile clients at the edge, over real sockets: tokens, Host and Origin, framing, sizes,
// media types, request rates, slow and idle connections, the connection cap.
#include <sys/resource.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "http/server_fixture.h"

using namespace cqda;
using namespace cqda::test;

namespace {

// Sends raw bytes on a fresh connection and reads one response.
HttpResponse roundtrip(ServerFixture& fixture, const std::string& bytes) {
  auto connection = fixture.connect();
  REQUIRE(connection->send(bytes));
  auto response = connection->read_response();
  REQUIRE(response);
  return *response;
}

Headers without(Headers headers, const std::string& name) {
  std::erase_if(headers, [&](const auto& h) { return h.first == name; });
  return headers;
}

Headers with(Headers headers, const std::string& name, const std::string& value) {
  headers = without(std::move(headers), name);
  headers.emplace_back(name, value);
  return headers;
}

}  // namespace

TEST_CASE("bearer token: missing, wrong or another scheme gets 401 with a challenge", "[http]") {
  ServerFixture fixture;
  const std::string body = initialize_body();
  auto missing =
      roundtrip(fixture, http_request("POST", without(fixture.headers(), "Authorization"), body));
  CHECK(missing.status == 401);
  CHECK(missing.header("www-authenticate") == R"(Bearer realm="cqda")");
  CHECK(missing.header("connection") == "close");
  auto wrong = roundtrip(fixture, http_request("POST",
                                               with(fixture.headers(), "Authorization",
                                                    "Bearer test-token-0123456789abcdeX"),
                                               body));
  CHECK(wrong.status == 401);
  CHECK(wrong.header("www-authenticate") == R"(Bearer realm="cqda", error="invalid_token")");
  CHECK(roundtrip(fixture,
                  http_request(
                      "POST", with(fixture.headers(), "Authorization", "Basic dGVzdDp0ZXN0"), body))
            .status == 401);
  CHECK(roundtrip(fixture, http_request("POST",
                                        with(fixture.headers(), "Authorization",
                                             std::string("Bearer ") + kToken + "x"),
                                        body))
            .status == 401);
  Headers twice = fixture.headers();
  twice.emplace_back("Authorization", std::string("Bearer ") + kToken);
  CHECK(roundtrip(fixture, http_request("POST", twice, body)).status == 401);
  CHECK(roundtrip(fixture, http_request("POST",
                                        with(fixture.headers(), "Authorization",
                                             std::string("bearer ") + kToken),
                                        body))
            .status == 200);
  CHECK(fixture.server().open_sessions() == 1);
}

TEST_CASE("Host and Origin are checked before anything else is looked at", "[http]") {
  ServerFixture fixture;
  const std::string port = std::to_string(fixture.port());
  const std::string other_port =
      std::to_string(fixture.port() == 65535 ? 65534 : fixture.port() + 1);
  const std::string body = initialize_body();
  for (const std::string& host : {"127.0.0.1:" + port, "LOCALHOST:" + port, "[::1]:" + port}) {
    INFO(host);
    CHECK(roundtrip(fixture, http_request("POST", with(fixture.headers(), "Host", host), body))
              .status == 200);
  }
  for (const std::string& host : {"evil.com:" + port, "localhost.evil.com:" + port,
                                  "localhost:" + other_port, std::string("localhost")})
    CHECK(roundtrip(fixture, http_request("POST", with(fixture.headers(), "Host", host), body))
              .status == 403);
  for (const std::string& host : {std::string("127.0.0.1:evil.com"), "localhost:" + port + "@evil",
                                  std::string("localhost:"), std::string("[::1"), "a b:" + port})
    CHECK(roundtrip(fixture, http_request("POST", with(fixture.headers(), "Host", host), body))
              .status == 400);
  CHECK(roundtrip(fixture, http_request("POST", without(fixture.headers(), "Host"), body)).status ==
        400);
  Headers two_hosts = fixture.headers();
  two_hosts.emplace_back("Host", fixture.host());
  CHECK(roundtrip(fixture, http_request("POST", two_hosts, body)).status == 400);

  for (const std::string& origin :
       {"https://localhost:" + port, "https://127.0.0.1:" + port, "https://[::1]:" + port}) {
    INFO(origin);
    CHECK(roundtrip(fixture, http_request("POST", with(fixture.headers(), "Origin", origin), body))
              .status == 200);
  }
  for (const std::string& origin :
       {std::string("null"), "https://evil.com:" + port, "http://localhost:" + port,
        "https://localhost:" + other_port, std::string("https://localhost"),
        "https://localhost:" + port + "/", "https://localhost:" + port + ".evil.com",
        std::string("")}) {
    INFO(origin);
    auto refused =
        roundtrip(fixture, http_request("POST", with(fixture.headers(), "Origin", origin), body));
    CHECK(refused.status == 403);
    CHECK(refused.header("access-control-allow-origin").empty());
  }
  // A foreign Origin is refused even without a token: nothing else is examined first.
  CHECK(roundtrip(fixture, http_request("POST",
                                        with(without(fixture.headers(), "Authorization"), "Origin",
                                             "https://evil.com"),
                                        body))
            .status == 403);
}

TEST_CASE("framing: Transfer-Encoding other than chunked, TE with Content-Length, repeated lengths",
          "[http]") {
  ServerFixture fixture;
  const std::string body = initialize_body();
  auto framed = [&](const Headers& extra, const std::string& payload) {
    std::string head = "POST /mcp HTTP/1.1\r\n";
    for (const auto& [name, value] : fixture.headers()) head += name + ": " + value + "\r\n";
    for (const auto& [name, value] : extra) head += name + ": " + value + "\r\n";
    return roundtrip(fixture, head + "\r\n" + payload);
  };
  auto chunked = [](const std::string& data) {
    char size[16];
    std::snprintf(size, sizeof(size), "%zx", data.size());
    return std::string(size) + "\r\n" + data + "\r\n0\r\n\r\n";
  };
  const std::string length = std::to_string(body.size());
  CHECK(framed({{"Transfer-Encoding", "chunked"}}, chunked(body)).status == 200);
  CHECK(framed({{"Transfer-Encoding", "gzip"}}, body).status == 400);
  CHECK(framed({{"Transfer-Encoding", "chunked, identity"}}, chunked(body)).status == 400);
  CHECK(framed({{"Transfer-Encoding", "identity, chunked"}}, chunked(body)).status == 400);
  CHECK(framed({{"Transfer-Encoding", "chunked"}, {"Content-Length", length}}, chunked(body))
            .status == 400);
  CHECK(framed({{"Content-Length", length}, {"Transfer-Encoding", "chunked"}}, chunked(body))
            .status == 400);
  CHECK(framed({{"Transfer-Encoding", "gzip"}, {"Content-Length", length}}, body).status == 400);
  CHECK(framed({{"Content-Length", length}, {"Content-Length", length}}, body).status == 400);
  CHECK(framed({{"Content-Length", length + ", " + length}}, body).status == 400);
  CHECK(framed({{"Content-Length", "+" + length}}, body).status == 400);
  CHECK(roundtrip(fixture,
                  "POST /mcp HTTP/1.0\r\nHost: " + fixture.host() + "\r\nContent-Length: 0\r\n\r\n")
            .status == 505);
  CHECK(roundtrip(fixture, "GARBAGE\r\n\r\n").status == 400);
}

TEST_CASE("sizes: oversized heads get 431, oversized bodies 413, chunked ones too", "[http]") {
  http::Limits limits;
  limits.max_header_bytes = 2048;
  limits.max_body_bytes = 1024;
  ServerFixture fixture(limits);
  auto big_head = roundtrip(
      fixture, http_request("POST", with(fixture.headers(), "X-Padding", std::string(4000, 'a')),
                            initialize_body()));
  CHECK(big_head.status == 431);
  CHECK(big_head.header("connection") == "close");
  CHECK(roundtrip(fixture, http_request("POST", fixture.headers(),
                                        std::string(2000, ' ') + initialize_body()))
            .status == 413);
  // Announced but not sent: refused from the head alone.
  std::string head = "POST /mcp HTTP/1.1\r\n";
  for (const auto& [name, value] : fixture.headers()) head += name + ": " + value + "\r\n";
  CHECK(roundtrip(fixture, head + "Content-Length: 99999999999\r\n\r\n").status == 413);
  std::string chunks;
  for (int i = 0; i < 8; ++i) chunks += "100\r\n" + std::string(256, ' ') + "\r\n";
  CHECK(roundtrip(fixture, head + "Transfer-Encoding: chunked\r\n\r\n" + chunks + "0\r\n\r\n")
            .status == 413);
  CHECK(roundtrip(fixture, http_request("POST", fixture.headers(), initialize_body())).status ==
        200);
}

TEST_CASE("media types: 415 without a JSON Content-Type, 406 without both Accept types", "[http]") {
  ServerFixture fixture;
  auto connection = fixture.connect();
  const std::string id = fixture.open_session(*connection);
  auto status = [&](const Headers& headers) {
    REQUIRE(connection->send(http_request("POST", headers, request_body(1, "ping"))));
    return connection->read_response()->status;
  };
  CHECK(status(with(fixture.headers(id), "Content-Type", "text/plain")) == 415);
  CHECK(status(with(fixture.headers(id), "Content-Type", "application/json; charset=latin1")) ==
        415);
  CHECK(status(without(fixture.headers(id), "Content-Type")) == 415);
  CHECK(status(with(fixture.headers(id), "Content-Type", "application/json; charset=utf-8")) ==
        200);
  CHECK(status(with(fixture.headers(id), "Accept", "application/json")) == 406);
  CHECK(status(with(fixture.headers(id), "Accept", "text/event-stream")) == 406);
  CHECK(status(with(fixture.headers(id), "Accept", "application/json, text/event-stream;q=0")) ==
        406);
  CHECK(status(without(fixture.headers(id), "Accept")) == 406);
  CHECK(status(with(fixture.headers(id), "Accept", "*/*")) == 200);
  CHECK(status(with(fixture.headers(id), "Accept", "text/event-stream, application/*;q=0.5")) ==
        200);
}

TEST_CASE("rate limit: a session beyond its budget gets 429 with Retry-After", "[http]") {
  http::Limits limits;
  limits.requests_per_second = 2;
  limits.burst = 3;
  ServerFixture fixture(limits);
  auto connection = fixture.connect();
  auto init = fixture.post(*connection, initialize_body());
  const std::string id = init.header("mcp-session-id");
  int ok = 0, limited = 0;
  std::string retry;
  for (int i = 0; i < 10; ++i) {
    auto r = fixture.post(*connection, request_body(i + 2, "ping"), id);
    if (r.status == 200) ++ok;
    if (r.status == 429) {
      ++limited;
      retry = r.header("retry-after");
    }
  }
  CHECK(ok >= 3);
  CHECK(ok <= 4);
  CHECK(limited == 10 - ok);
  CHECK(retry == "1");
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  CHECK(fixture.post(*connection, request_body(20, "ping"), id).status == 200);
}

TEST_CASE("slowloris: stalled heads are closed after the request time while others are served",
          "[http]") {
  // 500 stalled clients and the server's 500 descriptors live in this one process.
  rlimit files{};
  getrlimit(RLIMIT_NOFILE, &files);
  const int stalled_count = files.rlim_max >= 1200 ? 500 : 100;
  files.rlim_cur = files.rlim_max;
  setrlimit(RLIMIT_NOFILE, &files);

  http::Limits limits;
  limits.request_time = std::chrono::milliseconds(1500);
  limits.idle_time = std::chrono::milliseconds(1000);
  ServerFixture fixture(limits, http::Transport::kPlainLoopback);
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::unique_ptr<HttpConnection>> stalled;
  for (int i = 0; i < stalled_count; ++i) {
    stalled.push_back(fixture.connect());
    REQUIRE(
        stalled.back()->send("POST /mcp HTTP/1.1\r\nHost: " + fixture.host() + "\r\nContent-Le"));
  }
  auto silent = fixture.connect();  // sends nothing: idle
  // A well-behaved client keeps being served meanwhile, on new connections.
  int served = 0;
  while (std::chrono::steady_clock::now() - start < std::chrono::milliseconds(1000)) {
    auto client = fixture.connect();
    if (fixture.post(*client, initialize_body()).status == 200) ++served;
  }
  CHECK(served > 5);
  CHECK(fixture.server().open_connections() >= static_cast<std::size_t>(stalled_count));
  // Within the request time (plus scheduling slack), every stalled connection is closed.
  int closed = 0;
  for (auto& connection : stalled)
    closed += connection->closed_within(std::chrono::milliseconds(3000)) ? 1 : 0;
  CHECK(closed == stalled_count);
  CHECK(silent->closed_within(std::chrono::milliseconds(1000)));
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
  stalled.clear();
  for (int i = 0; i < 100 && fixture.server().open_connections() > 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  CHECK(fixture.server().open_connections() == 0);
  // A refusal over plain HTTP: the answer arrives whole, then the server closes.
  auto refused = fixture.connect();
  REQUIRE(refused->send(http_request("POST", {{"Host", fixture.host()}}, std::string(500, 'x'))));
  auto response = refused->read_response();
  REQUIRE(response);
  CHECK(response->status == 401);
  CHECK(refused->closed_within(std::chrono::milliseconds(1500)));
}

TEST_CASE(
    "connections: beyond the cap closed at once; a TLS handshake that never comes is timed out",
    "[http]") {
  http::Limits limits;
  limits.max_connections = 4;
  limits.request_time = std::chrono::milliseconds(800);
  ServerFixture fixture(limits);
  std::vector<std::unique_ptr<HttpConnection>> held;
  for (int i = 0; i < 4; ++i)
    held.push_back(HttpConnection::plain(fixture.port()));  // raw TCP: no handshake
  for (int i = 0; i < 200 && fixture.server().open_connections() < 4; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  CHECK(fixture.server().open_connections() == 4);
  auto over = HttpConnection::plain(fixture.port());
  REQUIRE(over);
  CHECK(over->closed_within(std::chrono::milliseconds(500)));
  for (auto& connection : held) CHECK(connection->closed_within(std::chrono::milliseconds(2000)));
  for (int i = 0; i < 100 && fixture.server().open_connections() > 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  auto client = fixture.connect();
  CHECK(fixture.post(*client, initialize_body()).status == 200);
}
