#include "mcp/session.h"

#include <algorithm>

namespace cqda::mcp {
namespace {

RpcError invalid_params(std::string message) { return {ErrorCode::kInvalidParams, std::move(message), nullptr}; }

}  // namespace

std::string_view negotiate_version(std::string_view requested) {
  return is_supported_version(requested) ? requested : kProtocolVersions.front();
}

bool is_supported_version(std::string_view version) {
  return std::find(kProtocolVersions.begin(), kProtocolVersions.end(), version) != kProtocolVersions.end();
}

bool batches_allowed(std::string_view version) { return version == "2025-03-26"; }

Session::Session(ServerInfo info, Json capabilities, MessageLimits limits)
    : info_(std::move(info)), capabilities_(std::move(capabilities)), limits_(limits) {
  // ping is answered in every state, before initialize too.
  requests_.emplace("ping", [](const Json&) -> Reply { return Json::object(); });
  notifications_.emplace("notifications/initialized", [this](const Json&) {
    if (state_ == State::kInitialized) state_ = State::kReady;
  });
  // A client may cancel a request; the handlers of long tools check for it (later).
  notifications_.emplace("notifications/cancelled", [](const Json&) {});
}

void Session::on_request(std::string method, RequestHandler handler) { requests_[std::move(method)] = std::move(handler); }

void Session::on_notification(std::string method, NotificationHandler handler) {
  notifications_[std::move(method)] = std::move(handler);
}

Reply Session::initialize(const Json& params) {
  if (state_ != State::kNew) return RpcError{ErrorCode::kInvalidRequest, "the session is already initialized", nullptr};
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
  version_ = std::string(negotiate_version(version->get<std::string>()));
  client_info_ = *client;
  state_ = State::kInitialized;
  Json server_info = {{"name", info_.name}, {"version", info_.version}};
  Json result = {{"protocolVersion", version_}, {"capabilities", capabilities_}, {"serverInfo", server_info}};
  if (!info_.instructions.empty()) result["instructions"] = info_.instructions;
  return result;
}

std::optional<Json> Session::dispatch(const Incoming& message) {
  if (message.kind == Incoming::Kind::kResponse) return std::nullopt;  // we send no requests yet
  if (message.kind == Incoming::Kind::kNotification) {
    // Unknown notifications are ignored, as JSON-RPC requires; none is answered.
    if (auto it = notifications_.find(message.method); it != notifications_.end()) {
      try {
        it->second(message.params);
      } catch (...) {
      }
    }
    return std::nullopt;
  }
  Reply reply;
  try {
    if (message.method == "initialize") {
      reply = initialize(message.params);
    } else if (auto it = requests_.find(message.method); it == requests_.end()) {
      reply = RpcError{ErrorCode::kMethodNotFound, "unknown method: " + message.method, nullptr};
    } else if (state_ == State::kNew && message.method != "ping") {
      reply = RpcError{ErrorCode::kInvalidRequest, "the session is not initialized: send initialize first", nullptr};
    } else {
      reply = it->second(message.params.is_null() ? Json::object() : message.params);
    }
  } catch (...) {  // a handler's bug must not take the session down or leak its text
    reply = RpcError{ErrorCode::kInternalError, "internal error", nullptr};
  }
  if (auto* error = std::get_if<RpcError>(&reply)) return make_error(message.id, *error);
  return make_result(message.id, std::move(std::get<Json>(reply)));
}

std::optional<std::string> Session::handle(std::string_view bytes) {
  Payload payload = parse_payload(bytes, batches_allowed(version_), limits_);
  Json responses = Json::array();
  for (const auto& failure : payload.failures) responses.push_back(make_error(failure.id, failure.error));
  for (const auto& message : payload.messages) {
    // initialize must come alone: never inside a batch.
    if (payload.batch && message.method == "initialize") {
      responses.push_back(make_error(message.id, {ErrorCode::kInvalidRequest, "initialize cannot be batched", nullptr}));
      continue;
    }
    if (auto response = dispatch(message)) responses.push_back(std::move(*response));
  }
  if (responses.empty()) return std::nullopt;
  const Json& out = payload.batch ? responses : responses.front();
  return out.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace cqda::mcp
