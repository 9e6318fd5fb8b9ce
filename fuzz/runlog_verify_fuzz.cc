// Feeds arbitrary bytes to the run-log verifier as a whole log file. The trusted key is the
// fixed test key (seed 0x00..0x1f) that signed the valid seeds in corpus/runlog_verify/, so
// the fuzzer starts from logs that verify and mutates them.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "runlog/keys.h"
#include "runlog/verifier.h"

namespace {

const cqda::runlog::PublicKey& fixed_public_key() {
  static const cqda::runlog::PublicKey key = [] {
    cqda::runlog::Ed25519Seed seed{};
    for (std::size_t i = 0; i < seed.size(); ++i) seed[i] = static_cast<std::uint8_t>(i);
    auto signing = cqda::runlog::SigningKey::from_seed(seed);
    if (!signing) __builtin_trap();
    return signing->public_key();
  }();
  return key;
}

// The report's own contract: first_bad_line and a "line N" reason exactly when not ok.
void check_report(const cqda::runlog::VerifyReport& report) {
  if (report.ok == report.first_bad_line.has_value()) __builtin_trap();
  if (!report.ok && report.reason.rfind("line " + std::to_string(*report.first_bad_line), 0) != 0)
    __builtin_trap();
  if (report.ok && report.records == 0) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view content(reinterpret_cast<const char*>(data), size);
  check_report(cqda::runlog::verify_log(content, {fixed_public_key()}));
  check_report(
      cqda::runlog::verify_log(content, {fixed_public_key()}, {.require_signatures = false}));
  return 0;
}
