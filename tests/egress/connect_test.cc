// connect_allowed against a real TCP listener on 127.0.0.1: every refusal is checked to
// have happened before any connection, and a permitted connection to carry no byte.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <string>
#include <vector>

#include "common/fd.h"
#include "egress/egress.h"
#include "policy/policy.h"
#include "resources/resources.h"

using namespace cqda;
using namespace std::chrono_literals;

namespace {

// A non-blocking TCP listener on 127.0.0.1 with an ephemeral port.
class Listener {
 public:
  explicit Listener(int backlog = 8) {
    fd_.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    REQUIRE(fd_.valid());
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd_.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    REQUIRE(::listen(fd_.get(), backlog) == 0);
    socklen_t length = sizeof address;
    REQUIRE(::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&address), &length) == 0);
    port_ = ntohs(address.sin_port);
  }
  std::uint16_t port() const { return port_; }

  // A pending connection, waiting up to `wait` for one; invalid when there is none.
  UniqueFd accept(std::chrono::milliseconds wait = 0ms) {
    pollfd ready{fd_.get(), POLLIN, 0};
    if (::poll(&ready, 1, static_cast<int>(wait.count())) <= 0) return UniqueFd();
    return UniqueFd(::accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
  }
  // True when nobody has connected: a non-blocking accept finds nothing.
  bool untouched() {
    UniqueFd none(::accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
    return !none.valid() && (errno == EAGAIN || errno == EWOULDBLOCK);
  }

 private:
  UniqueFd fd_;
  std::uint16_t port_ = 0;
};

// The bundled default policy with `endpoints_json` as egress.endpoints, through the real
// loader so the endpoints obey the policy's own validation.
policy::EgressPolicy egress_with(const std::string& endpoints_json) {
  std::string text(resources::get("policy/default.json"));
  const std::string empty = "\"endpoints\": []";
  auto at = text.find(empty);
  REQUIRE(at != std::string::npos);
  text.replace(at, empty.size(), "\"endpoints\": " + endpoints_json);
  auto policy = policy::load_policy_text(text, "test-policy.json");
  if (!policy) FAIL(policy.error().message);
  return policy->egress;
}

std::string endpoint_json(const std::string& name, const std::string& scheme,
                          const std::string& host, std::uint16_t port, bool allow_private) {
  return "{\"name\": \"" + name + "\", \"scheme\": \"" + scheme + "\", \"host\": \"" + host +
         "\", \"port\": " + std::to_string(port) +
         ", \"allow_private\": " + (allow_private ? "true" : "false") + "}";
}

egress::Address ip(const std::string& text, std::uint16_t port = 0) {
  in_addr v4{};
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1)
    return egress::make_address_v4(ntohl(v4.s_addr), port);
  std::uint8_t v6[16];
  REQUIRE(inet_pton(AF_INET6, text.c_str(), v6) == 1);
  return egress::make_address_v6(v6, port);
}

// A resolver that answers every name with fixed addresses and counts its calls.
struct FakeResolver {
  std::vector<egress::Address> answer;
  int calls = 0;
  std::string asked_host;
  std::uint16_t asked_port = 0;
  egress::Resolver resolver() {
    return [this](const std::string& host,
                  std::uint16_t port) -> Result<std::vector<egress::Address>> {
      ++calls;
      asked_host = host;
      asked_port = port;
      return answer;
    };
  }
};

std::string refusal(const policy::EgressPolicy& egress, const std::string& url,
                    const egress::Resolver& resolver) {
  auto connection = egress::connect_allowed(egress, url, resolver, 2000ms);
  INFO(url);
  REQUIRE_FALSE(connection.ok());
  return connection.error().message;
}

}  // namespace

