#include <catch2/catch.hpp>
#include <string>

#include "egress/egress.h"

using namespace cqda;

namespace {

egress::Url parsed(const std::string& text) {
  auto url = egress::parse_url(text);
  INFO(text);
  if (!url) FAIL(url.error().message);
  return *url;
}

std::string refusal(const std::string& text) {
  auto url = egress::parse_url(text);
  INFO(text);
  REQUIRE_FALSE(url.ok());
  return url.error().message;
}

policy::EgressPolicy two_endpoints() {
  policy::EgressPolicy egress;
  egress.endpoints.push_back({"openai", "https", "api.openai.com", 443, false});
  egress.endpoints.push_back({"ollama", "http", "127.0.0.1", 11434, true});
  return egress;
}

}  // namespace

TEST_CASE("well-formed http and https URLs parse", "[egress][url]") {
  auto url = parsed("https://api.openai.com/v1/chat/completions");
  CHECK(url.scheme == "https");
  CHECK(url.host == "api.openai.com");
  CHECK(url.port == 443);
  CHECK(url.target == "/v1/chat/completions");

  url = parsed("http://127.0.0.1:11434");
  CHECK(url.scheme == "http");
  CHECK(url.host == "127.0.0.1");
  CHECK(url.port == 11434);
  CHECK(url.target == "/");

  url = parsed("HTTPS://API.OpenAI.COM:8443/v1?x=1");
  CHECK(url.scheme == "https");
  CHECK(url.host == "api.openai.com");
  CHECK(url.port == 8443);
  CHECK(url.target == "/v1?x=1");

  CHECK(parsed("http://ollama").port == 80);
  CHECK(parsed("https://llm.example?q=1").target == "/?q=1");
  CHECK(parsed("https://my_host.internal-net.example/").host == "my_host.internal-net.example");
  CHECK(parsed("https://a.b:1").port == 1);
  CHECK(parsed("https://a.b:65535").port == 65535);
  CHECK(parsed("https://example.com/@user").target == "/@user");  // '@' in the path is harmless
}

TEST_CASE("IPv6 literals are accepted only in brackets", "[egress][url]") {
  auto url = parsed("http://[::1]:8080/x");
  CHECK(url.host == "::1");
  CHECK(url.port == 8080);
  CHECK(url.target == "/x");
  CHECK(parsed("https://[2001:DB8::AbC]").host == "2001:db8::abc");
  CHECK(parsed("https://[0:0:0:0:0:0:0:1]").host == "::1");  // canonical form
  CHECK(parsed("https://[2606:4700::1111]").port == 443);

  CHECK_THAT(refusal("http://::1:8080/"), Catch::Contains("brackets"));
  CHECK_THAT(refusal("http://[::1/"), Catch::Contains("closing ']'"));
  CHECK_THAT(refusal("http://[fe80::1%eth0]/"), Catch::Contains("zone"));
  CHECK_THAT(refusal("http://[fe80::1%25eth0]/"), Catch::Contains("zone"));
  CHECK_THAT(refusal("http://[not-ipv6]/"), Catch::Contains("not a valid IPv6"));
  CHECK_THAT(refusal("http://[::1]x:80/"), Catch::Contains("after the IPv6 literal"));
  CHECK_THAT(refusal("http://[127.0.0.1]/"), Catch::Contains("not a valid IPv6"));
  CHECK_THAT(refusal("http://a[::1]/"), Catch::Contains("only enclose an IPv6"));
  CHECK_THAT(refusal("http://a]b/"), Catch::Contains("only enclose an IPv6"));
}

TEST_CASE("userinfo is refused", "[egress][url]") {
  CHECK_THAT(refusal("https://api.openai.com@evil.example/"), Catch::Contains("userinfo"));
  CHECK_THAT(refusal("https://user:pass@api.openai.com/"), Catch::Contains("userinfo"));
  CHECK_THAT(refusal("https://@api.openai.com/"), Catch::Contains("userinfo"));
  CHECK_THAT(refusal("https://api.openai.com:443@127.0.0.1/"), Catch::Contains("userinfo"));
}

