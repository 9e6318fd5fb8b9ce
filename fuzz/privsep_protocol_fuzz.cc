// Fuzzes the decoders of every payload a child can send the supervisor (scan result,
// document reply, LLM response), of the requests a child receives (a compromised child
// controls these bytes), and of the page the broker reads. The first byte picks the decoder. A payload that decodes must
// re-encode to bytes that decode to the same value.
#include <cstdint>
#include <string_view>

#include "privsep/protocol.h"

using namespace cqda::privsep;

namespace {

void check_document(std::string_view payload) {
  auto reply = decode_document_reply(payload);
  if (!reply) return;
  auto again = decode_document_reply(encode_document_reply(*reply));
  if (!again || again->path != reply->path || again->document.has_value() != reply->document.has_value()) __builtin_trap();
  if (reply->document && again->document->text != reply->document->text) __builtin_trap();
}

void check_scan(std::string_view payload) {
  auto reply = decode_scan_reply(payload);
  if (!reply) return;
  if (encode_scan_reply(*reply) != payload) __builtin_trap();
}

void check_page(std::string_view payload) {
  auto page = decode_page(payload);
  if (!page) return;
  if (encode_page(*page) != payload) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string_view payload(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 7) {
    case 0: check_document(payload); break;
    case 1: check_scan(payload); break;
    case 2: (void)decode_llm_response(payload); break;
    case 3: (void)decode_llm_request(payload); break;
    case 4: (void)decode_read_document(payload); break;
    case 5: (void)decode_read_path(payload); break;
    case 6: check_page(payload); break;
  }
  return 0;
}
