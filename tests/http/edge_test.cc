// The edge checks without sockets: Host and Origin parsing, framing, the token, media types;
// the session table and its rate budget; listen addresses; rendering of events.
#include "http/edge.h"

#include <catch2/catch.hpp>

#include "http/listen.h"
#include "http/response.h"
#include "http/sessions.h"

using namespace cqda;
using namespace cqda::http;

namespace {

constexpr const char* kToken = "0123456789abcdef-token";

EdgePolicy policy() {
  auto p = make_edge_policy(Scheme::kHttps, 8765, {"localhost", "127.0.0.1", "::1"}, kToken, 1024);
  REQUIRE(p);
  return *p;
}

RequestHead head(std::vector<std::pair<std::string, std::string>> fields) {
  RequestHead h;
  h.method(boost::beast::http::verb::post);
  h.target("/mcp");
  h.version(11);
  for (const auto& [name, value] : fields) h.insert(name, value);
  return h;
}

RequestHead good(std::vector<std::pair<std::string, std::string>> more = {}) {
  std::vector<std::pair<std::string, std::string>> fields = {
      {"Host", "localhost:8765"},
      {"Authorization", std::string("Bearer ") + kToken},
      {"Content-Length", "10"}};
  fields.insert(fields.end(), more.begin(), more.end());
  return head(fields);
}

unsigned status(const std::optional<Refusal>& r) { return r ? r->status : 0; }

}  // namespace

TEST_CASE("parse_authority accepts host[:port] strictly", "[http][edge]") {
  auto a = parse_authority("LocalHost:8765");
  REQUIRE(a);
  CHECK(a->host == "localhost");
  CHECK(a->port == 8765);
  CHECK(parse_authority("[::1]:8765")->host == "::1");
  CHECK(parse_authority("127.0.0.1")->port == std::nullopt);
  for (const char* bad : {"127.0.0.1:evil.com",
                          "localhost:8765@evil",
                          "user@localhost:8765",
                          "localhost:",
                          "localhost:0",
                          "localhost:65536",
                          "localhost:123456",
                          "[::1",
                          "[::1]x",
                          "[::1%eth0]:1",
                          "::1:8765",
                          "",
                          ":8765",
                          "local host",
                          "localhost:+80",
                          "localhost:80:80",
                          "127.1",
                          "2130706433",
                          "127.0.0.01",
                          "256.0.0.1",
                          "host/path",
                          "localhost\t"})
    CHECK_FALSE(parse_authority(bad));
}

TEST_CASE("parse_origin takes scheme://authority and nothing more", "[http][edge]") {
  auto o = parse_origin("HTTPS://LOCALHOST:8765");
  REQUIRE(o);
  CHECK(o->scheme == "https");
  CHECK(o->authority.host == "localhost");
  for (const char* bad : {"null", "localhost:8765", "https://localhost:8765/", "https://",
                          "://localhost", "https://a@b"})
    CHECK_FALSE(parse_origin(bad));
}

TEST_CASE("Host: exactly one, an allowed name, the listening port", "[http][edge]") {
  EdgePolicy p = policy();
  CHECK_FALSE(check_host(head({{"Host", "localhost:8765"}}), p));
  CHECK_FALSE(check_host(head({{"Host", "[::1]:8765"}}), p));
  CHECK(status(check_host(head({{"Host", "localhost"}}), p)) == 403);  // port 443 by default
  CHECK(status(check_host(head({{"Host", "localhost:8766"}}), p)) == 403);
  CHECK(status(check_host(head({{"Host", "localhost.evil.com:8765"}}), p)) == 403);
  CHECK(status(check_host(head({{"Host", "127.0.0.1:evil.com"}}), p)) == 400);
  CHECK(status(check_host(head({}), p)) == 400);
  CHECK(status(check_host(head({{"Host", "localhost:8765"}, {"Host", "localhost:8765"}}), p)) ==
        400);
  // Repeats are counted even when other fields arrive between them.
  CHECK(status(check_host(
            head({{"Host", "localhost:8765"}, {"Accept", "*/*"}, {"Host", "evil:8765"}}), p)) ==
        400);
}

TEST_CASE("Origin: absent, or our scheme, an allowed host and the port", "[http][edge]") {
  EdgePolicy p = policy();
  CHECK_FALSE(check_origin(head({}), p));
  CHECK_FALSE(check_origin(head({{"Origin", "https://127.0.0.1:8765"}}), p));
  for (const char* bad : {"null", "http://localhost:8765", "https://localhost",
                          "https://evil.com:8765", "https://localhost:8765/x"})
    CHECK(status(check_origin(head({{"Origin", bad}}), p)) == 403);
  CHECK(status(check_origin(
            head({{"Origin", "https://localhost:8765"}, {"Origin", "https://localhost:8765"}}),
            p)) == 403);
}

