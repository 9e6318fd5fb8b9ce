#include "mcp/prompts.h"

#include <algorithm>
#include <stdexcept>

namespace cqda::mcp {
namespace {

RpcError invalid_params(std::string message) { return {ErrorCode::kInvalidParams, std::move(message), nullptr}; }

constexpr std::size_t kMaxCompletions = 100;

Json completion_result(std::vector<std::string> values) {
  const std::size_t total = values.size();
  if (values.size() > kMaxCompletions) values.resize(kMaxCompletions);
  return Json{{"completion", {{"values", values}, {"total", total}, {"hasMore", total > kMaxCompletions}}}};
}

// The arguments already chosen (context.arguments), as strings only.
std::map<std::string, std::string> chosen_arguments(const Json& params) {
  std::map<std::string, std::string> chosen;
  auto context = params.find("context");
  if (context == params.end() || !context->is_object()) return chosen;
  auto arguments = context->find("arguments");
  if (arguments == context->end() || !arguments->is_object()) return chosen;
  for (const auto& [key, value] : arguments->items())
    if (value.is_string()) chosen[key] = value.get<std::string>();
  return chosen;
}

}  // namespace

PromptRegistry::PromptRegistry(std::size_t page_size) : page_size_(std::max<std::size_t>(page_size, 1)) {}

void PromptRegistry::add(Prompt prompt) {
  if (find(prompt.name)) throw std::logic_error("prompt registered twice: " + prompt.name);
  prompts_.push_back(std::move(prompt));
}

const Prompt* PromptRegistry::find(std::string_view name) const {
  for (const auto& p : prompts_)
    if (p.name == name) return &p;
  return nullptr;
}

void PromptRegistry::serve(Session& session) const {
  session.on_request("prompts/list", [this](const Json& params) { return list(params); });
  session.on_request("prompts/get", [this](const Json& params) { return get(params); });
}

Reply PromptRegistry::list(const Json& params) const {
  std::size_t offset = 0;
  if (auto cursor = params.find("cursor"); cursor != params.end()) {
    if (!cursor->is_string()) return invalid_params("params.cursor must be a string");
    auto read = cursors_.read("prompts", cursor->get<std::string>(), prompts_.size());
    if (!read) return invalid_params("invalid cursor");
    offset = *read;
  }
  Json out = Json::array();
  const std::size_t end = std::min(prompts_.size(), offset + page_size_);
  for (std::size_t i = offset; i < end; ++i) {
    const Prompt& p = prompts_[i];
    Json arguments = Json::array();
    for (const auto& a : p.arguments) {
      Json arg = {{"name", a.name}, {"description", a.description}, {"required", a.required}};
      if (!a.title.empty()) arg["title"] = a.title;
      arguments.push_back(std::move(arg));
    }
    Json entry = {{"name", p.name}, {"description", p.description}, {"arguments", std::move(arguments)}};
    if (!p.title.empty()) entry["title"] = p.title;
    out.push_back(std::move(entry));
  }
  Json result = {{"prompts", std::move(out)}};
  if (end < prompts_.size()) result["nextCursor"] = cursors_.make("prompts", end);
  return result;
}

Reply PromptRegistry::get(const Json& params) const {
  auto name = params.find("name");
  if (name == params.end() || !name->is_string()) return invalid_params("params.name must be a string");
  const Prompt* prompt = find(name->get<std::string>());
  if (!prompt) return invalid_params("unknown prompt: " + name->get<std::string>());
  std::map<std::string, std::string> arguments;
  if (auto given = params.find("arguments"); given != params.end() && !given->is_null()) {
    if (!given->is_object()) return invalid_params("params.arguments must be an object");
    for (const auto& [key, value] : given->items()) {
      auto spec = std::find_if(prompt->arguments.begin(), prompt->arguments.end(),
                               [&key = key](const PromptArgument& a) { return a.name == key; });
      if (spec == prompt->arguments.end()) return invalid_params("unknown argument of " + prompt->name + ": " + key);
      if (!value.is_string()) return invalid_params("argument " + key + " must be a string");
      if (value.get_ref<const std::string&>().size() > spec->max_length)
        return invalid_params("argument " + key + " is longer than " + std::to_string(spec->max_length) + " bytes");
      arguments[key] = value.get<std::string>();
    }
  }
  for (const auto& a : prompt->arguments)
    if (a.required && !arguments.count(a.name)) return invalid_params("missing required argument: " + a.name);
  auto rendered = prompt->render(arguments);
  if (!rendered) return invalid_params(rendered.error().message);
  Json messages = Json::array();
  for (const auto& m : rendered->messages) {
    Json content = m.content.is_null() ? Json{{"type", "text"}, {"text", m.text}} : m.content;
    messages.push_back({{"role", m.role}, {"content", std::move(content)}});
  }
  Json result = {{"messages", std::move(messages)}};
  if (!rendered->description.empty()) result["description"] = rendered->description;
  return result;
}

void Completions::serve(Session& session) const {
  session.on_request("completion/complete", [this](const Json& params) { return complete(params); });
}

Reply Completions::complete(const Json& params) const {
  auto ref = params.find("ref");
  auto argument = params.find("argument");
  if (ref == params.end() || !ref->is_object() || !ref->contains("type") || !(*ref)["type"].is_string())
    return invalid_params("params.ref must be an object with a type");
  if (argument == params.end() || !argument->is_object() || !argument->contains("name") ||
      !(*argument)["name"].is_string() || !argument->contains("value") || !(*argument)["value"].is_string())
    return invalid_params("params.argument must have string name and value");
  const std::string type = (*ref)["type"].get<std::string>();
  const std::string name = (*argument)["name"].get<std::string>();
  const std::string value = (*argument)["value"].get<std::string>();
  if (value.size() > 200) return invalid_params("argument value too long");
  if (type == "ref/prompt") {
    if (!prompts_ || !ref->contains("name") || !(*ref)["name"].is_string()) return invalid_params("ref.name is required");
    const Prompt* prompt = prompts_->find((*ref)["name"].get<std::string>());
    if (!prompt) return invalid_params("unknown prompt: " + (*ref)["name"].get<std::string>());
    for (const auto& a : prompt->arguments) {
      if (a.name != name) continue;
      return completion_result(a.complete ? a.complete(value, chosen_arguments(params)) : std::vector<std::string>{});
    }
    return invalid_params("unknown argument of " + prompt->name + ": " + name);
  }
  if (type == "ref/resource") {
    if (!resources_ || !ref->contains("uri") || !(*ref)["uri"].is_string()) return invalid_params("ref.uri is required");
    const std::string uri = (*ref)["uri"].get<std::string>();
    for (const auto& t : resources_->templates()) {
      if (t.uri_template != uri) continue;
      if (t.uri_template.find("{" + name + "}") == std::string::npos)
        return invalid_params("the template has no variable " + name);
      return completion_result(t.complete ? t.complete(name, value) : std::vector<std::string>{});
    }
    return invalid_params("unknown resource template: " + uri);
  }
  return invalid_params("unknown ref type: " + type);
}

}  // namespace cqda::mcp
