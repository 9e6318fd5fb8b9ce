#include "mcp/tools.h"

#include <algorithm>
#include <optional>
#include <stdexcept>

#include "common/json_text.h"

namespace cqda::mcp {
namespace {

RpcError invalid_params(std::string message, Json data = nullptr) {
  return {ErrorCode::kInvalidParams, std::move(message), std::move(data)};
}

Json annotations_json(const Tool& tool) {
  return {{"title", tool.title},
          {"readOnlyHint", tool.annotations.read_only},
          {"destructiveHint", tool.annotations.destructive},
          {"idempotentHint", tool.annotations.idempotent},
          {"openWorldHint", tool.annotations.open_world}};
}

}  // namespace

struct ToolRegistry::Entry {
  Tool tool;
  SchemaValidator input;
  std::optional<SchemaValidator> output;
};

ToolRegistry::ToolRegistry(std::size_t page_size) : page_size_(std::max<std::size_t>(page_size, 1)) {}

ToolRegistry::~ToolRegistry() = default;

void ToolRegistry::add(Tool tool) {
  if (by_name_.count(tool.name)) throw std::logic_error("tool registered twice: " + tool.name);
  auto entry = std::make_unique<Entry>(Entry{tool, SchemaValidator(tool.input_schema), std::nullopt});
  if (!tool.output_schema.is_null()) entry->output.emplace(tool.output_schema);
  by_name_.emplace(entry->tool.name, tools_.size());
  tools_.push_back(std::move(entry));
}

std::size_t ToolRegistry::size() const { return tools_.size(); }

std::vector<const Tool*> ToolRegistry::all() const {
  std::vector<const Tool*> out;
  for (const auto& entry : tools_) out.push_back(&entry->tool);
  return out;
}

void ToolRegistry::serve(Session& session) const {
  session.on_request("tools/list", [this](const Json& params) { return list(params); });
  session.on_request("tools/call", [this](const Json& params, RequestContext& context) { return run(params, context, true); });
}

Reply ToolRegistry::list(const Json& params) const {
  std::size_t offset = 0;
  if (auto cursor = params.find("cursor"); cursor != params.end()) {
    if (!cursor->is_string()) return invalid_params("params.cursor must be a string");
    auto read = cursors_.read("tools", cursor->get<std::string>(), tools_.size());
    if (!read) return invalid_params("invalid cursor");
    offset = *read;
  }
  Json tools = Json::array();
  const std::size_t end = std::min(tools_.size(), offset + page_size_);
  for (std::size_t i = offset; i < end; ++i) {
    const Tool& t = tools_[i]->tool;
    Json entry = {{"name", t.name}, {"title", t.title}, {"description", t.description}, {"inputSchema", t.input_schema}};
    if (!t.output_schema.is_null()) entry["outputSchema"] = t.output_schema;
    entry["annotations"] = annotations_json(t);
    tools.push_back(std::move(entry));
  }
  Json result = {{"tools", std::move(tools)}};
  if (end < tools_.size()) result["nextCursor"] = cursors_.make("tools", end);
  return result;
}

Reply ToolRegistry::call(const Json& params) const {
  RequestContext context;
  return call(params, context);
}

Reply ToolRegistry::call(const Json& params, RequestContext& context) const { return run(params, context, false); }

Reply ToolRegistry::run(const Json& params, RequestContext& context, bool as_text) const {
  auto name = params.find("name");
  if (name == params.end() || !name->is_string()) return invalid_params("params.name must be a string");
  auto it = by_name_.find(name->get_ref<const std::string&>());
  if (it == by_name_.end()) return invalid_params("unknown tool: " + name->get<std::string>());
  const Entry& entry = *tools_[it->second];
  Json arguments = params.value("arguments", Json::object());
  if (!arguments.is_object()) return invalid_params("params.arguments must be an object");
  auto violations = entry.input.validate(arguments, "/arguments");
  if (!violations.empty()) {
    Json data = Json::array();
    for (const auto& v : violations) data.push_back({{"pointer", v.pointer}, {"message", v.message}});
    return invalid_params("arguments do not match the input schema of " + entry.tool.name + ":\n" +
                              format_violations(violations),
                          std::move(data));
  }
  ToolOutcome outcome = entry.tool.handler(arguments, context);
  const bool structured = !outcome.is_error && entry.output;
  // A result framed by the data source is data of a tool with an output schema, never an error.
  const bool framed = !outcome.result_text.empty();
  if (framed && !structured)
    return RpcError{ErrorCode::kInternalError, "the tool " + entry.tool.name + " produced an invalid result", nullptr};
  std::string text;
  std::optional<Json> tree;  // the result as a value, when it was made as one
  if (framed) {
    text = std::move(outcome.result_text);
  } else if (structured && !outcome.structured_text.empty()) {
    // What json_text writes for the tree below, with the structured content as it came.
    text = written_result_text(outcome.text, outcome.structured_text, outcome.content);
  } else {
    Json text_block = Json::object();
    text_block["type"] = "text";
    text_block["text"] = std::move(outcome.text);
    Json content = Json::array();
    content.push_back(std::move(text_block));
    for (auto& block : outcome.content) content.push_back(std::move(block));
    Json result = {{"content", std::move(content)}, {"isError", outcome.is_error}};
    if (structured) {
      // A result that breaks the tool's own output schema is a server bug: never sent as data.
      if (!outcome.structured.is_object() || !entry.output->validate(outcome.structured).empty())
        return RpcError{ErrorCode::kInternalError, "the tool " + entry.tool.name + " produced an invalid result", nullptr};
      result["structuredContent"] = std::move(outcome.structured);
    }
    if (!observer_ && !as_text) return result;
    text = json_text(result);
    tree = std::move(result);
  }
  // A result the data source framed and recorded itself is on record already.
  const bool on_record = framed && outcome.recorded;
  if (observer_ && !on_record && !observer_(entry.tool, arguments, outcome.is_error, text))
    return RpcError{ErrorCode::kInternalError, "the call could not be recorded in the audit log", nullptr};
  if (as_text) return ResultText{std::move(text)};
  return tree ? std::move(*tree) : Json::parse(text);
}

std::string written_result_text(std::string_view text, std::string_view structured_text, const std::vector<Json>& content) {
  std::string out;
  out.reserve(text.size() + text.size() / 8 + structured_text.size() + 96);
  out += R"({"content":[{"type":"text","text":)";
  append_json_string(out, text);
  out += '}';
  for (const Json& block : content) {
    out += ',';
    append_json_text(out, block);
  }
  out += R"(],"isError":false,"structuredContent":)";
  out += structured_text;
  out += '}';
  return out;
}

}  // namespace cqda::mcp