TEST_CASE("framing: only chunked, never with Content-Length, one length of digits within the limit",
          "[http][edge]") {
  auto framing = [](std::vector<std::pair<std::string, std::string>> f) {
    return status(check_framing(head(f), 1024));
  };
  CHECK(framing({}) == 0);
  CHECK(framing({{"Transfer-Encoding", "chunked"}}) == 0);
  CHECK(framing({{"Transfer-Encoding", "Chunked"}}) == 0);
  CHECK(framing({{"Content-Length", "1024"}}) == 0);
  CHECK(framing({{"Content-Length", "1025"}}) == 413);
  CHECK(framing({{"Content-Length", "99999999999999999999999"}}) == 400);
  CHECK(framing({{"Transfer-Encoding", "gzip"}}) == 400);
  CHECK(framing({{"Transfer-Encoding", "chunked, identity"}}) == 400);
  CHECK(framing({{"Transfer-Encoding", "gzip, chunked"}}) == 400);
  CHECK(framing({{"Transfer-Encoding", "chunked"}, {"Transfer-Encoding", "chunked"}}) == 400);
  CHECK(framing({{"Transfer-Encoding", "chunked"}, {"Content-Length", "5"}}) == 400);
  CHECK(framing({{"Content-Length", "5"}, {"Content-Length", "5"}}) == 400);
  CHECK(framing({{"Content-Length", "5, 5"}}) == 400);
  CHECK(framing({{"Content-Length", "-1"}}) == 400);
  CHECK(framing({{"Content-Length", ""}}) == 400);
}

TEST_CASE("the bearer token is compared by digest; 401 says whether one was given",
          "[http][edge]") {
  EdgePolicy p = policy();
  CHECK_FALSE(check_authorization(good(), p));
  CHECK_FALSE(check_authorization(head({{"Authorization", std::string("BEARER  ") + kToken}}), p));
  auto missing = check_authorization(head({}), p);
  REQUIRE(missing);
  CHECK(missing->status == 401);
  CHECK(missing->www_authenticate == R"(Bearer realm="cqda")");
  auto wrong = check_authorization(head({{"Authorization", "Bearer 0123456789abcdef-tokem"}}), p);
  REQUIRE(wrong);
  CHECK(wrong->www_authenticate == R"(Bearer realm="cqda", error="invalid_token")");
  CHECK(check_authorization(head({{"Authorization", "Bearer"}}), p));
  CHECK(check_authorization(head({{"Authorization", std::string("Bearer ") + kToken + " x"}}), p));
  CHECK(check_authorization(head({{"Authorization", "Basic abc"}}), p));
  CHECK(check_authorization(
      head({{"Authorization", std::string("Bearer ") + kToken}, {"Authorization", "Bearer x"}}),
      p));
  CHECK_FALSE(make_edge_policy(Scheme::kHttps, 1, {"localhost"}, "short", 1));
  CHECK_FALSE(make_edge_policy(Scheme::kHttps, 1, {"localhost"}, "has space in the token", 1));
  CHECK_FALSE(make_edge_policy(Scheme::kHttps, 1, {}, kToken, 1));
}

TEST_CASE("check_head runs the checks in order", "[http][edge]") {
  EdgePolicy p = policy();
  CHECK_FALSE(check_head(good(), p));
  RequestHead old = good();
  old.version(10);
  CHECK(status(check_head(old, p)) == 505);
  // Framing before Host, Host before Origin, Origin before the token.
  CHECK(status(check_head(head({{"Transfer-Encoding", "gzip"}, {"Host", "evil"}}), p)) == 400);
  CHECK(status(check_head(head({{"Host", "evil:8765"}, {"Origin", "https://evil:8765"}}), p)) ==
        403);
  auto origin = check_head(head({{"Host", "localhost:8765"}, {"Origin", "https://evil:8765"}}), p);
  REQUIRE(origin);
  CHECK(origin->reason == "origin not allowed");
  CHECK(status(check_head(good({{"Expect", "100-continue"}}), p)) == 0);
  CHECK(status(check_head(good({{"Expect", "something"}}), p)) == 417);
}