TEST_CASE("a URL that is not on the allow-list is refused before DNS and before connecting",
          "[egress][connect]") {
  Listener listener;
  auto egress =
      egress_with("[" + endpoint_json("openai", "https", "api.openai.com", 443, false) + "]");
  FakeResolver fake{{ip("127.0.0.1")}};
  std::string url = "http://127.0.0.1:" + std::to_string(listener.port()) + "/";

  CHECK_THAT(refusal(egress, url, fake.resolver()),
             Catch::Equals("http://127.0.0.1:" + std::to_string(listener.port()) +
                           " is not on the policy's egress allow-list (allowed: openai "
                           "https://api.openai.com:443)"));
  CHECK_THAT(refusal(egress, url, egress::system_resolver()),
             Catch::Contains("not on the policy's egress allow-list"));
  CHECK_THAT(refusal(egress, "https://api.openai.com@127.0.0.1:" + std::to_string(listener.port()),
                     fake.resolver()),
             Catch::Contains("userinfo"));
  CHECK_THAT(refusal(policy::default_policy().egress, url, fake.resolver()),
             Catch::Contains("egress.endpoints is empty"));
  CHECK(fake.calls == 0);
  CHECK(listener.untouched());
}

TEST_CASE("an allow-listed name that resolves to a forbidden address is refused",
          "[egress][connect]") {
  Listener listener;
  // The endpoint's port is the listener's: were the address check missing, the loopback
  // answer below would reach the listener.
  auto egress =
      egress_with("[" + endpoint_json("llm", "https", "llm.example", listener.port(), false) + "," +
                  endpoint_json("local", "https", "local.example", listener.port(), true) + "]");
  std::string url = "https://llm.example:" + std::to_string(listener.port()) + "/v1";
  std::string local_url = "https://local.example:" + std::to_string(listener.port()) + "/v1";

  struct Case {
    const char* address;
    const char* cls;
  };
  for (const Case& c :
       {Case{"169.254.169.254", "metadata"}, Case{"10.0.0.1", "private"},
        Case{"127.0.0.1", "loopback"}, Case{"::1", "loopback"},
        Case{"::ffff:127.0.0.1", "loopback"}, Case{"::ffff:169.254.169.254", "metadata"},
        Case{"fe80::1", "link-local"}, Case{"fd00:ec2::254", "metadata"},
        Case{"0.0.0.0", "unspecified"}, Case{"224.0.0.1", "multicast"},
        Case{"192.0.2.1", "reserved"}, Case{"64:ff9b::a9fe:a9fe", "reserved"}}) {
    FakeResolver fake{{ip(c.address, listener.port())}};
    CHECK(refusal(egress, url, fake.resolver()) == std::string("llm.example resolves to ") +
                                                       c.address + " (" + c.cls +
                                                       "): refused by the egress policy");
    CHECK(fake.calls == 1);
    CHECK(fake.asked_host == "llm.example");
    CHECK(fake.asked_port == listener.port());
  }

  // allow_private never extends to metadata, unspecified, multicast or reserved addresses.
  for (const char* address : {"169.254.169.254", "100.100.100.200", "0.0.0.0", "::", "192.0.2.1"}) {
    FakeResolver fake{{ip(address, listener.port())}};
    CHECK_THAT(refusal(egress, local_url, fake.resolver()),
               Catch::StartsWith(std::string("local.example resolves to ") + address));
  }
  CHECK(listener.untouched());
}

TEST_CASE("a mixed public and private answer is refused as a whole", "[egress][connect]") {
  Listener listener;
  auto egress =
      egress_with("[" + endpoint_json("llm", "https", "llm.example", listener.port(), false) + "]");
  std::string url = "https://llm.example:" + std::to_string(listener.port()) + "/";

  FakeResolver public_first{{ip("8.8.8.8"), ip("127.0.0.1")}};
  CHECK(refusal(egress, url, public_first.resolver()) ==
        "llm.example resolves to 127.0.0.1 (loopback): refused by the egress policy");
  FakeResolver private_first{{ip("10.1.2.3"), ip("2606:4700:4700::1111")}};
  CHECK(refusal(egress, url, private_first.resolver()) ==
        "llm.example resolves to 10.1.2.3 (private): refused by the egress policy");
  FakeResolver metadata_last{{ip("1.1.1.1"), ip("2606:4700:4700::1111"), ip("169.254.169.254")}};
  CHECK_THAT(refusal(egress, url, metadata_last.resolver()),
             Catch::Contains("169.254.169.254 (metadata)"));
  CHECK(listener.untouched());
}

