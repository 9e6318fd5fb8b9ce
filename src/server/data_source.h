// What the MCP tools read, behind an interface: in the broker it is a client of the
// supervisor's channel (the broker holds no data of its own); in tests, a fake. Every text a
// source returns has already passed the policy's rules for the `mcp` destination.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/document.h"
#include "common/json.h"
#include "common/result.h"

namespace cqda::server {

struct DocumentSummary {
  std::string id;
  std::string path;  // as exported (pseudonymized where the policy anonymizes)
  std::string format;
  std::uint64_t segments = 0;
  std::uint64_t characters = 0;
};

class DataSource {
 public:
  virtual ~DataSource() = default;
  virtual Result<std::vector<DocumentSummary>> list_documents() = 0;
  // Segments [offset, offset + limit) of a document, and its total segment count.
  struct Page {
    DocumentSummary document;
    std::vector<Segment> segments;
  };
  virtual Result<Page> read_document(const std::string& id, std::uint64_t offset, std::uint64_t limit) = 0;
  // read_document's whole tool result for its validated `arguments` (id, offset, limit), as
  // the client receives it (page_result_text). `recorded` when the source has also put the
  // call in the run log: the supervisor does, so that its record names exactly the bytes it
  // let out, and the broker sends no record of its own for the call. By default, the page
  // read with read_document, written here and not recorded.
  struct ToolResult {
    std::string text;
    bool recorded = false;
  };
  virtual Result<ToolResult> read_document_result(const Json& arguments);
  virtual Result<Json> codebook() = 0;
  // Keyword (case-insensitive, literal) or RE2 search over every segment; `request` is the
  // tool's validated arguments, the reply {"hits": [...], "total": N, "truncated": bool}.
  virtual Result<Json> search(const Json& request) = 0;
  // Any other operation of the project (codings, memos, codebook changes, exports, the
  // latest report): the operation's name and its validated arguments; the supervisor checks
  // them again and answers with a JSON object.
  virtual Result<Json> request(const std::string& op, Json arguments) = 0;
};

}  // namespace cqda::server
