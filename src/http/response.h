// HTTP/1.1 responses as the server writes them: every one with Cache-Control: no-store and
// X-Content-Type-Options: nosniff and no Server header; error bodies are JSON-RPC error
// objects (code -32000) with a short reason and nothing internal; event streams are chunked
// and carry one MCP message per SSE event.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cqda::http {

struct Response {
  unsigned status = 200;
  std::string content_type;  // "" when there is no body
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // beyond the fixed ones
  bool close = false;         // Connection: close, and the server closes after writing
  bool event_stream = false;  // the head of an SSE stream: chunked, the body follows in chunks
};

Response error_response(unsigned status, std::string_view reason);
Response json_response(unsigned status, std::string body);

// The status line, headers and (unless an event stream) the body.
std::string render(const Response& response);
// One SSE event ("event: message", then the message on data: lines) as an HTTP chunk.
std::string event_chunk(std::string_view message);
// The chunk that ends an event stream.
std::string_view last_chunk();

}  // namespace cqda::http
