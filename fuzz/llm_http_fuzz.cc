// Fuzzes the HTTP response framing the LLM caller applies to bytes from an endpoint (Beast's
// parser fed from memory, with header and body limits). Any input must give a reply or an
// Error, never a crash, and a body is never larger than the limit.
#include <cstdint>
#include <string_view>

#include "llm/transport.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  constexpr std::size_t kLimit = 4096;
  auto reply = cqda::llm::parse_http_response(bytes, kLimit);
  if (reply && reply->body.size() > kLimit) __builtin_trap();
  return 0;
}
