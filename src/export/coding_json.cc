#include "export/coding_json.h"

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
  auto set = [](Json* slot, const std::string& value) {
    if (slot) slot->get_ref<std::string&>().assign(value);
  };
  set(cache_key_, c.cache_key);
  set(code_id_, c.code_id);
  *codebook_version_ = c.codebook_version;
  set(coder_, c.coder);
  set(document_id_, c.document_id);
  set(document_sha256_, c.document_sha256);
  *end_ = c.end;
  set(memo_, c.memo);
  set(prompt_hash_, c.prompt_hash);
  if (policy_.include_quotes) set(quote_, c.quote);
  set(rationale_, c.rationale);
  set(segment_id_, c.segment_id);
  *start_ = c.start;
  return json_;
}

void CodingJsonBuffer::bind() {
  auto slot = [&](const char* key) -> Json* {
    auto it = json_.find(key);
    return it == json_.end() ? nullptr : &*it;
  };
  cache_key_ = slot("cache_key");
  code_id_ = slot("code_id");
  codebook_version_ = slot("codebook_version");
  coder_ = slot("coder");
  document_id_ = slot("document_id");
  document_sha256_ = slot("document_sha256");
  end_ = slot("end");
  memo_ = slot("memo");
  prompt_hash_ = slot("prompt_hash");
  quote_ = slot("quote");
  rationale_ = slot("rationale");
  segment_id_ = slot("segment_id");
  start_ = slot("start");
}

}  // namespace cqda::exporter
