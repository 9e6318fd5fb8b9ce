// The stdio transport over real pipes: order until initialized, concurrent requests after,
// cancellation reaching a running tool, over-long lines, and the end of input.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <map>
#include <sstream>
#include <string>
#include <thread>

#include "mcp/catalog.h"
#include "mcp/stdio.h"

using namespace cqda;
using namespace cqda::mcp;

namespace {

struct Pipes {
  int in[2];
  int out[2];
  Pipes() {
    REQUIRE(::pipe(in) == 0);
    REQUIRE(::pipe(out) == 0);
  }
  ~Pipes() {
    for (int fd : {in[0], in[1], out[0], out[1]})
      if (fd >= 0) ::close(fd);
  }
  void write(const std::string& text) const { REQUIRE(::write(in[1], text.data(), text.size()) == static_cast<ssize_t>(text.size())); }
  void close_input() {
    ::close(in[1]);
    in[1] = -1;
  }
  std::string read_all() {
    std::string all;
    char buf[4096];
    for (ssize_t n; (n = ::read(out[0], buf, sizeof buf)) > 0;) all.append(buf, static_cast<std::size_t>(n));
    return all;
  }
};

const std::string kInit =
    R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}})"
    "\n";

std::unique_ptr<Catalog> catalog_with_slow_tool(std::atomic<int>& started) {
  auto catalog = std::make_unique<Catalog>(ServerInfo{"cqda", "1", ""});
  Tool slow;
  slow.name = "slow";
  slow.title = "Slow";
  slow.input_schema = Json::parse(R"({"type":"object"})");
  slow.handler = [&started](const Json&, RequestContext& context) -> ToolOutcome {
    ++started;
    for (int i = 0; i < 10000 && !context.cancelled(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return {nullptr, context.cancelled() ? "stopped" : "finished", false};
  };
  catalog->tools().add(slow);
  return catalog;
}

std::map<int, Json> by_id(const std::string& out) {
  std::map<int, Json> m;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    Json j = Json::parse(line);
    if (j.contains("id")) m[j["id"].is_number() ? j["id"].get<int>() : -1] = j;
  }
  return m;
}

}  // namespace

TEST_CASE("stdio: initialize and the first requests written at once are answered in order", "[mcp][stdio]") {
  std::atomic<int> started{0};
  auto catalog = catalog_with_slow_tool(started);
  auto session = catalog->new_session();
  Pipes p;
  std::string lines = kInit;
  for (int id = 2; id < 12; ++id) lines += R"({"jsonrpc":"2.0","id":)" + std::to_string(id) + R"(,"method":"tools/list"})" "\n";
  p.write(lines);
  p.close_input();
  std::thread server([&] { CHECK(serve_stdio(*session, p.in[0], p.out[1]) == 0); });
  server.join();
  ::close(p.out[1]);
  p.out[1] = -1;
  auto r = by_id(p.read_all());
  REQUIRE(r.size() == 11);
  for (int id = 2; id < 12; ++id) CHECK(r[id]["result"]["tools"].size() == 1);  // none saw an uninitialized session
}

TEST_CASE("stdio: a cancellation reaches a running tool; over-long lines are refused", "[mcp][stdio]") {
  std::atomic<int> started{0};
  auto catalog = catalog_with_slow_tool(started);
  auto session = catalog->new_session();
  Pipes p;
  StdioOptions options;
  options.max_line = 1000;
  std::thread server([&] { CHECK(serve_stdio(*session, p.in[0], p.out[1], options) == 0); });
  p.write(kInit);
  p.write(R"({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"slow","arguments":{}}})" "\n");
  while (started.load() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const auto begin = std::chrono::steady_clock::now();
  // While the tool runs, the transport still reads: a ping and an over-long line are answered.
  p.write(R"({"jsonrpc":"2.0","id":3,"method":"ping"})" "\n");
  p.write(R"({"jsonrpc":"2.0","id":4,"method":"ping","params":{"pad":")" + std::string(3000, 'x') + "\"}}\n");
  p.write(R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":2}})" "\n");
  p.close_input();
  server.join();
  CHECK(std::chrono::steady_clock::now() - begin < std::chrono::seconds(5));  // it did not run its 10 s
  ::close(p.out[1]);
  p.out[1] = -1;
  auto r = by_id(p.read_all());
  CHECK(r.count(2) == 0);  // a cancelled request gets no response
  CHECK(r[3]["result"] == Json::object());
  CHECK(r[-1]["error"]["code"] == -32700);
  CHECK(r.count(4) == 0);
}
