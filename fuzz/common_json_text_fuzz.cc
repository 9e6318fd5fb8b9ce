// Differential fuzzing of the fast JSON writer: for any JSON the parser accepts, and for any
// bytes used as a string, json_text must equal nlohmann's replacing dump byte for byte.
#include <cstdint>
#include <string>
#include <string_view>

#include "common/json_text.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  const auto same = [](const cqda::Json& value) {
    if (cqda::json_text(value) != value.dump(-1, ' ', false, cqda::Json::error_handler_t::replace)) __builtin_trap();
  };
  same(cqda::Json(bytes));
  same(cqda::Json{{bytes, bytes}});
  cqda::JsonLimits limits;
  limits.max_depth = 64;
  if (auto parsed = cqda::parse_json(bytes, "fuzz input", limits); parsed.ok()) same(*parsed);
  return 0;
}
