#include "export/analysis.h"

#include <algorithm>
#include <set>

namespace cqda::exporter {

std::map<std::string, CodeFrequency> code_frequencies(const std::vector<coder::Coding>& codings) {
  std::map<std::string, std::set<std::string>> segments, documents;
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
  std::map<std::string, std::set<std::string>> codes_by_segment;
  for (const auto& c : codings) codes_by_segment[c.segment_id].insert(c.code_id);
  std::map<std::pair<std::string, std::string>, std::size_t> counts;
  for (const auto& [segment, codes] : codes_by_segment) {
    for (auto a = codes.begin(); a != codes.end(); ++a)
      for (auto b = std::next(a); b != codes.end(); ++b) ++counts[{*a, *b}];
  }
  std::vector<CodePair> pairs;
  for (const auto& [key, n] : counts) pairs.push_back({key.first, key.second, n});
  std::stable_sort(pairs.begin(), pairs.end(),
                   [](const CodePair& x, const CodePair& y) { return x.segments > y.segments; });
  return pairs;
}

}  // namespace cqda::exporter
