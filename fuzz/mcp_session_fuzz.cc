// Fuzzes the MCP message layer with the bytes a client controls: every payload gets either
// no answer or one that is itself valid JSON-RPC, and the session never throws. The first
// byte chooses whether the session is fresh or already initialized (and at which revision),
// so the lifecycle and the batch rules are both reached; tools/list and tools/call reach a
// registry with schemas.
#include <cstdint>
#include <string_view>

#include "mcp/session.h"
#include "mcp/tools.h"

using namespace cqda;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static const mcp::ToolRegistry* registry = [] {
    auto* r = new mcp::ToolRegistry(2);
    for (const char* name : {"search_corpus", "read_document", "code_frequencies"}) {
      mcp::Tool tool;
      tool.name = name;
      tool.input_schema = Json::parse(R"({"type":"object","properties":{"q":{"type":"string","pattern":"^[a-z]+$","maxLength":64},
          "n":{"type":"integer","minimum":0,"maximum":100}},"required":["q"],"additionalProperties":false})");
      tool.output_schema = Json::parse(R"({"type":"object","properties":{"q":{"type":"string"}},"required":["q"]})");
      tool.handler = [](const Json& args, mcp::RequestContext&) -> mcp::ToolOutcome { return {Json{{"q", args["q"]}}, "ok", false}; };
      r->add(std::move(tool));
    }
    return r;
  }();
  mcp::Session session({"cqda", "fuzz", ""}, Json{{"tools", Json::object()}});
  registry->serve(session);
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
