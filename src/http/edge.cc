#include "http/edge.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <charconv>

namespace cqda::http {
namespace {

namespace bhttp = boost::beast::http;

constexpr std::string_view kChallenge = R"(Bearer realm="cqda")";
constexpr std::string_view kInvalidTokenChallenge = R"(Bearer realm="cqda", error="invalid_token")";

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string to_lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), lower);
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return lower(x) == lower(y); });
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_hex(char c) { return is_digit(c) || (lower(c) >= 'a' && lower(c) <= 'f'); }

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string_view sv(boost::beast::string_view s) { return {s.data(), s.size()}; }

// A dotted quad of decimal octets without leading zeros.
bool is_ipv4(std::string_view s) {
  int parts = 0;
  while (true) {
    std::size_t n = 0;
    while (n < s.size() && is_digit(s[n])) ++n;
    if (n == 0 || n > 3 || (n > 1 && s[0] == '0')) return false;
    int value = 0;
    std::from_chars(s.data(), s.data() + n, value);
    if (value > 255) return false;
    ++parts;
    s.remove_prefix(n);
    if (s.empty()) return parts == 4;
    if (s.front() != '.' || parts == 4) return false;
    s.remove_prefix(1);
  }
}

// Hex groups, ':' and an embedded dotted IPv4 tail; the shape is checked loosely (the host
// is compared against an allow-list, not connected to), but nothing outside the alphabet.
bool is_ipv6_literal(std::string_view s) {
  if (s.size() < 2 || s.size() > 45 || s.find(':') == std::string_view::npos) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return is_hex(c) || c == ':' || c == '.'; });
}

bool is_reg_name(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~';
  });
}

// 1-5 digits, 1..65535.
std::optional<std::uint16_t> parse_port(std::string_view s) {
  if (s.empty() || s.size() > 5 || !std::all_of(s.begin(), s.end(), is_digit)) return std::nullopt;
  unsigned value = 0;
  std::from_chars(s.data(), s.data() + s.size(), value);
  if (value == 0 || value > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

bool host_allowed(const EdgePolicy& policy, const std::string& host) {
  return std::find(policy.hosts.begin(), policy.hosts.end(), host) != policy.hosts.end();
}

// RFC 6750 b64token: ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/", then "=" padding.
bool is_b64token(std::string_view s) {
  std::size_t n = 0;
  while (n < s.size() && (is_alpha(s[n]) || is_digit(s[n]) ||
                          std::string_view("-._~+/").find(s[n]) != std::string_view::npos))
    ++n;
  if (n == 0) return false;
  return std::all_of(s.begin() + static_cast<std::ptrdiff_t>(n), s.end(),
                     [](char c) { return c == '='; });
}

// Splits a list header on commas (no quoted commas matter for the headers we read).
std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  while (true) {
    auto pos = s.find(sep);
    out.push_back(trim(s.substr(0, pos)));
    if (pos == std::string_view::npos) return out;
    s.remove_prefix(pos + 1);
  }
}

// A media type and its parameters: "application/json; charset=utf-8".
struct MediaType {
  std::string type;                                         // lower-cased "type/subtype"
  std::vector<std::pair<std::string, std::string>> params;  // lower-cased names, unquoted values
};

MediaType parse_media_type(std::string_view value) {
  auto parts = split(value, ';');
  MediaType media{to_lower(parts.front()), {}};
  for (std::size_t i = 1; i < parts.size(); ++i) {
    auto eq = parts[i].find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view v = trim(parts[i].substr(eq + 1));
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
    media.params.emplace_back(to_lower(trim(parts[i].substr(0, eq))), std::string(v));
  }
  return media;
}

// q=0 (or 0.0, 0.00, 0.000) excludes a range; anything else keeps it.
bool excluded(const MediaType& media) {
  for (const auto& [name, value] : media.params) {
    if (name != "q") continue;
    return !value.empty() && value[0] == '0' &&
           std::all_of(value.begin() + 1, value.end(), [](char c) { return c == '.' || c == '0'; });
  }
  return false;
}

}  // namespace

std::string_view scheme_name(Scheme scheme) { return scheme == Scheme::kHttps ? "https" : "http"; }
std::uint16_t default_port(Scheme scheme) { return scheme == Scheme::kHttps ? 443 : 80; }

