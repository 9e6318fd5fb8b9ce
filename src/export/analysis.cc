#include "export/analysis.h"

#include <algorithm>
#include <cstdint>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace cqda::exporter {

// Codings come grouped by segment from every coder, so a run of the same segment or document
// is recognised by comparing with the previous coding and looked up once; any order still
// gives the right numbers.
CodingIndex::CodingIndex(std::span<const coder::Coding> codings) {
  std::unordered_map<std::string_view, std::uint32_t> code_ids, segment_ids, document_ids;
  auto number = [](std::unordered_map<std::string_view, std::uint32_t>& ids, std::vector<std::string_view>& names,
                   std::string_view name) {
    auto [it, added] = ids.emplace(name, static_cast<std::uint32_t>(names.size()));
    if (added) names.push_back(name);
    return it->second;
  };
  code.reserve(codings.size());
  segment.reserve(codings.size());
  document.reserve(codings.size());
  const coder::Coding* previous = nullptr;
  for (const auto& c : codings) {
    code.push_back(number(code_ids, codes, c.code_id));
    const bool same_segment = previous && previous->segment_id == c.segment_id;
    segment.push_back(same_segment ? segment.back() : number(segment_ids, segments, c.segment_id));
    const bool same_document = previous && previous->document_id == c.document_id;
    document.push_back(same_document ? document.back() : number(document_ids, documents, c.document_id));
    previous = &c;
  }
}

namespace {

// Sorted, without repeats.
void sort_unique(std::vector<std::uint64_t>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

std::uint64_t pack(std::uint32_t high, std::uint32_t low) { return (std::uint64_t{high} << 32) | low; }

}  // namespace

std::map<std::string, CodeFrequency> code_frequencies(const CodingIndex& x) {
  std::vector<CodeFrequency> counts(x.codes.size());
  std::vector<std::uint64_t> code_segments, code_documents;  // (code, segment), (code, document)
  code_segments.reserve(x.code.size());
  code_documents.reserve(x.code.size());
  for (std::size_t i = 0; i < x.code.size(); ++i) {
    ++counts[x.code[i]].codings;
    code_segments.push_back(pack(x.code[i], x.segment[i]));
    code_documents.push_back(pack(x.code[i], x.document[i]));
  }
  sort_unique(code_segments);
  sort_unique(code_documents);
  for (auto pair : code_segments) ++counts[pair >> 32].segments;
  for (auto pair : code_documents) ++counts[pair >> 32].documents;
  std::map<std::string, CodeFrequency> out;
  for (std::size_t k = 0; k < x.codes.size(); ++k) out.emplace(std::string(x.codes[k]), counts[k]);
  return out;
}

std::map<std::string, std::map<std::string, std::size_t>> code_matrix(const CodingIndex& x) {
  std::unordered_map<std::uint64_t, std::size_t> counts;  // (document, code) -> codings
  for (std::size_t i = 0; i < x.code.size(); ++i) ++counts[pack(x.document[i], x.code[i])];
  std::map<std::string, std::map<std::string, std::size_t>> out;
  for (const auto& [pair, n] : counts)
    out[std::string(x.documents[pair >> 32])][std::string(x.codes[pair & 0xffffffffu])] = n;
  return out;
}

std::vector<CodePair> code_cooccurrence(const CodingIndex& x) {
  // Codes in id order, so that each pair is counted once as (smaller id, larger id).
  std::vector<std::uint32_t> by_name(x.codes.size()), rank(x.codes.size());
  for (std::uint32_t k = 0; k < by_name.size(); ++k) by_name[k] = k;
  std::sort(by_name.begin(), by_name.end(), [&](std::uint32_t a, std::uint32_t b) { return x.codes[a] < x.codes[b]; });
  for (std::uint32_t r = 0; r < by_name.size(); ++r) rank[by_name[r]] = r;
  std::vector<std::uint64_t> segment_codes;  // (segment, code rank)
  segment_codes.reserve(x.code.size());
  for (std::size_t i = 0; i < x.code.size(); ++i) segment_codes.push_back(pack(x.segment[i], rank[x.code[i]]));
  sort_unique(segment_codes);
  std::map<std::pair<std::uint32_t, std::uint32_t>, std::size_t> counts;  // by rank: the order of the ids
  for (std::size_t begin = 0; begin < segment_codes.size();) {
    std::size_t end = begin;
    while (end < segment_codes.size() && segment_codes[end] >> 32 == segment_codes[begin] >> 32) ++end;
    for (std::size_t a = begin; a < end; ++a)
      for (std::size_t b = a + 1; b < end; ++b)
        ++counts[{static_cast<std::uint32_t>(segment_codes[a]), static_cast<std::uint32_t>(segment_codes[b])}];
    begin = end;
  }
  std::vector<CodePair> pairs;
  for (const auto& [key, n] : counts)
    pairs.push_back({std::string(x.codes[by_name[key.first]]), std::string(x.codes[by_name[key.second]]), n});
  std::stable_sort(pairs.begin(), pairs.end(),
                   [](const CodePair& a, const CodePair& b) { return a.segments > b.segments; });
  return pairs;
}

std::map<std::string, CodeFrequency> code_frequencies(const std::vector<coder::Coding>& codings) {
  return code_frequencies(CodingIndex(codings));
}

std::map<std::string, std::map<std::string, std::size_t>> code_matrix(const std::vector<coder::Coding>& codings) {
  return code_matrix(CodingIndex(codings));
}

std::vector<CodePair> code_cooccurrence(const std::vector<coder::Coding>& codings) {
  return code_cooccurrence(CodingIndex(codings));
}

}  // namespace cqda::exporter
