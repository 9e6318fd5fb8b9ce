// The strict URL parser and the allow-list lookup. Both decide where data may go, so they
// refuse anything a more lenient parser (a browser's, curl's, getaddrinfo's) might read
// differently.
#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

#include "egress/egress.h"

namespace cqda::egress {
namespace {

// A URL is configuration, not a document: anything longer is a mistake or an attack.
constexpr std::size_t kMaxUrlLength = 2048;
constexpr std::size_t kMaxHostLength = 253;  // DNS limits
constexpr std::size_t kMaxLabelLength = 63;
constexpr std::size_t kMaxShownLength = 200;

std::string lower_ascii(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// The URL as it may appear in a message: bytes outside printable ASCII escaped, truncated.
std::string shown(std::string_view url) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < url.size() && i < kMaxShownLength; ++i) {
    auto byte = static_cast<unsigned char>(url[i]);
    if (byte < 0x20 || byte >= 0x7f) {
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    } else {
      out += static_cast<char>(byte);
    }
  }
  if (url.size() > kMaxShownLength) out += "...";
  return out;
}

Error url_error(std::string_view url, const std::string& reason) {
  return make_error("URL \"" + shown(url) + "\": " + reason);
}

bool all_digits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// WHATWG reads a host whose last label is a number ("127.1", "2130706433", "0x7f.1") as an
// IPv4 address, and so does inet_aton inside getaddrinfo.
bool numeric_label(std::string_view label) {
  if (all_digits(label)) return true;
  if (label.size() < 2 || label[0] != '0' || label[1] != 'x') return false;
  return std::all_of(label.begin() + 2, label.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// A lower-cased host name or dotted-quad IPv4 (brackets handled by the caller).
Status check_host_name(std::string_view host) {
  if (host.empty()) return make_error("the host is empty");
  if (host.size() > kMaxHostLength)
    return make_error("the host is longer than " + std::to_string(kMaxHostLength) + " characters");
  for (char c : host) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
    if (c == ':')
      return make_error("an IPv6 address must be written in brackets, or the URL has a second ':'");
    if (!ok) return make_error(std::string("the host contains '") + c + "'");
  }
  std::string_view last_label;
  for (std::size_t start = 0;;) {
    std::size_t dot = host.find('.', start);
    std::string_view label =
        host.substr(start, dot == std::string_view::npos ? host.npos : dot - start);
    if (label.empty())
      return make_error("the host has an empty label (leading, trailing or double dot)");
    if (label.size() > kMaxLabelLength)
      return make_error("a label of the host is longer than " + std::to_string(kMaxLabelLength) +
                        " characters");
    last_label = label;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (numeric_label(last_label)) {
    in_addr ignored{};
    if (inet_pton(AF_INET, std::string(host).c_str(), &ignored) != 1)
      return make_error(
          "the host is numeric but not a dotted-quad IPv4 address (a.b.c.d, no leading zeros)");
  }
  return Status::success();
}

// An IPv6 literal from between brackets, in canonical inet_ntop form.
Result<std::string> canonical_ipv6(std::string_view literal) {
  if (literal.find('%') != std::string_view::npos)
    return make_error("an IPv6 zone (%...) is not allowed");
  in6_addr address{};
  if (inet_pton(AF_INET6, std::string(literal).c_str(), &address) != 1)
    return make_error("[" + std::string(literal) + "] is not a valid IPv6 address");
  char buffer[INET6_ADDRSTRLEN] = {};
  inet_ntop(AF_INET6, &address, buffer, sizeof buffer);
  return std::string(buffer);
}

Result<std::uint16_t> parse_port(std::string_view digits) {
  if (digits.empty()) return make_error("the port after ':' is empty");
  if (!all_digits(digits) || digits.size() > 5)
    return make_error("the port must be a number from 1 to 65535");
  unsigned long value = std::stoul(std::string(digits));
  if (value < 1 || value > 65535) return make_error("the port must be a number from 1 to 65535");
  return static_cast<std::uint16_t>(value);
}

// The canonical form of a host for comparison: lower case, no brackets, IPv6 as inet_ntop.
std::string comparable_host(std::string_view host) {
  std::string text = lower_ascii(host);
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']')
    text = text.substr(1, text.size() - 2);
  if (text.find(':') != std::string::npos) {
    if (auto canonical = canonical_ipv6(text)) return *canonical;
  }
  return text;
}

std::string origin_text(std::string_view scheme, std::string_view host, std::uint16_t port) {
  bool ipv6 = host.find(':') != std::string_view::npos;
  return std::string(scheme) + "://" + (ipv6 ? "[" : "") + std::string(host) + (ipv6 ? "]" : "") +
         ":" + std::to_string(port);
}

}  // namespace

Result<Url> parse_url(std::string_view url) {
  if (url.size() > kMaxUrlLength)
    return url_error(url, "longer than " + std::to_string(kMaxUrlLength) + " characters");
  for (std::size_t i = 0; i < url.size(); ++i) {
    auto byte = static_cast<unsigned char>(url[i]);
    if (byte <= 0x20 || byte >= 0x7f)
      return url_error(url, "a space, control or non-ASCII byte at offset " + std::to_string(i) +
                                " (write an international host name in punycode)");
    // WHATWG parsers read '\' as '/' in http(s) URLs; others do not. Refuse the ambiguity.
    if (byte == '\\') return url_error(url, "a backslash at offset " + std::to_string(i));
  }

  Url out;
  std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos || scheme_end == 0)
    return url_error(url, "no scheme (expected https://host or http://host)");
  out.scheme = lower_ascii(url.substr(0, scheme_end));
  if (out.scheme != "https" && out.scheme != "http")
    return url_error(url, "the scheme \"" + out.scheme + "\" is not allowed (only https and http)");