TEST_CASE("media types of a POST", "[http][edge]") {
  CHECK(is_json_content_type("application/json"));
  CHECK(is_json_content_type("Application/JSON ; charset=\"UTF-8\""));
  CHECK_FALSE(is_json_content_type("application/json; charset=latin1"));
  CHECK_FALSE(is_json_content_type("application/jsonx"));
  CHECK_FALSE(is_json_content_type("text/json"));
  auto accepts = [](std::vector<std::pair<std::string, std::string>> f) {
    return accepts_json_and_event_stream(head(f));
  };
  CHECK(accepts({{"Accept", "application/json, text/event-stream"}}));
  CHECK(accepts({{"Accept", "application/json"}, {"Accept", "text/event-stream"}}));
  CHECK(accepts({{"Accept", "*/*"}}));
  CHECK(accepts({{"Accept", "application/*;q=0.9, text/*"}}));
  CHECK_FALSE(accepts({{"Accept", "application/json"}}));
  CHECK_FALSE(accepts({{"Accept", "application/json, text/event-stream;q=0.0"}}));
  CHECK_FALSE(accepts({}));
  CHECK(status(check_post_media(head({{"Content-Type", "application/json"},
                                      {"Content-Type", "application/json"},
                                      {"Accept", "*/*"}}))) == 415);
  CHECK(status(check_post_media(
            head({{"Content-Type", "application/json"}, {"Accept", "text/html"}}))) == 406);
}

TEST_CASE("token bucket and session table", "[http][edge]") {
  const auto t0 = Clock::now();
  TokenBucket bucket(10, 2, t0);
  CHECK_FALSE(bucket.take(t0));
  CHECK_FALSE(bucket.take(t0));
  auto wait = bucket.take(t0);
  REQUIRE(wait);
  CHECK(std::chrono::duration<double>(*wait).count() == Approx(0.1));
  CHECK_FALSE(bucket.take(t0 + std::chrono::milliseconds(100)));

  SessionTable table({2, std::chrono::seconds(10), 50, 100});
  auto session = std::make_shared<mcp::Session>(mcp::ServerInfo{}, Json::object());
  REQUIRE(table.reserve(t0));
  REQUIRE(table.reserve(t0));
  CHECK_FALSE(table.reserve(t0));
  auto a = table.insert(session, t0);
  REQUIRE(a);
  CHECK(a->size() == 64);
  table.release();
  auto b = table.insert(session, t0);
  REQUIRE(b);
  CHECK(*a != *b);
  CHECK(table.find(*a, t0 + std::chrono::seconds(5)));
  table.find(*b, t0 + std::chrono::seconds(5))->running = 1;  // busy: never idle
  CHECK_FALSE(table.find(*a, t0 + std::chrono::seconds(16)));
  CHECK(table.find(*b, t0 + std::chrono::seconds(60)));
  CHECK(table.erase(*b));
  CHECK_FALSE(table.erase(*b));
  CHECK(table.size() == 0);
}

TEST_CASE("listen addresses", "[http][edge]") {
  auto v4 = parse_listen_address("127.0.0.1:8765");
  REQUIRE(v4);
  CHECK(v4->address == "127.0.0.1");
  CHECK(v4->port == 8765);
  CHECK(parse_listen_address("[::1]:443")->address == "::1");
  CHECK(parse_listen_address("localhost:1")->address == "127.0.0.1");
  for (const char* bad : {"127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "::1:80", "example.com:80",
                          "[::1]:x", "1.2.3:80"})
    CHECK_FALSE(parse_listen_address(bad));
  auto fd = listen_tcp("127.0.0.1", 0);
  REQUIRE(fd);
  CHECK(*is_loopback(fd->get()));
  CHECK(*local_port(fd->get()) != 0);
  auto any = listen_tcp("0.0.0.0", 0);
  REQUIRE(any);
  CHECK_FALSE(*is_loopback(any->get()));
  CHECK_FALSE(listen_tcp("localhost", 0));
}

TEST_CASE("responses and events", "[http][edge]") {
  std::string text = render(error_response(404, "not found"));
  CHECK(text.rfind("HTTP/1.1 404 Not Found\r\n", 0) == 0);
  CHECK(text.find("Cache-Control: no-store\r\n") != std::string::npos);
  CHECK(text.find("X-Content-Type-Options: nosniff\r\n") != std::string::npos);
  CHECK(text.find("Server:") == std::string::npos);
  CHECK(event_chunk("{}") == "19\r\nevent: message\ndata: {}\n\n\r\n");
  CHECK(event_chunk("a\r\nb\nc") == "28\r\nevent: message\ndata: a\ndata: b\ndata: c\n\n\r\n");
}
