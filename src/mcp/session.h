// One MCP session's protocol state: the lifecycle (initialize first, then
// notifications/initialized), revision negotiation, and dispatch to the handlers the server
// registers. Transport-free: stdio hands it each line, HTTP each POST body, and it returns
// the text to send back. Handlers run on the caller's thread.
#pragma once

#include <array>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "common/json.h"
#include "mcp/jsonrpc.h"

namespace cqda::mcp {

// Newest first. A client asking for one of these gets it; any other request gets the newest.
inline constexpr std::array<std::string_view, 3> kProtocolVersions = {"2025-11-25", "2025-06-18", "2025-03-26"};
std::string_view negotiate_version(std::string_view requested);
bool is_supported_version(std::string_view version);
// JSON-RPC batches exist only in 2025-03-26 (removed in 2025-06-18).
bool batches_allowed(std::string_view version);

struct ServerInfo {
  std::string name = "cqda";
  std::string version;
  std::string instructions;  // "" for none
};

using Reply = std::variant<Json, RpcError>;  // a result, or an error response
using RequestHandler = std::function<Reply(const Json& params)>;
using NotificationHandler = std::function<void(const Json& params)>;

class Session {
 public:
  enum class State { kNew, kInitialized, kReady };

  // `capabilities` is the server's, advertised in the initialize result: only what has
  // handlers behind it.
  Session(ServerInfo info, Json capabilities, MessageLimits limits = {});

  void on_request(std::string method, RequestHandler handler);
  void on_notification(std::string method, NotificationHandler handler);

  // Handles one payload; returns the response text, or nullopt when nothing is to be sent
  // (only notifications or responses). Never throws: a handler's exception becomes -32603.
  std::optional<std::string> handle(std::string_view payload);

  State state() const { return state_; }
  const std::string& protocol_version() const { return version_; }
  const Json& client_info() const { return client_info_; }

 private:
  std::optional<Json> dispatch(const Incoming& message);
  Reply initialize(const Json& params);

  ServerInfo info_;
  Json capabilities_;
  MessageLimits limits_;
  State state_ = State::kNew;
  std::string version_;
  Json client_info_;
  std::map<std::string, RequestHandler, std::less<>> requests_;
  std::map<std::string, NotificationHandler, std::less<>> notifications_;
};

}  // namespace cqda::mcp
