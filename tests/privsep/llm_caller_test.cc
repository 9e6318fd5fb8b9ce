// The LLM caller reaches a local stub only through a socket the supervisor connected after
// checking the egress allow-list; everything else is refused without a byte sent.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "egress/egress.h"
#include "privsep/broker.h"
#include "privsep/llm_caller.h"
#include "privsep_support.h"

using namespace cqda;

namespace {

// A one-connection-at-a-time HTTP stub on 127.0.0.1: records what it receives, answers 200.
class StubServer {
 public:
  StubServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(fd_, 8) == 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~StubServer() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  std::uint16_t port() const { return port_; }
  int connections() const { return connections_; }
  // Reset each connection as soon as it is accepted, reading nothing.
  void reset_connections(bool on) { reset_ = on; }
  std::string received() {
    std::lock_guard lock(mutex_);
    return received_;
  }

 private:
  void serve() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) != 1) continue;
      int client = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) continue;
      ++connections_;
      if (reset_) {
        const linger abort{1, 0};  // close with RST: the writer's next write fails
        ::setsockopt(client, SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
        ::close(client);
        continue;
      }
      std::string request;
      char buffer[4096];
      while (request.find("\r\n\r\n") == std::string::npos) {
        pollfd c{client, POLLIN, 0};
        if (::poll(&c, 1, 2000) != 1) break;
        ssize_t n = ::read(client, buffer, sizeof buffer);
        if (n <= 0) break;
        request.append(buffer, static_cast<std::size_t>(n));
      }
      {
        std::lock_guard lock(mutex_);
        received_ += request;
      }
      const std::string response = "HTTP/1.1 200 OK\r\nContent-Length: 17\r\nConnection: close\r\n\r\n{\"stub\":\"hello\"}\n";
      (void)!::write(client, response.data(), response.size());
      ::close(client);
    }
  }

  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> reset_{false};
  std::atomic<int> connections_{0};
  std::mutex mutex_;
  std::string received_;
};

policy::Endpoint endpoint(std::string name, std::string scheme, std::string host, std::uint16_t port, bool allow_private) {
  return policy::Endpoint{std::move(name), std::move(scheme), std::move(host), port, allow_private};
}

std::string request_text() { return "GET /v1/models HTTP/1.1\r\nHost: stub\r\nConnection: close\r\n\r\n"; }

}  // namespace

TEST_CASE("the llm caller runs locked down and reaches an allow-listed stub through a handed-over socket", "[privsep][llm]") {
  StubServer stub;
  policy::EgressPolicy egress;
  egress.endpoints.push_back(endpoint("stub", "http", "127.0.0.1", stub.port(), true));
  auto caller = privsep::LlmCallerClient::start(egress, egress::system_resolver());
  REQUIRE(caller);
  CHECK(test::proc_status_field((*caller)->pid(), "NoNewPrivs") == "1");
  CHECK(test::proc_status_field((*caller)->pid(), "Seccomp") == "2");

  const std::string url = "http://127.0.0.1:" + std::to_string(stub.port()) + "/v1/models";
  auto response = (*caller)->exchange({url, request_text(), 1 << 20, 5000});
  REQUIRE(response);
  INFO(response->error);
  REQUIRE(response->ok);
  CHECK(response->status == 200);
  CHECK(response->response == "{\"stub\":\"hello\"}\n");
  CHECK(response->bytes_sent == request_text().size());
  CHECK(stub.received() == request_text());
  REQUIRE((*caller)->decisions().size() == 1);
  CHECK((*caller)->decisions()[0].allowed);
  CHECK((*caller)->decisions()[0].address == "127.0.0.1:" + std::to_string(stub.port()));
  REQUIRE((*caller)->finish());
}

