// Differential fuzzing of the fast JSON reader: whatever it reads, nlohmann must read too,
// to the same value of the same types with the keys in the same order.
#include <cstdint>
#include <string>

#include "common/json_text.h"

namespace {

bool same_tree(const cqda::Json& a, const cqda::Json& b) {
  if (a.type() != b.type() || a.size() != b.size()) return false;
  if (a.is_object()) {
    for (auto i = a.begin(), j = b.begin(); i != a.end(); ++i, ++j)
      if (i.key() != j.key() || !same_tree(i.value(), j.value())) return false;
    return true;
  }
  if (a.is_array()) {
    for (std::size_t i = 0; i < a.size(); ++i)
      if (!same_tree(a[i], b[i])) return false;
    return true;
  }
  return a == b;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto fast = cqda::read_json_text(text, 64);
  if (!fast) return 0;
  cqda::Json slow;
  try {
    slow = cqda::Json::parse(text);
  } catch (const cqda::Json::exception&) {
    __builtin_trap();  // read something nlohmann refuses
  }
  if (!same_tree(*fast, slow)) __builtin_trap();
  return 0;
}
