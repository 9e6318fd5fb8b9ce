#include "mcp/resources.h"

#include <algorithm>

namespace cqda::mcp {
namespace {

RpcError invalid_params(std::string message) { return {ErrorCode::kInvalidParams, std::move(message), nullptr}; }

std::optional<std::size_t> page_offset(const Json& params, const CursorSigner& cursors, std::string_view list,
                                       std::size_t size, RpcError& error) {
  auto cursor = params.find("cursor");
  if (cursor == params.end()) return 0;
  if (!cursor->is_string()) {
    error = invalid_params("params.cursor must be a string");
    return std::nullopt;
  }
  auto offset = cursors.read(list, cursor->get<std::string>(), size);
  if (!offset) error = invalid_params("invalid cursor");
  return offset;
}

}  // namespace

std::optional<std::map<std::string, std::string>> match_template(std::string_view pattern, std::string_view uri) {
  std::map<std::string, std::string> values;
  std::size_t p = 0, u = 0;
  while (p < pattern.size()) {
    if (pattern[p] != '{') {
      if (u >= uri.size() || uri[u] != pattern[p]) return std::nullopt;
      ++p, ++u;
      continue;
    }
    const std::size_t close = pattern.find('}', p);
    if (close == std::string_view::npos) return std::nullopt;
    const std::string name(pattern.substr(p + 1, close - p - 1));
    p = close + 1;
    // The variable runs to the next literal character of the pattern (or the end).
    const char stop = p < pattern.size() ? pattern[p] : '\0';
    std::size_t end = u;
    while (end < uri.size() && uri[end] != stop && uri[end] != '/' && uri[end] != '?' && uri[end] != '#') ++end;
    if (end == u) return std::nullopt;
    values[name] = std::string(uri.substr(u, end - u));
    u = end;
  }
  if (u != uri.size()) return std::nullopt;
  return values;
}

ResourceRegistry::ResourceRegistry(ResourceProvider provider, std::size_t page_size)
    : provider_(std::move(provider)), page_size_(std::max<std::size_t>(page_size, 1)) {}

void ResourceRegistry::serve(Session& session) const {
  session.on_request("resources/list", [this](const Json& params) { return list(params); });
  session.on_request("resources/templates/list", [this](const Json& params) { return list_templates(params); });
  session.on_request("resources/read", [this](const Json& params) { return read(params); });
}

Reply ResourceRegistry::list(const Json& params) const {
  auto resources = provider_.list();
  if (!resources) return RpcError{ErrorCode::kInternalError, resources.error().message, nullptr};
  RpcError error;
  auto offset = resources->empty() && !params.contains("cursor")
                    ? std::optional<std::size_t>(0)
                    : page_offset(params, cursors_, "resources", resources->size(), error);
  if (!offset) return error;
  Json out = Json::array();
  const std::size_t end = std::min(resources->size(), *offset + page_size_);
  for (std::size_t i = *offset; i < end; ++i) {
    const Resource& r = (*resources)[i];
    Json entry = {{"uri", r.uri}, {"name", r.name}};
    if (!r.title.empty()) entry["title"] = r.title;
    if (!r.description.empty()) entry["description"] = r.description;
    if (!r.mime_type.empty()) entry["mimeType"] = r.mime_type;
    if (r.size) entry["size"] = *r.size;
    out.push_back(std::move(entry));
  }
  Json result = {{"resources", std::move(out)}};
  if (end < resources->size()) result["nextCursor"] = cursors_.make("resources", end);
  return result;
}

Reply ResourceRegistry::list_templates(const Json& params) const {
  const auto& all = provider_.templates;
  RpcError error;
  auto offset = all.empty() && !params.contains("cursor") ? std::optional<std::size_t>(0)
                                                         : page_offset(params, cursors_, "templates", all.size(), error);
  if (!offset) return error;
  Json out = Json::array();
  const std::size_t end = std::min(all.size(), *offset + page_size_);
  for (std::size_t i = *offset; i < end; ++i) {
    const ResourceTemplate& t = all[i];
    Json entry = {{"uriTemplate", t.uri_template}, {"name", t.name}};
    if (!t.title.empty()) entry["title"] = t.title;
    if (!t.description.empty()) entry["description"] = t.description;
    if (!t.mime_type.empty()) entry["mimeType"] = t.mime_type;
    out.push_back(std::move(entry));
  }
  Json result = {{"resourceTemplates", std::move(out)}};
  if (end < all.size()) result["nextCursor"] = cursors_.make("templates", end);
  return result;
}

Reply ResourceRegistry::read(const Json& params) const {
  auto uri = params.find("uri");
  if (uri == params.end() || !uri->is_string() || uri->get_ref<const std::string&>().empty())
    return invalid_params("params.uri must be a non-empty string");
  if (uri->get_ref<const std::string&>().size() > 2048) return invalid_params("params.uri is too long");
  auto contents = provider_.read(uri->get<std::string>());
  if (!contents) return RpcError{ErrorCode::kInternalError, contents.error().message, nullptr};
  if (!*contents)
    return RpcError{static_cast<ErrorCode>(kResourceNotFound), "resource not found", Json{{"uri", *uri}}};
  const ResourceText& text = **contents;
  Json entry = {{"uri", text.uri}};
  if (text.blob.empty()) {
    entry["text"] = text.text;
  } else {
    entry["blob"] = text.blob;
  }
  if (!text.mime_type.empty()) entry["mimeType"] = text.mime_type;
  return Json{{"contents", Json::array({std::move(entry)})}};
}

}  // namespace cqda::mcp
