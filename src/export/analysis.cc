#include "export/analysis.h"

#include <algorithm>
#include <set>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

namespace cqda::exporter {

// Keys are views into `codings`, which outlive every map here.
std::map<std::string, CodeFrequency> code_frequencies(const std::vector<coder::Coding>& codings) {
  std::unordered_map<std::string_view, std::unordered_set<std::string_view>> segments, documents;
  std::map<std::string, CodeFrequency> out;
  for (const auto& c : codings) {
    ++out[c.code_id].codings;
    segments[c.code_id].insert(c.segment_id);
    documents[c.code_id].insert(c.document_id);
  }
  for (auto& [code, freq] : out) {
    freq.segments = segments[code].size();
    freq.documents = documents[code].size();
  }
  return out;
}

std::map<std::string, std::map<std::string, std::size_t>> code_matrix(const std::vector<coder::Coding>& codings) {
  std::map<std::string, std::map<std::string, std::size_t>> out;
  for (const auto& c : codings) ++out[c.document_id][c.code_id];
  return out;
}

std::vector<CodePair> code_cooccurrence(const std::vector<coder::Coding>& codings) {
  std::unordered_map<std::string_view, std::set<std::string_view>> codes_by_segment;
  for (const auto& c : codings) codes_by_segment[c.segment_id].insert(c.code_id);
  std::map<std::pair<std::string_view, std::string_view>, std::size_t> counts;
  for (const auto& [segment, codes] : codes_by_segment) {
    for (auto a = codes.begin(); a != codes.end(); ++a)
      for (auto b = std::next(a); b != codes.end(); ++b) ++counts[{*a, *b}];
  }
  std::vector<CodePair> pairs;
  for (const auto& [key, n] : counts) pairs.push_back({std::string(key.first), std::string(key.second), n});
  std::stable_sort(pairs.begin(), pairs.end(),
                   [](const CodePair& x, const CodePair& y) { return x.segments > y.segments; });
  return pairs;
}

}  // namespace cqda::exporter
