#include "mcp/jsonrpc.h"

namespace cqda::mcp {
namespace {

RpcError invalid(std::string message) { return {ErrorCode::kInvalidRequest, std::move(message), nullptr}; }

// JSON-RPC ids are strings or numbers; MCP forbids null and we refuse fractions (a float id
// cannot be echoed back exactly).
bool valid_id(const Json& id) { return id.is_string() || id.is_number_integer(); }

}  // namespace

Result<Incoming> parse_message(const Json& value, ParseFailure& failure) {
  failure = {};
  if (!value.is_object()) {
    failure.error = invalid("a message must be a JSON object");
    return cqda::make_error(failure.error.message);
  }
  if (auto id = value.find("id"); id != value.end() && valid_id(*id)) failure.id = *id;
  auto fail = [&](RpcError error) -> Result<Incoming> {
    failure.error = std::move(error);
    return cqda::make_error(failure.error.message);
  };
  auto version = value.find("jsonrpc");
  if (version == value.end() || *version != "2.0") return fail(invalid("\"jsonrpc\" must be \"2.0\""));
  Incoming message;
  const bool has_id = value.contains("id");
  if (has_id && !valid_id(value["id"])) return fail(invalid("\"id\" must be a string or an integer (null is not allowed)"));
  if (has_id) message.id = value["id"];
  if (auto method = value.find("method"); method != value.end()) {
    if (!method->is_string() || method->get_ref<const std::string&>().empty())
      return fail(invalid("\"method\" must be a non-empty string"));
    message.method = method->get<std::string>();
    if (auto params = value.find("params"); params != value.end()) {
      if (!params->is_object()) return fail({ErrorCode::kInvalidParams, "\"params\" must be an object", nullptr});
      message.params = *params;
    }
    if (value.contains("result") || value.contains("error")) return fail(invalid("a request has no result or error"));
    message.kind = has_id ? Incoming::Kind::kRequest : Incoming::Kind::kNotification;
    return message;
  }
  // A response to a request of ours.
  if (!has_id) return fail(invalid("a message needs a \"method\", or an \"id\" and a result"));
  const bool has_result = value.contains("result"), has_error = value.contains("error");
  if (has_result == has_error) return fail(invalid("a response has exactly one of \"result\" and \"error\""));
  message.kind = Incoming::Kind::kResponse;
  if (has_result) {
    message.result = value["result"];
  } else {
    const Json& e = value["error"];
    if (!e.is_object() || !e.contains("code") || !e["code"].is_number_integer() || !e.contains("message") ||
        !e["message"].is_string())
      return fail(invalid("an error response needs an integer \"code\" and a string \"message\""));
    message.error = RpcError{static_cast<ErrorCode>(e["code"].get<int>()), e["message"].get<std::string>(),
                             e.value("data", Json())};
  }
  return message;
}

Payload parse_payload(std::string_view bytes, bool batches, const MessageLimits& limits) {
  Payload payload;
  JsonLimits json_limits;
  json_limits.max_bytes = limits.max_bytes;
  json_limits.max_depth = limits.max_depth;
  auto parsed = parse_json(bytes, "message", json_limits);
  if (!parsed) {
    payload.failures.push_back({{ErrorCode::kParseError, parsed.error().message, nullptr}, nullptr});
    return payload;
  }
  auto one = [&](const Json& value) {
    ParseFailure failure;
    auto message = parse_message(value, failure);
    if (message) {
      payload.messages.push_back(std::move(message).value());
    } else {
      payload.failures.push_back(std::move(failure));
    }
  };
  if (!parsed->is_array()) {
    one(*parsed);
    return payload;
  }
  if (!batches) {
    payload.failures.push_back({invalid("batches are not supported in this protocol revision"), nullptr});
    return payload;
  }
  if (parsed->empty() || parsed->size() > limits.max_batch) {
    payload.failures.push_back(
        {invalid("a batch must hold 1 to " + std::to_string(limits.max_batch) + " messages"), nullptr});
    return payload;
  }
  payload.batch = true;
  for (const Json& value : *parsed) one(value);
  return payload;
}

Json make_result(const Json& id, Json result) {
  Json out = Json::object();
  out["jsonrpc"] = "2.0";
  out["id"] = id;
  out["result"] = std::move(result);
  return out;
}

Json make_error(const Json& id, const RpcError& error) {
  Json e = Json::object();
  e["code"] = static_cast<int>(error.code);
  e["message"] = error.message;
  if (!error.data.is_null()) e["data"] = error.data;
  Json out = Json::object();
  out["jsonrpc"] = "2.0";
  out["id"] = id;
  out["error"] = std::move(e);
  return out;
}

Json make_notification(std::string_view method, Json params) {
  Json out = Json::object();
  out["jsonrpc"] = "2.0";
  out["method"] = std::string(method);
  if (!params.is_null()) out["params"] = std::move(params);
  return out;
}

}  // namespace cqda::mcp