TEST_CASE("a peer that resets while the request is written is an error, not a SIGPIPE that ends the caller",
          "[privsep][llm]") {
  StubServer stub;
  policy::EgressPolicy egress;
  egress.endpoints.push_back(endpoint("stub", "http", "127.0.0.1", stub.port(), true));
  auto caller = privsep::LlmCallerClient::start(egress, egress::system_resolver());
  REQUIRE(caller);
  const std::string url = "http://127.0.0.1:" + std::to_string(stub.port()) + "/v1/chat/completions";
  // Far more than the socket buffers hold, so the caller is still writing when the RST comes.
  const std::string big = "POST /v1/chat/completions HTTP/1.1\r\nHost: stub\r\nContent-Length: 4194304\r\n\r\n" +
                          std::string(4u << 20, 'x');
  stub.reset_connections(true);
  auto failed = (*caller)->exchange({url, big, 1 << 20, 5000});
  REQUIRE(failed);  // an answer over the channel: the caller is alive
  CHECK_FALSE(failed->ok);
  INFO(failed->error);
  CHECK_FALSE(failed->error.empty());
  CHECK(failed->bytes_sent < big.size());
  // The same caller goes on to the next request.
  stub.reset_connections(false);
  auto response = (*caller)->exchange({url, request_text(), 1 << 20, 5000});
  REQUIRE(response);
  INFO(response->error);
  CHECK(response->ok);
  CHECK(response->status == 200);
  REQUIRE((*caller)->finish());
}

TEST_CASE("the llm caller cannot reach what the egress policy does not allow; no byte is sent", "[privsep][llm]") {
  StubServer stub;
  policy::EgressPolicy egress;
  egress.endpoints.push_back(endpoint("metadata", "https", "metadata.test", stub.port(), false));
  egress.endpoints.push_back(endpoint("loopback-not-allowed", "https", "localhost", stub.port(), false));
  egress.endpoints.push_back(endpoint("stub", "http", "127.0.0.1", stub.port(), true));
  // The test's DNS: the allow-listed name answers with the cloud metadata address.
  egress::Resolver resolver = [&](const std::string& host, std::uint16_t port) -> Result<std::vector<egress::Address>> {
    if (host == "metadata.test") return std::vector<egress::Address>{egress::make_address_v4(0xA9FEA9FE, port)};
    return egress::system_resolver()(host, port);
  };
  auto caller = privsep::LlmCallerClient::start(egress, resolver);
  REQUIRE(caller);

  SECTION("an endpoint not on the allow-list") {
    auto response = (*caller)->exchange({"http://127.0.0.1:" + std::to_string(stub.port() == 65535 ? 1 : stub.port() + 1) + "/",
                                         request_text(), 1024, 2000});
    REQUIRE(response);
    CHECK_FALSE(response->ok);
    CHECK(response->error.find("allow-list") != std::string::npos);
    auto other_host = (*caller)->exchange({"https://api.example.com/v1/chat", request_text(), 1024, 2000});
    REQUIRE(other_host);
    CHECK_FALSE(other_host->ok);
  }
  SECTION("an allow-listed name that resolves to the metadata address") {
    auto response = (*caller)->exchange({"https://metadata.test:" + std::to_string(stub.port()) + "/", request_text(), 1024, 2000});
    REQUIRE(response);
    CHECK_FALSE(response->ok);
    INFO(response->error);
    CHECK(response->error.find("169.254.169.254") != std::string::npos);
  }
  SECTION("an allow-listed name that resolves to loopback without allow_private") {
    auto response = (*caller)->exchange({"https://localhost:" + std::to_string(stub.port()) + "/", request_text(), 1024, 2000});
    REQUIRE(response);
    CHECK_FALSE(response->ok);
    INFO(response->error);
    CHECK(response->error.find("loopback") != std::string::npos);
  }
  CHECK(stub.connections() == 0);
  CHECK(stub.received().empty());
  for (const auto& d : (*caller)->decisions()) CHECK_FALSE(d.allowed);
  // The caller is still healthy after refusals.
  REQUIRE((*caller)->finish());
}

TEST_CASE("the broker runs with no_new_privs and a seccomp filter and answers over its channel", "[privsep][broker]") {
  privsep::BrokerSetup setup;
  auto broker = privsep::BrokerClient::start(setup);
  REQUIRE(broker);
  CHECK(test::proc_status_field((*broker)->pid(), "NoNewPrivs") == "1");
  CHECK(test::proc_status_field((*broker)->pid(), "Seccomp") == "2");
  CHECK((*broker)->lockdown_report().find("broker: seccomp allow-list") != std::string::npos);
  REQUIRE((*broker)->ping());
  REQUIRE((*broker)->ping());
  REQUIRE((*broker)->finish());
}