TEST_CASE("plain http never goes to a public address, even for an allow_private endpoint", "[egress][connect]") {
  Listener listener;
  auto egress = egress_with("[" + endpoint_json("ollama", "http", "ollama.example", listener.port(), true) + "]");
  const std::string url = "http://ollama.example:" + std::to_string(listener.port()) + "/api/chat";
  FakeResolver public_answer{{ip("93.184.216.34")}};
  CHECK(refusal(egress, url, public_answer.resolver()) ==
        "ollama.example resolves to 93.184.216.34 (public): plain http is refused to a public address; use https");
  FakeResolver mixed{{ip("10.0.0.7"), ip("2606:4700:4700::1111")}};
  CHECK_THAT(refusal(egress, url, mixed.resolver()), Catch::Contains("(public): plain http is refused"));
  CHECK(listener.untouched());
  // The same endpoint on a private network address is fine (it is connected to the
  // listener on loopback here).
  FakeResolver loopback{{ip("127.0.0.1")}};
  CHECK(egress::connect_allowed(egress, url, loopback.resolver(), 2000ms).ok());
}

TEST_CASE("resolver failures and empty answers are refused", "[egress][connect]") {
  auto egress = egress_with("[" + endpoint_json("llm", "https", "llm.example", 443, false) + "]");
  FakeResolver empty{{}};
  CHECK(refusal(egress, "https://llm.example/", empty.resolver()) ==
        "llm.example resolves to no address");
  egress::Resolver failing = [](const std::string& host,
                                std::uint16_t) -> Result<std::vector<egress::Address>> {
    return make_error("resolving " + host + ": Name or service not known");
  };
  CHECK(refusal(egress, "https://llm.example/", failing) ==
        "resolving llm.example: Name or service not known");
  egress::Address unix_address;
  unix_address.storage.ss_family = AF_UNIX;
  unix_address.length = sizeof(sa_family_t);
  FakeResolver strange{{unix_address}};
  CHECK_THAT(refusal(egress, "https://llm.example/", strange.resolver()),
             Catch::Contains("unusable address"));
}

TEST_CASE("an allow_private loopback endpoint connects and sends nothing", "[egress][connect]") {
  Listener listener;
  auto egress =
      egress_with("[" + endpoint_json("ollama", "http", "127.0.0.1", listener.port(), true) + "]");
  std::string url = "http://127.0.0.1:" + std::to_string(listener.port()) + "/api/chat";

  auto connection = egress::connect_allowed(egress, url, egress::system_resolver(), 2000ms);
  if (!connection) FAIL(connection.error().message);
  CHECK(connection->endpoint == &egress.endpoints[0]);
  CHECK(connection->address.text() == "127.0.0.1:" + std::to_string(listener.port()));
  int flags = ::fcntl(connection->fd.get(), F_GETFL);
  CHECK((flags & O_NONBLOCK) == 0);
  CHECK((::fcntl(connection->fd.get(), F_GETFD) & FD_CLOEXEC) != 0);

  UniqueFd accepted = listener.accept(2000ms);
  REQUIRE(accepted.valid());
  pollfd readable{accepted.get(), POLLIN, 0};
  CHECK(::poll(&readable, 1, 200) == 0);  // no byte arrives, and no FIN either
  char byte;
  CHECK(::recv(accepted.get(), &byte, 1, MSG_DONTWAIT) == -1);
  CHECK((errno == EAGAIN || errno == EWOULDBLOCK));
  CHECK(listener.untouched());  // exactly one connection
}

TEST_CASE("the policy's port is used whatever port the resolver answers with",
          "[egress][connect]") {
  Listener listener;
  auto egress = egress_with(
      "[" + endpoint_json("local", "http", "ollama.internal", listener.port(), true) + "]");
  FakeResolver fake{{ip("127.0.0.1", 9)}};
  auto connection = egress::connect_allowed(
      egress, "http://ollama.internal:" + std::to_string(listener.port()), fake.resolver(), 2000ms);
  if (!connection) FAIL(connection.error().message);
  CHECK(connection->address.text() == "127.0.0.1:" + std::to_string(listener.port()));
  CHECK(listener.accept(2000ms).valid());
}

