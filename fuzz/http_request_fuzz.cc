// Fuzzes what a client controls before any JSON is parsed: the bytes go through Beast's
// request parser with the server's limits (once whole, once in small pieces as a socket
// delivers them), then through every edge check. Nothing may crash, and what the checks let
// through must hold: one Host naming an allowed host and the port, framing that is either
// one Content-Length or exactly "chunked", the right token; both parses agree.
#include <boost/asio/buffer.hpp>
#include <boost/beast/http.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "http/edge.h"
#include "http/response.h"

using namespace cqda;
using namespace cqda::http;
namespace bhttp = boost::beast::http;

namespace {

constexpr std::string_view kToken = "fuzz-token-0123456789";
constexpr std::size_t kHeaderLimit = 8 * 1024;  // the server's defaults (Limits)
constexpr std::size_t kBodyLimit = 4u << 20;

const EdgePolicy& policy() {
  static const EdgePolicy p = *make_edge_policy(
      Scheme::kHttps, 8765, {"localhost", "127.0.0.1", "::1"}, kToken, kBodyLimit);
  return p;
}

using Parser = bhttp::request_parser<bhttp::string_body>;

// Feeds `bytes` `piece` bytes at a time (0: all at once), as the server's reads would.
std::unique_ptr<Parser> parse(std::string_view bytes, std::size_t piece) {
  auto out = std::make_unique<Parser>();
  Parser& parser = *out;
  parser.header_limit(kHeaderLimit);
  parser.body_limit(kBodyLimit);
  parser.eager(true);
  const std::size_t step = piece == 0 ? bytes.size() : piece;
  std::size_t available = std::min(step, bytes.size());
  std::size_t used = 0;
  // Each round consumes bytes, makes more available, or stops.
  while (!parser.is_done()) {
    boost::beast::error_code ec;
    const std::size_t n =
        parser.put(boost::asio::buffer(bytes.data() + used, available - used), ec);
    used += n;
    if (ec && ec != bhttp::error::need_more) break;
    if (ec || n == 0 || used == available) {
      if (available == bytes.size()) break;
      available = std::min(bytes.size(), available + step);
    }
  }
  return out;
}

void check_invariants(const RequestHead& head) {
  auto refusal = check_head(head, policy());
  if (refusal) {
    // Every refusal renders as a complete response without the request's bytes in it.
    std::string text = render(error_response(refusal->status, refusal->reason));
    if (text.rfind("HTTP/1.1 ", 0) != 0 || text.find("\r\n\r\n") == std::string::npos)
      __builtin_trap();
  } else {
    auto host = single_field(head, "Host");
    if (!host || !host->has_value()) __builtin_trap();
    auto authority = parse_authority(**host);
    if (!authority || authority->port.value_or(443) != 8765) __builtin_trap();
    if (authority->host != "localhost" && authority->host != "127.0.0.1" &&
        authority->host != "::1")
      __builtin_trap();
    auto te = single_field(head, "Transfer-Encoding");
    auto cl = single_field(head, "Content-Length");
    if (!te || !cl || (te->has_value() && cl->has_value())) __builtin_trap();
    auto auth = single_field(head, "Authorization");
    if (!auth || !auth->has_value() || (*auth)->find(kToken) == std::string_view::npos)
      __builtin_trap();
  }
  // The later checks never throw, whatever the fields hold.
  (void)check_post_media(head);
  for (const auto& field : head) {
    std::string_view value(field.value().data(), field.value().size());
    (void)parse_origin(value);
    (void)parse_authority(value);
    (void)is_json_content_type(value);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto whole = parse(bytes, 0);
  auto pieces = parse(bytes, 1 + size % 7);
  if (whole->is_header_done()) check_invariants(whole->get());
  if (whole->is_header_done() && pieces->is_header_done() &&
      check_head(whole->get(), policy()).has_value() !=
          check_head(pieces->get(), policy()).has_value())
    __builtin_trap();
  if (whole->is_done()) {
    // A body as an event: one event, however many line breaks it holds.
    std::string chunk = event_chunk(whole->get().body());
    if (chunk.find("\n\n") != chunk.size() - 4) __builtin_trap();
  }
  return 0;
}
