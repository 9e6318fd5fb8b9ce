// Content beyond text: extra content blocks in a tool result, binary resource contents (blob)
// and non-text prompt messages, as the server hands them to the library.
#include <catch2/catch.hpp>

#include "mcp/prompts.h"
#include "mcp/resources.h"
#include "mcp/tools.h"

using namespace cqda;
using namespace cqda::mcp;

namespace {

const Json kImage = {{"type", "image"}, {"data", "iVBORw0KGgo="}, {"mimeType", "image/png"}};

}  // namespace

TEST_CASE("a tool result carries extra content blocks after its text", "[mcp][tools]") {
  ToolRegistry tools;
  Tool tool;
  tool.name = "picture";
  tool.description = "returns an image";
  tool.input_schema = Json::parse(R"({"type":"object"})");
  tool.handler = [](const Json&, RequestContext&) {
    return ToolOutcome{nullptr, "an image:", false, {kImage}};
  };
  tools.add(tool);
  Json result = std::get<Json>(tools.call({{"name", "picture"}}));
  REQUIRE(result["content"].size() == 2);
  CHECK(result["content"][0] == Json{{"type", "text"}, {"text", "an image:"}});
  CHECK(result["content"][1] == kImage);
  CHECK(result["isError"] == false);
}

TEST_CASE("a resource with binary contents is read as a blob", "[mcp]") {
  ResourceProvider provider;
  provider.list = []() -> Result<std::vector<Resource>> { return std::vector<Resource>{}; };
  provider.read = [](const std::string& uri) -> Result<std::optional<ResourceText>> {
    if (uri == "x://binary")
      return std::optional<ResourceText>(ResourceText{uri, "image/png", "", "iVBORw0KGgo="});
    return std::optional<ResourceText>(ResourceText{uri, "text/plain", "words"});
  };
  ResourceRegistry resources(provider);
  Json binary = std::get<Json>(resources.read({{"uri", "x://binary"}}))["contents"][0];
  CHECK(binary == Json{{"uri", "x://binary"}, {"blob", "iVBORw0KGgo="}, {"mimeType", "image/png"}});
  Json text = std::get<Json>(resources.read({{"uri", "x://text"}}))["contents"][0];
  CHECK(text == Json{{"uri", "x://text"}, {"text", "words"}, {"mimeType", "text/plain"}});
}

TEST_CASE("a prompt message may be an image instead of text", "[mcp]") {
  PromptRegistry prompts;
  prompts.add({"look", "Look", "shows an image", {}, [](const std::map<std::string, std::string>&) {
                 return Result<PromptResult>(
                     PromptResult{"", {{"user", "", kImage}, {"user", "What is it?"}}});
               }});
  Json messages = std::get<Json>(prompts.get({{"name", "look"}}))["messages"];
  REQUIRE(messages.size() == 2);
  CHECK(messages[0] == Json{{"role", "user"}, {"content", kImage}});
  CHECK(messages[1]["content"] == Json{{"type", "text"}, {"text", "What is it?"}});
}
