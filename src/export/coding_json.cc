#include "export/coding_json.h"

#include <array>

namespace cqda::exporter {

Json coding_json(const coder::Coding& c, const policy::ExportPolicy& policy) {
  Json j = Json::object();
  if (!c.cache_key.empty()) j["cache_key"] = c.cache_key;
  j["code_id"] = c.code_id;
  j["codebook_version"] = c.codebook_version;
  j["coder"] = c.coder;
  j["document_id"] = c.document_id;
  j["document_sha256"] = c.document_sha256;
  j["end"] = c.end;
  if (!c.memo.empty() && policy.include_memos) j["memo"] = c.memo;
  if (!c.prompt_hash.empty()) j["prompt_hash"] = c.prompt_hash;
  j["quote"] = policy.include_quotes ? c.quote : std::string("[quote excluded by policy]");
  if (!c.rationale.empty()) j["rationale"] = c.rationale;
  j["segment_id"] = c.segment_id;
  j["start"] = c.start;
  return j;
}

namespace {

// The string members of a coding as coding_json writes them. The quote is one unless the
// policy excludes quotes (then its text is fixed); a member that is absent has no slot.
struct StringField {
  const char* key;
  std::string coder::Coding::*member;
};
constexpr std::array<StringField, CodingJsonBuffer::kStringFields> kStringMembers{{
    {"cache_key", &coder::Coding::cache_key},
    {"code_id", &coder::Coding::code_id},
    {"coder", &coder::Coding::coder},
    {"document_id", &coder::Coding::document_id},
    {"document_sha256", &coder::Coding::document_sha256},
    {"memo", &coder::Coding::memo},
    {"prompt_hash", &coder::Coding::prompt_hash},
    {"quote", &coder::Coding::quote},
    {"rationale", &coder::Coding::rationale},
    {"segment_id", &coder::Coding::segment_id},
}};

}  // namespace

const Json& CodingJsonBuffer::fill(const coder::Coding& c) {
  const unsigned shape = (c.cache_key.empty() ? 0u : 1u) | (!c.memo.empty() && policy_.include_memos ? 2u : 0u) |
                         (c.prompt_hash.empty() ? 0u : 4u) | (c.rationale.empty() ? 0u : 8u);
  if (!built_ || shape != shape_) {
    json_ = coding_json(c, policy_);
    shape_ = shape;
    built_ = true;
    bind();
    return json_;
  }
  for (std::size_t i = 0; i < kStringMembers.size(); ++i)
    if (strings_[i]) strings_[i]->get_ref<std::string&>().assign(c.*kStringMembers[i].member);
  *codebook_version_ = c.codebook_version;
  *start_ = c.start;
  *end_ = c.end;
  return json_;
}

void CodingJsonBuffer::bind() {
  auto slot = [&](const char* key) -> Json* {
    auto it = json_.find(key);
    return it == json_.end() ? nullptr : &*it;
  };
  for (std::size_t i = 0; i < kStringMembers.size(); ++i) {
    const bool placeholder = kStringMembers[i].member == &coder::Coding::quote && !policy_.include_quotes;
    strings_[i] = placeholder ? nullptr : slot(kStringMembers[i].key);  // a placeholder's text stays
  }
  codebook_version_ = slot("codebook_version");
  start_ = slot("start");
  end_ = slot("end");
}

}  // namespace cqda::exporter
