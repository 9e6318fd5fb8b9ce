// Resources as MCP serves them: a list (paged with verified cursors), URI templates for
// what cannot be listed one by one (each document), and reads. What a resource holds comes
// from the server through a provider; this layer owns the protocol around it.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/json.h"
#include "common/result.h"
#include "mcp/cursor.h"
#include "mcp/session.h"

namespace cqda::mcp {

// MCP's code for a resource that does not exist.
inline constexpr int kResourceNotFound = -32002;

struct Resource {
  std::string uri;
  std::string name;
  std::string title;
  std::string description;
  std::string mime_type;
  std::optional<std::uint64_t> size;  // bytes, when known
};

struct ResourceTemplate {
  std::string uri_template;  // RFC 6570 level 1, e.g. "cqda://documents/{id}"
  std::string name;
  std::string title;
  std::string description;
  std::string mime_type;
  // Values for one variable of the template that start with `prefix` (completion/complete).
  std::function<std::vector<std::string>(const std::string& variable, const std::string& prefix)> complete;
};

struct ResourceText {
  std::string uri;
  std::string mime_type;
  std::string text;
  std::string blob;  // base64 of binary contents, sent as "blob" instead of text when not empty
};

struct ResourceProvider {
  std::function<Result<std::vector<Resource>>()> list;
  // nullopt: no such resource (-32002); an error: it exists but could not be read.
  std::function<Result<std::optional<ResourceText>>(const std::string& uri)> read;
  std::vector<ResourceTemplate> templates;
};

class ResourceRegistry {
 public:
  explicit ResourceRegistry(ResourceProvider provider, std::size_t page_size = 100);

  // Registers resources/list, resources/templates/list and resources/read.
  void serve(Session& session) const;
  const std::vector<ResourceTemplate>& templates() const { return provider_.templates; }

  Reply list(const Json& params) const;
  Reply list_templates(const Json& params) const;
  Reply read(const Json& params) const;

 private:
  ResourceProvider provider_;
  std::size_t page_size_;
  CursorSigner cursors_;
};

// The values of a template's variables if `uri` matches it ("cqda://documents/{id}" and
// "cqda://documents/abc" give {"id": "abc"}); a variable matches one or more characters
// other than '/', '?' and '#'.
std::optional<std::map<std::string, std::string>> match_template(std::string_view uri_template, std::string_view uri);

}  // namespace cqda::mcp
