// A coding as a member of codings.json's "codings" array: keys in sorted order, optional
// members only when set (and the memo only when the policy exports memos; the quote replaced
// when it exports no quotes). See docs/OUTPUTS.md and schemas/codings.schema.json.
#pragma once

#include <array>
#include <cstddef>

#include "coder/coding.h"
#include "common/json.h"
#include "policy/policy.h"

namespace cqda::exporter {

Json coding_json(const coder::Coding& c, const policy::ExportPolicy& policy);

// One coding's JSON object, reused from coding to coding while the same optional members are
// present: its strings keep their capacity, so writing hundreds of thousands of codings
// allocates almost nothing. After fill(c) the object equals coding_json(c, policy).
class CodingJsonBuffer {
 public:
  static constexpr std::size_t kStringFields = 10;

  explicit CodingJsonBuffer(const policy::ExportPolicy& policy) : policy_(policy) {}
  const Json& fill(const coder::Coding& c);

 private:
  void bind();

  const policy::ExportPolicy& policy_;
  Json json_;
  unsigned shape_ = 0;
  bool built_ = false;
  std::array<Json*, kStringFields> strings_{};  // slots of the string members (coding_json.cc)
  Json *codebook_version_ = nullptr, *start_ = nullptr, *end_ = nullptr;
};

}  // namespace cqda::exporter