  std::string_view rest = url.substr(scheme_end + 3);
  std::size_t authority_end = std::min(rest.find_first_of("/?#"), rest.size());
  std::string_view authority = rest.substr(0, authority_end);
  std::string_view tail = rest.substr(authority_end);
  // "https://api.openai.com@evil.example/" connects to evil.example: never guess.
  if (authority.find('@') != std::string_view::npos)
    return url_error(url, "userinfo (user@host) is not allowed");
  // A fragment is never sent; one in an endpoint URL is a mistake (or hides an '@').
  if (tail.find('#') != std::string_view::npos)
    return url_error(url, "a fragment (#...) is not allowed");
  if (authority.empty()) return url_error(url, "the host is empty");

  std::string_view after_host;
  if (authority.front() == '[') {
    std::size_t close = authority.find(']');
    if (close == std::string_view::npos)
      return url_error(url, "the IPv6 literal has no closing ']'");
    auto host = canonical_ipv6(authority.substr(1, close - 1));
    if (!host) return url_error(url, host.error().message);
    out.host = std::move(*host);
    after_host = authority.substr(close + 1);
    if (!after_host.empty() && after_host.front() != ':')
      return url_error(url, "unexpected text after the IPv6 literal");
  } else {
    if (authority.find_first_of("[]") != std::string_view::npos)
      return url_error(url, "'[' and ']' may only enclose an IPv6 address that is the whole host");
    std::size_t colon = authority.find(':');
    out.host = lower_ascii(authority.substr(0, colon));
    after_host = colon == std::string_view::npos ? std::string_view() : authority.substr(colon);
    if (after_host.find(':', 1) != std::string_view::npos)
      return url_error(url,
                       "an IPv6 address must be written in brackets, or the URL has a second ':'");
    if (auto status = check_host_name(out.host); !status)
      return url_error(url, status.error().message);
  }

  if (after_host.empty()) {
    out.port = out.scheme == "https" ? 443 : 80;
  } else {
    auto port = parse_port(after_host.substr(1));
    if (!port) return url_error(url, port.error().message);
    out.port = *port;
  }

  if (tail.empty()) {
    out.target = "/";
  } else if (tail.front() == '?') {
    out.target = "/" + std::string(tail);
  } else {
    out.target = std::string(tail);
  }
  return out;
}

Result<const policy::Endpoint*> find_endpoint(const policy::EgressPolicy& egress, const Url& url) {
  std::string wanted_host = comparable_host(url.host);
  std::string wanted_scheme = lower_ascii(url.scheme);
  for (const policy::Endpoint& endpoint : egress.endpoints) {
    if (lower_ascii(endpoint.scheme) == wanted_scheme && endpoint.port == url.port &&
        comparable_host(endpoint.host) == wanted_host) {
      return &endpoint;
    }
  }
  std::string origin = origin_text(wanted_scheme, url.host, url.port);
  if (egress.endpoints.empty()) {
    return make_error(origin +
                      " is not on the policy's egress allow-list: the policy allows no egress "
                      "(egress.endpoints is empty)");
  }
  std::string allowed;
  for (const policy::Endpoint& endpoint : egress.endpoints) {
    if (!allowed.empty()) allowed += ", ";
    allowed += endpoint.name + " " +
               origin_text(endpoint.scheme, comparable_host(endpoint.host), endpoint.port);
  }
  return make_error(origin + " is not on the policy's egress allow-list (allowed: " + allowed +
                    ")");
}

}  // namespace cqda::egress
