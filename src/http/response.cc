#include "http/response.h"

#include <boost/beast/http/status.hpp>
#include <cstdio>

#include "common/json.h"

namespace cqda::http {

Response json_response(unsigned status, std::string body) {
  Response r;
  r.status = status;
  r.content_type = "application/json";
  r.body = std::move(body);
  return r;
}

Response error_response(unsigned status, std::string_view reason) {
  Json body = {{"jsonrpc", "2.0"},
               {"id", nullptr},
               {"error", {{"code", -32000}, {"message", std::string(reason)}}}};
  return json_response(status, body.dump());
}

std::string render(const Response& r) {
  auto reason =
      boost::beast::http::obsolete_reason(static_cast<boost::beast::http::status>(r.status));
  std::string out = "HTTP/1.1 " + std::to_string(r.status) + " " +
                    std::string(reason.data(), reason.size()) + "\r\n";
  auto header = [&](std::string_view name, std::string_view value) {
    out.append(name).append(": ").append(value).append("\r\n");
  };
  header("Cache-Control", "no-store");
  header("X-Content-Type-Options", "nosniff");
  if (r.event_stream) {
    header("Content-Type", "text/event-stream");
    header("Transfer-Encoding", "chunked");
  } else {
    if (!r.content_type.empty()) header("Content-Type", r.content_type);
    if (r.status != 204 && r.status >= 200) header("Content-Length", std::to_string(r.body.size()));
  }
  for (const auto& [name, value] : r.headers) header(name, value);
  if (r.close) header("Connection", "close");
  out += "\r\n";
  if (!r.event_stream && r.status != 204) out += r.body;
  return out;
}

std::string event_chunk(std::string_view message) {
  // A message is one line of JSON; were it ever to hold a line break, each line gets its own
  // data: field so the event cannot end early.
  std::string event = "event: message\n";
  while (true) {
    auto end = message.find_first_of("\r\n");
    event.append("data: ").append(message.substr(0, end)).append("\n");
    if (end == std::string_view::npos) break;
    message.remove_prefix(message.compare(end, 2, "\r\n") == 0 ? end + 2 : end + 1);
  }
  event += "\n";
  char size[32];
  std::snprintf(size, sizeof(size), "%zx\r\n", event.size());
  return size + event + "\r\n";
}

std::string_view last_chunk() { return "0\r\n\r\n"; }

}  // namespace cqda::http
