// The pattern detectors: e-mail, phone, URL, IP, IBAN, payment card, national IDs,
// postcodes, dates of birth, @handles and the policy's custom patterns. Every pattern is RE2
// (linear time, no backtracking); formats with a checksum are validated before they count.
//
// Speed: a line is scanned by a detector only when it holds the bytes that detector needs
// (a digit, '@', "www."/"://"), and the digit detectors first run together as one RE2::Set
// pass that says which of them can match at all; ordinary prose without digits costs one
// byte scan per line.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "anonymize/detection.h"
#include "common/result.h"
#include "policy/policy.h"

namespace re2 {
class RE2;
}

namespace cqda::anonymize {

class PatternDetectors {
 public:
  explicit PatternDetectors(const policy::AnonymizationPolicy& policy);
  ~PatternDetectors();
  PatternDetectors(PatternDetectors&&) noexcept;

  // Compile errors of custom patterns ("custom pattern 'x': missing )"); a pattern that does
  // not compile matches nothing, so callers must check this first.
  const Status& status() const { return status_; }

  // Appends detections in one line (no '\n'); offsets are `base` + bytes in the line.
  void scan_line(std::string_view line, std::size_t base, std::vector<Detection>& out) const;
  // Custom patterns run over the whole text (they may span lines).
  void scan_custom(std::string_view text, std::vector<Detection>& out) const;

  struct Compiled;

 private:
  std::unique_ptr<Compiled> compiled_;
  Status status_;
};

// Checks that every custom pattern compiles with RE2.
Status check_custom_patterns(const policy::AnonymizationPolicy& policy);

}  // namespace cqda::anonymize
