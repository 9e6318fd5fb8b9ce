// Fuzzes the policy loader: parsing with comments, the depth bound, schema validation and
// the semantic checks. Any input must give a Policy or an Error, never a crash.
#include <cstdint>
#include <string_view>

#include "policy/policy.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto policy = cqda::policy::load_policy_text(text, "fuzz.json");
  if (policy.ok()) {
    // The effective policy must load again: what `policy check` prints is a valid policy.
    auto again = cqda::policy::load_policy_text(policy->effective.dump(), "effective.json");
    if (!again.ok()) __builtin_trap();
  }
  return 0;
}
