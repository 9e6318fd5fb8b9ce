// One MCP session's protocol state: the lifecycle (initialize first, then
// notifications/initialized), revision negotiation, logging level, requests in flight and
// their cancellation, and dispatch to the handlers the server registers. Transport-free:
// stdio hands it each line, HTTP each POST body, and it returns the text to send back.
//
// Threading: handlers are registered before serving; after that accept() and the work it
// returns may run on any threads at once (a cancellation arrives while a tool runs).
#pragma once

#include <array>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
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

// RFC 5424 severities as MCP names them, least severe first.
enum class LogLevel { kDebug, kInfo, kNotice, kWarning, kError, kCritical, kAlert, kEmergency };
std::optional<LogLevel> parse_log_level(std::string_view name);
std::string_view log_level_name(LogLevel level);

struct ServerInfo {
  std::string name = "cqda";
  std::string version;
  std::string instructions;  // "" for none
  std::string title;         // a display name; "" for none
};

// A result already written as JSON text (json_text): put into the response as it is, so a
// large result is written once.
struct ResultText {
  std::string json;
};
using Reply = std::variant<Json, RpcError, ResultText>;  // a result, or an error response
// Sends one message (a notification) to the client on the transport's channel for the
// request being handled: stdout for stdio, the POST's event stream for HTTP.
using Sender = std::function<void(const Json& message)>;

// What a handler knows of the request it serves: whether the client cancelled it, and how
// to report progress and log to the client while it runs.
class RequestContext {
 public:
  RequestContext(Json id, Json progress_token, Sender sender, std::shared_ptr<std::atomic<bool>> cancelled,
                 const std::atomic<int>* level);
  RequestContext();  // for handlers called outside a session (tests)

  const Json& id() const { return id_; }
  bool cancelled() const { return cancelled_ && cancelled_->load(); }
  // notifications/progress, only when the client asked for it (a progressToken); progress
  // must grow from one call to the next (a smaller value is not sent).
  void progress(double progress, std::optional<double> total = std::nullopt, std::string_view message = {});
  // notifications/message, only at or above the level the client set (logging/setLevel).
  void log(LogLevel level, std::string_view logger, Json data);

 private:
  Json id_;
  Json progress_token_;
  Sender sender_;
  std::shared_ptr<std::atomic<bool>> cancelled_;
  const std::atomic<int>* level_ = nullptr;
  double last_progress_ = -1;
};

using RequestHandler = std::function<Reply(const Json& params, RequestContext& context)>;
using NotificationHandler = std::function<void(const Json& params)>;

class Session {
 public:
  enum class State { kNew, kInitialized, kReady };

  // `capabilities` is the server's, advertised in the initialize result: only what has
  // handlers behind it. A "logging" capability makes the session answer logging/setLevel.
  Session(ServerInfo info, Json capabilities, MessageLimits limits = {});
  Session(const Session&) = delete;

  void on_request(std::string method, RequestHandler handler);
  void on_request(std::string method, std::function<Reply(const Json& params)> handler);
  void on_notification(std::string method, NotificationHandler handler);

  // The work a payload asks for. accept() parses it, handles its notifications and marks
  // its requests as in flight (so a cancellation that follows finds them); run() handles
  // the requests and returns the response text, or nullopt when nothing is to be sent.
  // Transports call accept() in arrival order and may run() on another thread.
  class Work {
   public:
    std::optional<std::string> run();
    bool has_requests() const { return !requests_.empty(); }

   private:
    friend class Session;
    struct Pending {
      Incoming message;
      std::shared_ptr<std::atomic<bool>> cancelled;
    };
    Session* session_ = nullptr;
    bool batch_ = false;
    Json responses_ = Json::array();  // parse failures and refusals, answered at once
    std::vector<Pending> requests_;
    Sender sender_;
  };
  Work accept(std::string_view payload, Sender sender = {});
  // accept() and run() on the caller's thread. Never throws.
  std::optional<std::string> handle(std::string_view payload, Sender sender = {});

  State state() const { return state_.load(); }
  std::string protocol_version() const;
  Json client_info() const;
  LogLevel log_level() const { return static_cast<LogLevel>(level_.load()); }
  std::size_t in_flight() const;
  // Marks every request in flight as cancelled (the client went away).
  void cancel_all();

 private:
  std::string dispatch(const Work::Pending& request, const Sender& sender);  // the response as JSON text
  Reply initialize(const Json& params);
  void cancel(const Json& params);
  void finish(const Json& id);

  ServerInfo info_;
  Json capabilities_;
  MessageLimits limits_;
  std::atomic<State> state_{State::kNew};
  std::atomic<int> level_{static_cast<int>(LogLevel::kInfo)};
  mutable std::mutex mutex_;  // guards what follows
  std::string version_;
  Json client_info_;
  std::map<std::string, std::shared_ptr<std::atomic<bool>>> in_flight_;  // by id's JSON text
  std::map<std::string, RequestHandler, std::less<>> requests_;
  std::map<std::string, NotificationHandler, std::less<>> notifications_;
};

}  // namespace cqda::mcp
