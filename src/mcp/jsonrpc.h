// JSON-RPC 2.0 as MCP uses it: the message model, strict parsing of what a client sends,
// and the error codes. Pure: no transport here (stdio and HTTP feed it bytes), so the whole
// message layer is unit-tested and fuzzed directly.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/json.h"
#include "common/result.h"

namespace cqda::mcp {

// The JSON-RPC 2.0 error codes (and MCP's use of them).
enum class ErrorCode : int {
  kParseError = -32700,      // not JSON (or not UTF-8, or nested too deep)
  kInvalidRequest = -32600,  // JSON, but not a valid request (or not allowed in this state)
  kMethodNotFound = -32601,
  kInvalidParams = -32602,
  kInternalError = -32603,
};

struct RpcError {
  ErrorCode code = ErrorCode::kInternalError;
  std::string message;
  Json data;  // null when absent
};

// One message from a client. A request has an id (string or integer, never null); a
// notification has none; a response answers a request the server sent.
struct Incoming {
  enum class Kind { kRequest, kNotification, kResponse };
  Kind kind = Kind::kRequest;
  Json id;  // string or integer for requests and responses; null for notifications
  std::string method;
  Json params;  // object or null (absent)
  Json result;  // responses
  std::optional<RpcError> error;  // responses carrying an error
};

// What parsing one element gives: the message, or the error to answer with and the id to
// answer it under (null when the id could not be read).
struct ParseFailure {
  RpcError error;
  Json id;
};

// Limits on what a client may send, checked before and during parsing.
struct MessageLimits {
  std::size_t max_bytes = 4u << 20;
  std::size_t max_depth = 32;
  std::size_t max_batch = 64;
};

// Parses one JSON value as a message.
Result<Incoming> parse_message(const Json& value, ParseFailure& failure);

// A whole payload: one message, or (when `batches` is true) an array of them. Elements that
// fail are reported with their error; the rest are returned in order.
struct Payload {
  bool batch = false;
  std::vector<Incoming> messages;
  std::vector<ParseFailure> failures;  // each answered with an error response
};
Payload parse_payload(std::string_view bytes, bool batches, const MessageLimits& limits);

Json make_result(const Json& id, Json result);
Json make_error(const Json& id, const RpcError& error);
Json make_notification(std::string_view method, Json params);

}  // namespace cqda::mcp
