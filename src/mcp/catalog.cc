#include "mcp/catalog.h"

namespace cqda::mcp {

Catalog::Catalog(ServerInfo info, MessageLimits limits) : info_(std::move(info)), limits_(limits) {}

void Catalog::set_resources(ResourceProvider provider) { resources_.emplace(std::move(provider)); }

Json Catalog::capabilities() const {
  Json caps = Json::object();
  if (tools_.size() > 0) caps["tools"] = {{"listChanged", false}};
  if (resources_) caps["resources"] = {{"subscribe", false}, {"listChanged", false}};
  if (prompts_.size() > 0) caps["prompts"] = {{"listChanged", false}};
  if (prompts_.size() > 0 || (resources_ && !resources_->templates().empty())) caps["completions"] = Json::object();
  if (logging_) caps["logging"] = Json::object();
  return caps;
}

std::shared_ptr<Session> Catalog::new_session() const {
  auto session = std::make_shared<Session>(info_, capabilities(), limits_);
  if (tools_.size() > 0) tools_.serve(*session);
  if (resources_) resources_->serve(*session);
  if (prompts_.size() > 0) prompts_.serve(*session);
  if (prompts_.size() > 0 || (resources_ && !resources_->templates().empty())) {
    // The completion router is per session only in name: it holds no state.
    auto completions = std::make_shared<Completions>(prompts_.size() > 0 ? &prompts_ : nullptr,
                                                     resources_ ? &*resources_ : nullptr);
    session->on_request("completion/complete",
                        [completions](const Json& params) { return completions->complete(params); });
  }
  return session;
}

}  // namespace cqda::mcp
