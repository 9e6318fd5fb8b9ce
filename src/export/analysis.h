// Counts over codings that reports (and later the MCP tools) share: code frequencies
// overall and per document, and co-occurrence of codes within one segment.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "coder/coding.h"

namespace cqda::exporter {

struct CodeFrequency {
  std::size_t codings = 0;
  std::size_t segments = 0;   // distinct segments with the code
  std::size_t documents = 0;  // distinct documents with the code
};

struct CodePair {
  std::string first;   // first < second
  std::string second;
  std::size_t segments = 0;  // segments coded with both
};

// The codings with their code, segment and document numbered (in order of first appearance),
// made once for all the counts a report takes: each pass over a large corpus's codings reads
// hundreds of megabytes. Holds views into the codings, which must outlive it.
class CodingIndex {
 public:
  explicit CodingIndex(std::span<const coder::Coding> codings);

  std::vector<std::string_view> codes, segments, documents;
  std::vector<std::uint32_t> code, segment, document;  // per coding
};

// code id -> frequency
std::map<std::string, CodeFrequency> code_frequencies(const CodingIndex& index);
std::map<std::string, CodeFrequency> code_frequencies(const std::vector<coder::Coding>& codings);

// document id -> code id -> codings
std::map<std::string, std::map<std::string, std::size_t>> code_matrix(const CodingIndex& index);
std::map<std::string, std::map<std::string, std::size_t>> code_matrix(const std::vector<coder::Coding>& codings);

// Pairs of distinct codes that share a segment, most frequent first (ties by ids).
std::vector<CodePair> code_cooccurrence(const CodingIndex& index);
std::vector<CodePair> code_cooccurrence(const std::vector<coder::Coding>& codings);

}  // namespace cqda::exporter
