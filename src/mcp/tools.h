// The tools a server offers, with what MCP requires around them: input schemas validated
// (valijson) before a handler runs, output schemas that every structured result must meet,
// honest annotations, and tools/list paged with opaque cursors the server can verify.
//
// Failures follow the specification: an unknown tool or arguments that break the input
// schema are JSON-RPC errors (-32602); a tool that runs and fails returns a result with
// isError: true and the reason as text, so the model can see it and try again.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/json.h"
#include "mcp/cursor.h"
#include "mcp/session.h"

namespace cqda::mcp {

struct ToolAnnotations {
  bool read_only = true;
  bool destructive = false;
  bool idempotent = true;
  bool open_world = false;  // reaches outside the project (an LLM endpoint)
};

// What a handler returns: structured content (validated against the output schema) and its
// text rendering, or a failure the client's model should read.
struct ToolOutcome {
  Json structured;   // an object; null for a tool without an output schema
  std::string text;  // what a client without structured-content support shows
  bool is_error = false;
  // Further MCP content blocks (image, audio, resource, resource_link), sent after the text
  // block in this order. The server makes them; they are not checked against a schema.
  std::vector<Json> content;
  // The structured content already written as compact JSON text, sent as it is in place of
  // `structured`: for a tool whose large result is made on every call (read_document), so
  // that no JSON tree is built and walked for it. Such a tool's writer is held to its output
  // schema by its tests rather than checked on every call.
  std::string structured_text;
  // The whole result already written (written_result_text), sent as it is: for a tool whose
  // result is made by the data source itself. `recorded` says that source has also put the
  // call in the audit log, naming exactly these bytes, so the registry's observer is not
  // called for it (the supervisor records read_document's calls this way).
  std::string result_text;
  bool recorded = false;

  static ToolOutcome failure(std::string reason) { return {nullptr, std::move(reason), true}; }
  static ToolOutcome written(std::string structured_text, std::string text) {
    ToolOutcome out{nullptr, std::move(text), false};
    out.structured_text = std::move(structured_text);
    return out;
  }
  static ToolOutcome framed(std::string result_text, bool recorded) {
    ToolOutcome out{nullptr, {}, false};
    out.result_text = std::move(result_text);
    out.recorded = recorded;
    return out;
  }
};

// The result of a successful call with the text rendering `text`, further `content` blocks
// and the structured content `structured_text` (compact JSON), as the registry sends it: the
// same bytes as json_text of
// {"content":[{"type":"text","text":...},...],"isError":false,"structuredContent":...}.
std::string written_result_text(std::string_view text, std::string_view structured_text,
                                const std::vector<Json>& content = {});

struct Tool {
  std::string name;
  std::string title;
  std::string description;
  Json input_schema;   // a JSON Schema object (type "object")
  Json output_schema;  // null when the tool returns only text
  ToolAnnotations annotations;
  std::function<ToolOutcome(const Json& arguments, RequestContext& context)> handler;
  // When the tool answers isError: true, in words (for the service contract, docs/MCP.md).
  std::vector<std::string> failures;
};

class ToolRegistry {
 public:
  // `page_size` tools per tools/list page.
  explicit ToolRegistry(std::size_t page_size = 50);
  ~ToolRegistry();
  ToolRegistry(const ToolRegistry&) = delete;

  // Compiles the schemas; a schema that does not load is a programming error (throws).
  void add(Tool tool);
  std::size_t size() const;
  std::vector<const Tool*> all() const;  // in registration order

  // Called after every tools/call that ran a handler, with the arguments, whether the result
  // about to be sent is an error (isError), and the result's JSON text as it is sent (for
  // the audit log). A false return withholds the result: the client gets -32603 instead, so
  // nothing leaves unrecorded. Set before serving.
  using Observer =
      std::function<bool(const Tool& tool, const Json& arguments, bool is_error, std::string_view result_text)>;
  void observe(Observer observer) { observer_ = std::move(observer); }

  // Registers tools/list and tools/call on `session`; the registry must outlive it.
  void serve(Session& session) const;

  Reply list(const Json& params) const;
  Reply call(const Json& params, RequestContext& context) const;
  Reply call(const Json& params) const;  // outside a session (tests)

 private:
  struct Entry;
  // The call; its result as ResultText when `as_text` (what the session sends), else Json.
  Reply run(const Json& params, RequestContext& context, bool as_text) const;

  std::vector<std::unique_ptr<Entry>> tools_;
  std::map<std::string, std::size_t, std::less<>> by_name_;
  std::size_t page_size_;
  CursorSigner cursors_;
  Observer observer_;
};

}  // namespace cqda::mcp