TEST_CASE("bad ports are refused", "[egress][url]") {
  CHECK_THAT(refusal("https://a.example:0/"), Catch::Contains("1 to 65535"));
  CHECK_THAT(refusal("https://a.example:65536/"), Catch::Contains("1 to 65535"));
  CHECK_THAT(refusal("https://a.example:99999999999/"), Catch::Contains("1 to 65535"));
  CHECK_THAT(refusal("https://a.example:-1/"), Catch::Contains("1 to 65535"));
  CHECK_THAT(refusal("https://a.example:+443/"), Catch::Contains("1 to 65535"));
  CHECK_THAT(refusal("https://a.example:0x1bb/"), Catch::Contains("1 to 65535"));
  CHECK_THAT(refusal("https://a.example:/"), Catch::Contains("empty"));
  CHECK_THAT(refusal("https://a.example:443:80/"), Catch::Contains("second ':'"));
}

TEST_CASE("schemes other than http and https, and missing schemes, are refused", "[egress][url]") {
  CHECK_THAT(refusal("ftp://files.example/"), Catch::Contains("\"ftp\" is not allowed"));
  CHECK_THAT(refusal("file:///etc/passwd"), Catch::Contains("\"file\" is not allowed"));
  CHECK_THAT(refusal("gopher://x.example:70/"), Catch::Contains("not allowed"));
  CHECK_THAT(refusal("api.openai.com/v1"), Catch::Contains("no scheme"));
  CHECK_THAT(refusal("api.openai.com:443"), Catch::Contains("no scheme"));
  CHECK_THAT(refusal("//api.openai.com/"), Catch::Contains("no scheme"));
  CHECK_THAT(refusal("://api.openai.com/"), Catch::Contains("no scheme"));
  CHECK_THAT(refusal("https:/api.openai.com/"), Catch::Contains("no scheme"));
  CHECK_THAT(refusal(""), Catch::Contains("no scheme"));
}

TEST_CASE("empty, malformed and ambiguous hosts are refused", "[egress][url]") {
  CHECK_THAT(refusal("https://"), Catch::Contains("host is empty"));
  CHECK_THAT(refusal("https:///v1"), Catch::Contains("host is empty"));
  CHECK_THAT(refusal("https://:443/"), Catch::Contains("host is empty"));
  CHECK_THAT(refusal("https://api..openai.com/"), Catch::Contains("empty label"));
  CHECK_THAT(refusal("https://.openai.com/"), Catch::Contains("empty label"));
  CHECK_THAT(refusal("https://api.openai.com./"), Catch::Contains("empty label"));
  CHECK_THAT(refusal("https://" + std::string(64, 'a') + ".example/"), Catch::Contains("label"));
  CHECK_THAT(refusal("https://" + std::string(250, 'a') + ".example/"), Catch::Contains("longer"));
  CHECK_THAT(refusal("https://api.open%61i.com/"), Catch::Contains("'%'"));
  // Numeric hosts that inet_aton (inside getaddrinfo) would read as 127.0.0.1.
  CHECK_THAT(refusal("http://127.1/"), Catch::Contains("dotted-quad"));
  CHECK_THAT(refusal("http://2130706433/"), Catch::Contains("dotted-quad"));
  CHECK_THAT(refusal("http://0x7f.0.0.1/"), Catch::Contains("dotted-quad"));
  CHECK_THAT(refusal("http://0x7f000001/"), Catch::Contains("dotted-quad"));
  CHECK_THAT(refusal("http://0177.0.0.1/"), Catch::Contains("dotted-quad"));
  CHECK_THAT(refusal("http://example.123/"), Catch::Contains("dotted-quad"));
  CHECK(parsed("http://1example.com/").host == "1example.com");
  CHECK(parsed("http://10.0.0.1/").host == "10.0.0.1");
}

TEST_CASE("spaces, control characters, non-ASCII, backslashes and fragments are refused",
          "[egress][url]") {
  CHECK_THAT(refusal("https://api.openai.com /"), Catch::Contains("offset 22"));
  CHECK_THAT(refusal(" https://api.openai.com/"), Catch::Contains("offset 0"));
  CHECK_THAT(refusal("https://api.openai.com/\r\nHost: evil"), Catch::Contains("\\x0d"));
  CHECK_THAT(refusal(std::string("https://api.openai.com\0.evil/", 29)),
             Catch::Contains("control"));
  CHECK_THAT(refusal("https://api.openai.com\t/"), Catch::Contains("control"));
  CHECK_THAT(refusal("https://b\xc3\xbc"
                     "cher.example/"),
             Catch::Contains("punycode"));
  CHECK_THAT(refusal("https://api.openai.com\\@evil.example/"), Catch::Contains("backslash"));
  CHECK_THAT(refusal("https://evil.example#@api.openai.com/"), Catch::Contains("fragment"));
  CHECK_THAT(refusal("https://api.openai.com/v1#x"), Catch::Contains("fragment"));
  CHECK_THAT(refusal("https://a.example/" + std::string(3000, 'x')),
             Catch::Contains("longer than"));
}

