// Fuzzes the HTTP response framing the LLM caller applies to bytes from an endpoint (Beast's
// parser fed from memory, with header and body limits), all at once and in pieces as a socket
// delivers them (the first byte picks the piece size). Any input must give a reply or an
// Error, never a crash; a body is never larger than the limit; and the pieces never change
// the outcome.
#include <cstdint>
#include <string_view>

#include "llm/transport.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t piece = 1 + data[0] % 64;
  std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  constexpr std::size_t kLimit = 4096;
  auto whole = cqda::llm::parse_http_response(bytes, kLimit);
  auto pieces = cqda::llm::parse_http_response(bytes, kLimit, piece);
  if (whole && whole->body.size() > kLimit) __builtin_trap();
  if (whole.ok() != pieces.ok()) __builtin_trap();
  if (whole && (whole->status != pieces->status || whole->body != pieces->body)) __builtin_trap();
  return 0;
}
