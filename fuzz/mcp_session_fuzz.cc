// Fuzzes the MCP message layer with the bytes a client controls: every payload gets either
// no answer or one that is itself valid JSON-RPC, and the session never throws. The first
// byte chooses whether the session is fresh or already initialized (and at which revision),
// so the lifecycle and the batch rules are both reached; the session comes from a catalog
// with tools (schemas, cursors), resources and a template, prompts with arguments and
// completion, and logging, as cqda's server has them.
#include <cstdint>
#include <string_view>

#include "mcp/catalog.h"

using namespace cqda;

namespace {

mcp::Catalog* make_catalog() {
  auto* c = new mcp::Catalog(mcp::ServerInfo{"cqda", "fuzz", ""});
  for (const char* name : {"search_corpus", "read_document", "code_frequencies"}) {
    mcp::Tool tool;
    tool.name = name;
    tool.input_schema = Json::parse(R"({"type":"object","properties":{"q":{"type":"string","pattern":"^[a-z]+$","maxLength":64},
        "n":{"type":"integer","minimum":0,"maximum":100}},"required":["q"],"additionalProperties":false})");
    tool.output_schema = Json::parse(R"({"type":"object","properties":{"q":{"type":"string"}},"required":["q"]})");
    tool.handler = [](const Json& args, mcp::RequestContext& context) -> mcp::ToolOutcome {
      context.progress(1, 2, "half");
      context.log(mcp::LogLevel::kInfo, "fuzz", args);
      return {Json{{"q", args["q"]}}, "ok", false};
    };
    c->tools().add(std::move(tool));
  }
  mcp::ResourceProvider provider;
  provider.list = []() -> Result<std::vector<mcp::Resource>> {
    return std::vector<mcp::Resource>{{"cqda://codebook", "codebook", "", "", "application/json", std::nullopt},
                                      {"cqda://documents/a", "a", "", "", "text/plain", 3}};
  };
  provider.read = [](const std::string& uri) -> Result<std::optional<mcp::ResourceText>> {
    auto vars = mcp::match_template("cqda://documents/{id}", uri);
    if (!vars) return std::optional<mcp::ResourceText>();
    return std::optional<mcp::ResourceText>(mcp::ResourceText{uri, "text/plain", vars->at("id")});
  };
  mcp::ResourceTemplate documents{"cqda://documents/{id}", "document", "", "", "text/plain", nullptr};
  documents.complete = [](const std::string&, const std::string& prefix) { return std::vector<std::string>{prefix + "a"}; };
  provider.templates.push_back(documents);
  c->set_resources(std::move(provider));
  mcp::Prompt prompt;
  prompt.name = "summary";
  prompt.description = "d";
  mcp::PromptArgument code{"code", "", "", true, 20, nullptr};
  code.complete = [](const std::string& prefix, const auto&) { return std::vector<std::string>{prefix, prefix + "x"}; };
  prompt.arguments = {code};
  prompt.render = [](const std::map<std::string, std::string>& args) -> Result<mcp::PromptResult> {
    return mcp::PromptResult{"", {{"user", args.at("code")}}};
  };
  c->prompts().add(std::move(prompt));
  c->enable_logging();
  return c;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static const mcp::Catalog* catalog = make_catalog();
  auto owner = catalog->new_session();
  mcp::Session& session = *owner;
  // Notifications a handler sends must be valid JSON-RPC too.
  auto check = [](const Json& r) {
    if (!r.is_object() || r.value("jsonrpc", "") != "2.0") __builtin_trap();
    if (!r.contains("method") && r.contains("result") == r.contains("error")) __builtin_trap();
  };
  mcp::Sender sender = [&check](const Json& message) { check(message); };
  const int mode = data[0] % 4;
  if (mode > 0) {
    const char* versions[] = {"2025-11-25", "2025-06-18", "2025-03-26"};
    std::string init = std::string(R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":")") +
                       versions[mode - 1] + R"(","capabilities":{},"clientInfo":{"name":"f","version":"1"}}})";
    if (!session.handle(init)) __builtin_trap();
  }
  auto out = session.handle(std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1), sender);
  if (out) {
    Json reply = Json::parse(*out, nullptr, false);
    if (reply.is_discarded()) __builtin_trap();
    if (reply.is_array()) {
      for (const auto& r : reply) check(r);
    } else {
      check(reply);
    }
  }
  return 0;
}
