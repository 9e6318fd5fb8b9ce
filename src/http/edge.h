// The checks a request passes at the edge: framing (Transfer-Encoding, Content-Length),
// Host, Origin and the bearer token, made on the request head before its body is parsed as
// JSON and before a session is looked up; then the media types a POST must declare. Pure:
// no sockets and no clock, so every rule is unit-tested and fuzzed directly.
//
// Deny by default: a header that may appear once and appears twice is refused, a value that
// does not parse is refused, and an empty allow-list allows nothing.
#pragma once

#include <boost/beast/http/message.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/hash.h"
#include "common/result.h"

namespace cqda::http {

using RequestHead = boost::beast::http::request_header<>;

// Why a request is refused: the status and a short reason for the body (never internals).
struct Refusal {
  unsigned status = 400;
  std::string_view reason;
  std::string_view www_authenticate = {};  // the challenge sent with a 401
};

enum class Scheme { kHttps, kHttp };
std::string_view scheme_name(Scheme scheme);
std::uint16_t default_port(Scheme scheme);

// host [":" port] as RFC 9110 allows it in Host, without userinfo: a DNS-style reg-name
// (letters, digits, '-', '.', '_', '~'), a dotted IPv4, or an IPv6 literal in brackets without
// a zone; the port is 1-5 digits up to 65535. The host comes back lower-cased, IPv6 without
// brackets. "127.0.0.1:evil.com", "localhost:8765@evil" and "[::1" do not parse.
struct Authority {
  std::string host;
  std::optional<std::uint16_t> port;
};
std::optional<Authority> parse_authority(std::string_view text);

// scheme "://" authority, nothing after it (a browser's Origin); "null" does not parse.
struct Origin {
  std::string scheme;  // lower-cased
  Authority authority;
};
std::optional<Origin> parse_origin(std::string_view text);

// What the edge lets through, built once from the server's options.
struct EdgePolicy {
  Scheme scheme = Scheme::kHttps;
  std::uint16_t port = 0;          // the listening port: Host and Origin must name it
  std::vector<std::string> hosts;  // lower-cased, IPv6 without brackets
  Sha256Digest token_digest{};     // SHA-256 of the bearer token (the token itself is not kept)
  std::size_t max_body_bytes = 4u << 20;
};

// Validates the allowed host names ("localhost", "127.0.0.1", "[::1]" or "::1") and the
// token (at least 16 characters of RFC 6750's b64token alphabet).
Result<EdgePolicy> make_edge_policy(Scheme scheme, std::uint16_t port,
                                    const std::vector<std::string>& hosts,
                                    std::string_view bearer_token, std::size_t max_body_bytes);

// Each check returns the refusal, or nullopt when the request passes it.
// HTTP/1.1 only (505).
std::optional<Refusal> check_version(const RequestHead& head);
// Transfer-Encoding other than exactly "chunked", more than one of it, together with
// Content-Length, or Content-Length repeated or not digits: 400. Content-Length above the
// body limit: 413.
std::optional<Refusal> check_framing(const RequestHead& head, std::size_t max_body_bytes);
// Exactly one Host, that parses, names an allowed host and the listening port (400 / 403).
std::optional<Refusal> check_host(const RequestHead& head, const EdgePolicy& policy);
// No Origin (a non-browser client), or exactly one naming our scheme, an allowed host and the
// listening port (403).
std::optional<Refusal> check_origin(const RequestHead& head, const EdgePolicy& policy);
// Exactly one "Authorization: Bearer <token>" whose SHA-256 equals the expected digest,
// compared in constant time (401 with a WWW-Authenticate challenge).
std::optional<Refusal> check_authorization(const RequestHead& head, const EdgePolicy& policy);
// Expect: absent or "100-continue" (417).
std::optional<Refusal> check_expect(const RequestHead& head);

// The checks above in their order: version, framing, Host, Origin, token, Expect.
std::optional<Refusal> check_head(const RequestHead& head, const EdgePolicy& policy);

// "application/json" with optional parameters; a charset parameter must be utf-8.
bool is_json_content_type(std::string_view value);
// Whether the Accept fields (all of them, as one list) accept both application/json and
// text/event-stream; "*/*" and "type/*" count, a range with q=0 does not.
bool accepts_json_and_event_stream(const RequestHead& head);
// A POST's media types: exactly one JSON Content-Type (415), an Accept as above (406).
std::optional<Refusal> check_post_media(const RequestHead& head);

// The value of a header that may appear at most once: nullopt when absent, an error when
// repeated.
Result<std::optional<std::string_view>> single_field(const RequestHead& head,
                                                     std::string_view name);

}  // namespace cqda::http