TEST_CASE("find_endpoint matches scheme, host and port exactly", "[egress][url]") {
  policy::EgressPolicy egress = two_endpoints();

  auto found = egress::find_endpoint(egress, parsed("https://api.openai.com/v1/chat/completions"));
  REQUIRE(found.ok());
  CHECK((*found)->name == "openai");
  found = egress::find_endpoint(egress, parsed("HTTPS://API.OPENAI.COM:443/v1"));
  REQUIRE(found.ok());
  CHECK((*found)->name == "openai");
  found = egress::find_endpoint(egress, parsed("http://127.0.0.1:11434/api/chat"));
  REQUIRE(found.ok());
  CHECK((*found)->name == "ollama");

  // Port differs.
  auto refused = egress::find_endpoint(egress, parsed("https://api.openai.com:8443/"));
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().message ==
        "https://api.openai.com:8443 is not on the policy's egress allow-list (allowed: openai "
        "https://api.openai.com:443, ollama http://127.0.0.1:11434)");
  CHECK_FALSE(egress::find_endpoint(egress, parsed("http://127.0.0.1/")).ok());
  // Scheme differs.
  refused = egress::find_endpoint(egress, parsed("http://api.openai.com:443/"));
  REQUIRE_FALSE(refused.ok());
  CHECK_THAT(refused.error().message, Catch::StartsWith("http://api.openai.com:443 is not on"));
  CHECK_FALSE(egress::find_endpoint(egress, parsed("https://127.0.0.1:11434/")).ok());
  // Host differs, including look-alikes.
  refused = egress::find_endpoint(egress, parsed("https://evil.example/"));
  REQUIRE_FALSE(refused.ok());
  CHECK_THAT(refused.error().message,
             Catch::StartsWith("https://evil.example:443 is not on the policy's egress allow-list "
                               "(allowed: openai https://api.openai.com:443"));
  CHECK_FALSE(egress::find_endpoint(egress, parsed("https://api.openai.com.evil.example/")).ok());
  CHECK_FALSE(egress::find_endpoint(egress, parsed("https://openai.com/")).ok());
  CHECK_FALSE(egress::find_endpoint(egress, parsed("http://localhost:11434/")).ok());
  CHECK_FALSE(egress::find_endpoint(egress, parsed("http://[::1]:11434/")).ok());
}

TEST_CASE("find_endpoint compares hosts case-insensitively and IPv6 in canonical form",
          "[egress][url]") {
  policy::EgressPolicy egress;
  egress.endpoints.push_back({"mixed", "https", "LLM.Example.COM", 443, false});
  egress.endpoints.push_back({"v6", "http", "0:0:0:0:0:0:0:1", 8080, true});
  auto found = egress::find_endpoint(egress, parsed("https://llm.example.com/"));
  REQUIRE(found.ok());
  CHECK((*found)->name == "mixed");
  found = egress::find_endpoint(egress, parsed("http://[::1]:8080/"));
  REQUIRE(found.ok());
  CHECK((*found)->name == "v6");
  auto refused = egress::find_endpoint(egress, parsed("http://[::2]:8080/"));
  REQUIRE_FALSE(refused.ok());
  CHECK_THAT(refused.error().message, Catch::StartsWith("http://[::2]:8080 is not on"));
  CHECK_THAT(refused.error().message, Catch::Contains("v6 http://[::1]:8080"));
}

TEST_CASE("find_endpoint refuses everything when the policy has no endpoints", "[egress][url]") {
  policy::EgressPolicy none;
  auto refused = egress::find_endpoint(none, parsed("https://api.openai.com/"));
  REQUIRE_FALSE(refused.ok());
  CHECK_THAT(refused.error().message, Catch::Contains("https://api.openai.com:443 is not on"));
  CHECK_THAT(refused.error().message, Catch::Contains("egress.endpoints is empty"));
}
