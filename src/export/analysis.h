// Counts over codings that reports (and later the MCP tools) share: code frequencies
// overall and per document, and co-occurrence of codes within one segment.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "coder/coding.h"

namespace cqda::exporter {

struct CodeFrequency {
  std::size_t codings = 0;
  std::size_t segments = 0;   // distinct segments with the code
  std::size_t documents = 0;  // distinct documents with the code
};

// code id -> frequency
std::map<std::string, CodeFrequency> code_frequencies(const std::vector<coder::Coding>& codings);

// document id -> code id -> codings
std::map<std::string, std::map<std::string, std::size_t>> code_matrix(const std::vector<coder::Coding>& codings);

struct CodePair {
  std::string first;   // first < second
  std::string second;
  std::size_t segments = 0;  // segments coded with both
};

// Pairs of distinct codes that share a segment, most frequent first (ties by ids).
std::vector<CodePair> code_cooccurrence(const std::vector<coder::Coding>& codings);

}  // namespace cqda::exporter