TEST_CASE("a closed port gives a clear connection error", "[egress][connect]") {
  // A bound socket that does not listen answers SYN with RST; keeping it open keeps the
  // port from being reused while the test runs.
  UniqueFd closed(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  REQUIRE(closed.valid());
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(closed.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  socklen_t length = sizeof address;
  REQUIRE(::getsockname(closed.get(), reinterpret_cast<sockaddr*>(&address), &length) == 0);
  std::uint16_t port = ntohs(address.sin_port);

  auto egress = egress_with("[" + endpoint_json("ollama", "http", "127.0.0.1", port, true) + "]");
  std::string message =
      refusal(egress, "http://127.0.0.1:" + std::to_string(port) + "/", egress::system_resolver());
  CHECK_THAT(message, Catch::StartsWith(
                          "connecting to 127.0.0.1 (ollama) within 2000 ms failed: 127.0.0.1:" +
                          std::to_string(port) + ": connect: ECONNREFUSED"));
}

TEST_CASE("a connection that does not complete within the timeout is abandoned",
          "[egress][connect]") {
  // Linux drops SYNs to a listener whose accept queue is full, so further connects hang.
  Listener listener(0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(listener.port());
  std::vector<UniqueFd> fillers;
  for (int i = 0; i < 4; ++i) {
    fillers.emplace_back(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    ::connect(fillers.back().get(), reinterpret_cast<sockaddr*>(&address), sizeof address);
  }
  auto egress =
      egress_with("[" + endpoint_json("ollama", "http", "127.0.0.1", listener.port(), true) + "]");
  auto start = std::chrono::steady_clock::now();
  auto connection =
      egress::connect_allowed(egress, "http://127.0.0.1:" + std::to_string(listener.port()),
                              egress::system_resolver(), 300ms);
  auto elapsed = std::chrono::steady_clock::now() - start;
  REQUIRE_FALSE(connection.ok());
  CHECK_THAT(connection.error().message,
             Catch::Contains("within 300 ms failed") && Catch::Contains("timed out"));
  CHECK(elapsed >= 290ms);
  CHECK(elapsed < 2000ms);
}

TEST_CASE("every address is tried in order until one connects", "[egress][connect]") {
  UniqueFd closed(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  REQUIRE(closed.valid());
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK + 1);  // 127.0.0.2: same port, nobody there
  Listener listener;
  address.sin_port = htons(listener.port());
  REQUIRE(::bind(closed.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);

  auto egress = egress_with(
      "[" + endpoint_json("local", "http", "ollama.internal", listener.port(), true) + "]");
  FakeResolver fake{{ip("127.0.0.2"), ip("127.0.0.1")}};
  auto connection = egress::connect_allowed(
      egress, "http://ollama.internal:" + std::to_string(listener.port()), fake.resolver(), 2000ms);
  if (!connection) FAIL(connection.error().message);
  CHECK(connection->address.ip_text() == "127.0.0.1");
  CHECK(listener.accept(2000ms).valid());
}

TEST_CASE("the system resolver answers localhost with loopback addresses", "[egress][connect]") {
  auto addresses = egress::system_resolver()("localhost", 8080);
  if (!addresses) FAIL(addresses.error().message);
  REQUIRE_FALSE(addresses->empty());
  for (const egress::Address& address : *addresses) {
    INFO(address.text());
    CHECK(egress::classify(address) == egress::AddressClass::kLoopback);
    CHECK_THAT(address.text(), Catch::EndsWith(":8080"));
  }
  auto missing = egress::system_resolver()("no-such-host.invalid", 443);
  REQUIRE_FALSE(missing.ok());
  CHECK_THAT(missing.error().message, Catch::StartsWith("resolving no-such-host.invalid: "));
}
