#include "mcp/session.h"

#include <algorithm>

#include "common/json_text.h"

namespace cqda::mcp {
namespace {

RpcError invalid_params(std::string message) { return {ErrorCode::kInvalidParams, std::move(message), nullptr}; }

constexpr std::array<std::string_view, 8> kLevelNames = {"debug", "info",     "notice", "warning",
                                                         "error", "critical", "alert",  "emergency"};

}  // namespace

std::string_view negotiate_version(std::string_view requested) {
  return is_supported_version(requested) ? requested : kProtocolVersions.front();
}

bool is_supported_version(std::string_view version) {
  return std::find(kProtocolVersions.begin(), kProtocolVersions.end(), version) != kProtocolVersions.end();
}

bool batches_allowed(std::string_view version) { return version == "2025-03-26"; }

std::optional<LogLevel> parse_log_level(std::string_view name) {
  for (std::size_t i = 0; i < kLevelNames.size(); ++i)
    if (kLevelNames[i] == name) return static_cast<LogLevel>(i);
  return std::nullopt;
}

std::string_view log_level_name(LogLevel level) { return kLevelNames[static_cast<std::size_t>(level)]; }

// --- RequestContext ---------------------------------------------------------------------

RequestContext::RequestContext(Json id, Json progress_token, Sender sender, std::shared_ptr<std::atomic<bool>> cancelled,
                               const std::atomic<int>* level)
    : id_(std::move(id)),
      progress_token_(std::move(progress_token)),
      sender_(std::move(sender)),
      cancelled_(std::move(cancelled)),
      level_(level) {}

RequestContext::RequestContext() = default;

void RequestContext::progress(double progress, std::optional<double> total, std::string_view message) {
  if (!sender_ || progress_token_.is_null() || progress <= last_progress_) return;
  last_progress_ = progress;
  Json params = {{"progressToken", progress_token_}, {"progress", progress}};
  if (total) params["total"] = *total;
  if (!message.empty()) params["message"] = std::string(message);
  sender_(make_notification("notifications/progress", std::move(params)));
}

void RequestContext::log(LogLevel level, std::string_view logger, Json data) {
  if (!sender_ || !level_ || static_cast<int>(level) < level_->load()) return;
  sender_(make_notification("notifications/message", {{"level", std::string(log_level_name(level))},
                                                      {"logger", std::string(logger)},
                                                      {"data", std::move(data)}}));
}

// --- Session ----------------------------------------------------------------------------

Session::Session(ServerInfo info, Json capabilities, MessageLimits limits)
    : info_(std::move(info)), capabilities_(std::move(capabilities)), limits_(limits) {
  // ping is answered in every state, before initialize too.
  requests_.emplace("ping", [](const Json&, RequestContext&) -> Reply { return Json::object(); });
  notifications_.emplace("notifications/initialized", [this](const Json&) {
    State expected = State::kInitialized;
    state_.compare_exchange_strong(expected, State::kReady);
  });
  notifications_.emplace("notifications/cancelled", [this](const Json& params) { cancel(params); });
  if (capabilities_.is_object() && capabilities_.contains("logging")) {
    requests_.emplace("logging/setLevel", [this](const Json& params, RequestContext&) -> Reply {
      auto level = params.find("level");
      if (level == params.end() || !level->is_string()) return invalid_params("params.level must be a string");
      auto parsed = parse_log_level(level->get<std::string>());
      if (!parsed) return invalid_params("unknown log level: " + level->get<std::string>());
      level_.store(static_cast<int>(*parsed));
      return Json::object();
    });
  }
}

void Session::on_request(std::string method, RequestHandler handler) { requests_[std::move(method)] = std::move(handler); }

void Session::on_request(std::string method, std::function<Reply(const Json& params)> handler) {
  requests_[std::move(method)] = [h = std::move(handler)](const Json& params, RequestContext&) { return h(params); };
}

void Session::on_notification(std::string method, NotificationHandler handler) {
  notifications_[std::move(method)] = std::move(handler);
}

std::string Session::protocol_version() const {
  std::lock_guard lock(mutex_);
  return version_;
}

Json Session::client_info() const {
  std::lock_guard lock(mutex_);
  return client_info_;
}

std::size_t Session::in_flight() const {
  std::lock_guard lock(mutex_);
  return in_flight_.size();
}

Reply Session::initialize(const Json& params) {
  if (!params.is_object()) return invalid_params("initialize needs params");
  auto version = params.find("protocolVersion");
  if (version == params.end() || !version->is_string()) return invalid_params("params.protocolVersion must be a string");
  auto capabilities = params.find("capabilities");
  if (capabilities == params.end() || !capabilities->is_object())
    return invalid_params("params.capabilities must be an object");
  auto client = params.find("clientInfo");
  if (client == params.end() || !client->is_object() || !client->contains("name") || !(*client)["name"].is_string() ||
      !client->contains("version") || !(*client)["version"].is_string())
    return invalid_params("params.clientInfo must be an object with string name and version");
  State expected = State::kNew;
  if (!state_.compare_exchange_strong(expected, State::kInitialized))
    return RpcError{ErrorCode::kInvalidRequest, "the session is already initialized", nullptr};
  std::string negotiated(negotiate_version(version->get<std::string>()));
  {
    std::lock_guard lock(mutex_);
    version_ = negotiated;
    client_info_ = *client;
  }
  Json server_info = {{"name", info_.name}, {"version", info_.version}};
  if (!info_.title.empty()) server_info["title"] = info_.title;
  Json result = {{"protocolVersion", negotiated}, {"capabilities", capabilities_}, {"serverInfo", server_info}};
  if (!info_.instructions.empty()) result["instructions"] = info_.instructions;
  return result;
}

// notifications/cancelled: the request's handler sees cancelled() from now on. An unknown
// id (finished, or never sent) is ignored, as the specification allows.
void Session::cancel(const Json& params) {
  auto id = params.find("requestId");
  if (id == params.end() || !(id->is_string() || id->is_number_integer())) return;
  std::lock_guard lock(mutex_);
  if (auto it = in_flight_.find(id->dump()); it != in_flight_.end() && it->second) it->second->store(true);
}

void Session::cancel_all() {
  std::lock_guard lock(mutex_);
  for (auto& [id, flag] : in_flight_)
    if (flag) flag->store(true);
}

void Session::finish(const Json& id) {
  std::lock_guard lock(mutex_);
  in_flight_.erase(id.dump());
}

std::string Session::dispatch(const Work::Pending& request, const Sender& sender) {
  const Incoming& message = request.message;
  Reply reply;
  try {
    if (message.method == "initialize") {
      reply = initialize(message.params);
    } else if (auto it = requests_.find(message.method); it == requests_.end()) {
      reply = RpcError{ErrorCode::kMethodNotFound, "unknown method: " + message.method, nullptr};
    } else if (state_.load() == State::kNew && message.method != "ping") {
      reply = RpcError{ErrorCode::kInvalidRequest, "the session is not initialized: send initialize first", nullptr};
    } else {
      const Json params = message.params.is_null() ? Json::object() : message.params;
      Json token;
      if (auto meta = params.find("_meta"); meta != params.end() && meta->is_object()) {
        if (auto t = meta->find("progressToken"); t != meta->end() && (t->is_string() || t->is_number_integer())) token = *t;
      }
      RequestContext context(message.id, std::move(token), sender, request.cancelled, &level_);
      reply = it->second(params, context);
    }
  } catch (...) {  // a handler's bug must not take the session down or leak its text
    reply = RpcError{ErrorCode::kInternalError, "internal error", nullptr};
  }
  if (auto* error = std::get_if<RpcError>(&reply)) return json_text(make_error(message.id, *error));
  if (auto* text = std::get_if<ResultText>(&reply)) {
    // What json_text(make_result(...)) writes, around the text as it is.
    std::string out;
    out.reserve(text->json.size() + 64);
    out += R"({"jsonrpc":"2.0","id":)";
    append_json_text(out, message.id);
    out += R"(,"result":)";
    out += text->json;
    out += '}';
    return out;
  }
  return json_text(make_result(message.id, std::move(std::get<Json>(reply))));
}

Session::Work Session::accept(std::string_view bytes, Sender sender) {
  Work work;
  work.session_ = this;
  work.sender_ = std::move(sender);
  Payload payload = parse_payload(bytes, batches_allowed(protocol_version()), limits_);
  work.batch_ = payload.batch;
  for (const auto& failure : payload.failures) work.responses_.push_back(make_error(failure.id, failure.error));
  for (auto& message : payload.messages) {
    if (message.kind == Incoming::Kind::kResponse) continue;  // we send no requests
    if (message.kind == Incoming::Kind::kNotification) {
      // Unknown notifications are ignored, as JSON-RPC requires; none is answered.
      if (auto it = notifications_.find(message.method); it != notifications_.end()) {
        try {
          it->second(message.params.is_null() ? Json::object() : message.params);
        } catch (...) {
        }
      }
      continue;
    }
    // initialize must come alone: never inside a batch.
    if (payload.batch && message.method == "initialize") {
      work.responses_.push_back(
          make_error(message.id, {ErrorCode::kInvalidRequest, "initialize cannot be batched", nullptr}));
      continue;
    }
    auto flag = std::make_shared<std::atomic<bool>>(false);
    {
      std::lock_guard lock(mutex_);
      if (!in_flight_.emplace(message.id.dump(), flag).second) {
        work.responses_.push_back(make_error(
            message.id, {ErrorCode::kInvalidRequest, "a request with this id is still in progress", nullptr}));
        continue;
      }
    }
    work.requests_.push_back({std::move(message), std::move(flag)});
  }
  return work;
}

std::optional<std::string> Session::Work::run() {
  std::vector<std::string> responses;
  for (const Json& refusal : responses_) responses.push_back(json_text(refusal));
  responses_ = Json::array();
  for (auto& request : requests_) {
    std::string response = session_->dispatch(request, sender_);
    session_->finish(request.message.id);
    // A cancelled request gets no response (the client has stopped waiting for it).
    if (request.cancelled->load()) continue;
    responses.push_back(std::move(response));
  }
  requests_.clear();
  if (responses.empty()) return std::nullopt;
  if (!batch_) return std::move(responses.front());
  std::string out = "[";
  for (std::size_t i = 0; i < responses.size(); ++i) {
    if (i > 0) out += ',';
    out += responses[i];
  }
  out += ']';
  return out;
}

std::optional<std::string> Session::handle(std::string_view payload, Sender sender) {
  return accept(payload, std::move(sender)).run();
}

}  // namespace cqda::mcp