std::optional<Authority> parse_authority(std::string_view text) {
  Authority out;
  std::string_view host;
  std::string_view rest;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = text.substr(1, close - 1);
    if (!is_ipv6_literal(host)) return std::nullopt;
    rest = text.substr(close + 1);
  } else {
    auto colon = text.find(':');
    host = text.substr(0, colon);
    if (!is_reg_name(host)) return std::nullopt;
    // A host ending in a numeric label must be a dotted quad: no "127.1" or "2130706433".
    auto last_dot = host.rfind('.');
    std::string_view last_label =
        last_dot == std::string_view::npos ? host : host.substr(last_dot + 1);
    if (!last_label.empty() && std::all_of(last_label.begin(), last_label.end(), is_digit) &&
        !is_ipv4(host))
      return std::nullopt;
    rest = colon == std::string_view::npos ? std::string_view() : text.substr(colon);
  }
  if (!rest.empty()) {
    if (rest.front() != ':') return std::nullopt;
    out.port = parse_port(rest.substr(1));
    if (!out.port) return std::nullopt;
  }
  out.host = to_lower(host);
  return out;
}

std::optional<Origin> parse_origin(std::string_view text) {
  auto sep = text.find("://");
  if (sep == std::string_view::npos || sep == 0) return std::nullopt;
  std::string_view scheme = text.substr(0, sep);
  if (!std::all_of(scheme.begin(), scheme.end(), [](char c) {
        return is_alpha(c) || is_digit(c) || c == '+' || c == '-' || c == '.';
      }))
    return std::nullopt;
  auto authority = parse_authority(text.substr(sep + 3));
  if (!authority) return std::nullopt;
  return Origin{to_lower(scheme), std::move(*authority)};
}

Result<EdgePolicy> make_edge_policy(Scheme scheme, std::uint16_t port,
                                    const std::vector<std::string>& hosts,
                                    std::string_view bearer_token, std::size_t max_body_bytes) {
  EdgePolicy policy;
  policy.scheme = scheme;
  policy.port = port;
  policy.max_body_bytes = max_body_bytes;
  if (hosts.empty())
    return make_error("allowed hosts: the list is empty, so no request could pass");
  for (const auto& name : hosts) {
    // A bare IPv6 address is accepted without brackets in the configuration.
    std::string bracketed =
        name.find(':') != std::string::npos && name.front() != '[' ? "[" + name + "]" : name;
    auto parsed = parse_authority(bracketed);
    if (!parsed || parsed->port)
      return make_error("allowed hosts: '" + name +
                        "' is not a host name or IP address without a port");
    policy.hosts.push_back(parsed->host);
  }
  if (bearer_token.size() < 16 || !is_b64token(bearer_token))
    return make_error(
        "bearer token: at least 16 characters of A-Z a-z 0-9 - . _ ~ + / (then = padding) "
        "required");
  policy.token_digest = sha256(bearer_token);
  return policy;
}

Result<std::optional<std::string_view>> single_field(const RequestHead& head,
                                                     std::string_view name) {
  // count() and find() go by name; Beast's equal_range spans the fields received between
  // two repeats too, so it is not used.
  const boost::beast::string_view key(name.data(), name.size());
  const std::size_t count = head.count(key);
  if (count == 0) return std::optional<std::string_view>();
  if (count > 1) return make_error(std::string(name) + " appears more than once");
  return std::optional<std::string_view>(sv(head.find(key)->value()));
}

std::optional<Refusal> check_version(const RequestHead& head) {
  if (head.version() != 11) return Refusal{505, "HTTP/1.1 required"};
  return std::nullopt;
}

std::optional<Refusal> check_framing(const RequestHead& head, std::size_t max_body_bytes) {
  auto te = single_field(head, "Transfer-Encoding");
  auto cl = single_field(head, "Content-Length");
  if (!te) return Refusal{400, "Transfer-Encoding appears more than once"};
  if (!cl) return Refusal{400, "Content-Length appears more than once"};
  if (te->has_value() && cl->has_value())
    return Refusal{400, "Transfer-Encoding and Content-Length together"};
  // Exactly "chunked": a body framed any other way has no end this server could agree on
  // with a proxy in front of it (request smuggling).
  if (te->has_value() && !iequals(**te, "chunked"))
    return Refusal{400, "only Transfer-Encoding: chunked is accepted"};
  if (cl->has_value()) {
    std::string_view value = **cl;
    if (value.empty() || value.size() > 19 || !std::all_of(value.begin(), value.end(), is_digit))
      return Refusal{400, "Content-Length must be digits"};
    std::uint64_t length = 0;
    std::from_chars(value.data(), value.data() + value.size(), length);
    if (length > max_body_bytes) return Refusal{413, "request body too large"};
  }
  return std::nullopt;
}

