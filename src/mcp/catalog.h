// Everything a server offers — tools, resources, prompts, completion, logging — and the
// sessions that serve it, each advertising exactly the capabilities that have handlers.
// Transports (stdio, HTTP) ask the catalog for a session per client.
#pragma once

#include <memory>
#include <optional>

#include "mcp/prompts.h"
#include "mcp/resources.h"
#include "mcp/session.h"
#include "mcp/tools.h"

namespace cqda::mcp {

class Catalog {
 public:
  explicit Catalog(ServerInfo info, MessageLimits limits = {});

  ToolRegistry& tools() { return tools_; }
  PromptRegistry& prompts() { return prompts_; }
  const ToolRegistry& tools() const { return tools_; }
  const PromptRegistry& prompts() const { return prompts_; }
  const ResourceRegistry* resources() const { return resources_ ? &*resources_ : nullptr; }
  const ServerInfo& info() const { return info_; }
  void set_resources(ResourceProvider provider);
  void enable_logging() { logging_ = true; }

  Json capabilities() const;
  std::shared_ptr<Session> new_session() const;

 private:
  ServerInfo info_;
  MessageLimits limits_;
  ToolRegistry tools_;
  PromptRegistry prompts_;
  std::optional<ResourceRegistry> resources_;
  bool logging_ = false;
};

}  // namespace cqda::mcp
