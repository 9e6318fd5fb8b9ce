// Fuzzes the MCP message layer with the bytes a client controls: every payload gets either
// no answer or one that is itself valid JSON-RPC, and the session never throws. The first
// byte chooses whether the session is fresh or already initialized (and at which revision),
// so the lifecycle and the batch rules are both reached.
#include <cstdint>
#include <string_view>

#include "mcp/session.h"

using namespace cqda;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  mcp::Session session({"cqda", "fuzz", ""}, Json{{"tools", Json::object()}});
  session.on_request("tools/list", [](const Json& params) -> mcp::Reply { return Json{{"echo", params}}; });
  const int mode = data[0] % 4;
  if (mode > 0) {
    const char* versions[] = {"2025-11-25", "2025-06-18", "2025-03-26"};
    std::string init = std::string(R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":")") +
                       versions[mode - 1] + R"(","capabilities":{},"clientInfo":{"name":"f","version":"1"}}})";
    if (!session.handle(init)) __builtin_trap();
  }
  auto out = session.handle(std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1));
  if (out) {
    Json reply = Json::parse(*out, nullptr, false);
    if (reply.is_discarded()) __builtin_trap();
    auto check = [](const Json& r) {
      if (!r.is_object() || r.value("jsonrpc", "") != "2.0" || r.contains("result") == r.contains("error")) __builtin_trap();
    };
    if (reply.is_array()) {
      for (const auto& r : reply) check(r);
    } else {
      check(reply);
    }
  }
  return 0;
}