std::optional<Refusal> check_host(const RequestHead& head, const EdgePolicy& policy) {
  auto host = single_field(head, "Host");
  if (!host || !host->has_value()) return Refusal{400, "exactly one Host header required"};
  auto authority = parse_authority(**host);
  if (!authority) return Refusal{400, "malformed Host header"};
  if (authority->port.value_or(default_port(policy.scheme)) != policy.port ||
      !host_allowed(policy, authority->host))
    return Refusal{403, "host not allowed"};
  return std::nullopt;
}

std::optional<Refusal> check_origin(const RequestHead& head, const EdgePolicy& policy) {
  auto value = single_field(head, "Origin");
  if (!value) return Refusal{403, "origin not allowed"};
  if (!value->has_value()) return std::nullopt;  // not a browser: nothing to check
  auto origin = parse_origin(**value);
  if (!origin || origin->scheme != scheme_name(policy.scheme) ||
      origin->authority.port.value_or(default_port(policy.scheme)) != policy.port ||
      !host_allowed(policy, origin->authority.host))
    return Refusal{403, "origin not allowed"};
  return std::nullopt;
}

std::optional<Refusal> check_authorization(const RequestHead& head, const EdgePolicy& policy) {
  auto value = single_field(head, "Authorization");
  if (!value) return Refusal{401, "invalid bearer token", kInvalidTokenChallenge};
  std::string_view text = value->value_or("");
  constexpr std::string_view kScheme = "bearer ";
  if (text.size() < kScheme.size() || !iequals(text.substr(0, kScheme.size()), kScheme))
    return Refusal{401, "bearer token required", kChallenge};
  std::string_view token = trim(text.substr(kScheme.size()));
  // Digests of equal length, compared in constant time: neither the token's length nor
  // the position of the first wrong byte shows in the timing.
  Sha256Digest given = sha256(token);
  if (!is_b64token(token) ||
      CRYPTO_memcmp(given.data(), policy.token_digest.data(), given.size()) != 0)
    return Refusal{401, "invalid bearer token", kInvalidTokenChallenge};
  return std::nullopt;
}

std::optional<Refusal> check_expect(const RequestHead& head) {
  auto value = single_field(head, "Expect");
  if (!value || (value->has_value() && !iequals(**value, "100-continue")))
    return Refusal{417, "unsupported Expect"};
  return std::nullopt;
}

std::optional<Refusal> check_head(const RequestHead& head, const EdgePolicy& policy) {
  if (auto r = check_version(head)) return r;
  if (auto r = check_framing(head, policy.max_body_bytes)) return r;
  if (auto r = check_host(head, policy)) return r;
  if (auto r = check_origin(head, policy)) return r;
  if (auto r = check_authorization(head, policy)) return r;
  return check_expect(head);
}

bool is_json_content_type(std::string_view value) {
  MediaType media = parse_media_type(value);
  if (media.type != "application/json") return false;
  for (const auto& [name, v] : media.params)
    if (name == "charset" && !iequals(v, "utf-8")) return false;
  return true;
}

bool accepts_json_and_event_stream(const RequestHead& head) {
  bool json = false;
  bool events = false;
  for (const auto& field : head) {
    if (field.name() != bhttp::field::accept) continue;
    for (std::string_view range : split(sv(field.value()), ',')) {
      MediaType media = parse_media_type(range);
      if (excluded(media)) continue;
      json = json || media.type == "application/json" || media.type == "application/*" ||
             media.type == "*/*";
      events = events || media.type == "text/event-stream" || media.type == "text/*" ||
               media.type == "*/*";
    }
  }
  return json && events;
}

std::optional<Refusal> check_post_media(const RequestHead& head) {
  auto type = single_field(head, "Content-Type");
  if (!type || !type->has_value() || !is_json_content_type(**type))
    return Refusal{415, "Content-Type must be application/json"};
  if (!accepts_json_and_event_stream(head))
    return Refusal{406, "Accept must include application/json and text/event-stream"};
  return std::nullopt;
}

}  // namespace cqda::http
