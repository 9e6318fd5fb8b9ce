// Prompts as MCP serves them (prompts/list paged, prompts/get with argument checks) and
// completion/complete for prompt arguments and resource-template variables.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/json.h"
#include "common/result.h"
#include "mcp/cursor.h"
#include "mcp/resources.h"
#include "mcp/session.h"

namespace cqda::mcp {

struct PromptArgument {
  std::string name;
  std::string title;
  std::string description;
  bool required = false;
  std::size_t max_length = 200;
  // Values starting with `prefix`, given the arguments already chosen; empty: no completion.
  std::function<std::vector<std::string>(const std::string& prefix, const std::map<std::string, std::string>& chosen)>
      complete;
};

struct PromptMessage {
  std::string role;  // "user" or "assistant"
  std::string text;
  // An MCP content block (image, audio or embedded resource) sent instead of the text when
  // not null. The server makes it; it is not checked against a schema.
  Json content;
};

struct PromptResult {
  std::string description;
  std::vector<PromptMessage> messages;
};

struct Prompt {
  std::string name;
  std::string title;
  std::string description;
  std::vector<PromptArgument> arguments;
  // Runs with the arguments checked (required present, all strings, known names). An error
  // is the client's (-32602): an argument that names nothing, for instance.
  std::function<Result<PromptResult>(const std::map<std::string, std::string>& arguments)> render;
};

class PromptRegistry {
 public:
  explicit PromptRegistry(std::size_t page_size = 50);
  void add(Prompt prompt);
  std::size_t size() const { return prompts_.size(); }
  const std::vector<Prompt>& all() const { return prompts_; }

  // Registers prompts/list and prompts/get.
  void serve(Session& session) const;
  Reply list(const Json& params) const;
  Reply get(const Json& params) const;
  const Prompt* find(std::string_view name) const;

 private:
  std::vector<Prompt> prompts_;
  std::size_t page_size_;
  CursorSigner cursors_;
};

// completion/complete: routes ref/prompt to the prompt argument's completer and
// ref/resource to the matching template's. At most 100 values, as MCP allows.
class Completions {
 public:
  Completions(const PromptRegistry* prompts, const ResourceRegistry* resources)
      : prompts_(prompts), resources_(resources) {}
  void serve(Session& session) const;
  Reply complete(const Json& params) const;

 private:
  const PromptRegistry* prompts_;
  const ResourceRegistry* resources_;
};

}  // namespace cqda::mcp
