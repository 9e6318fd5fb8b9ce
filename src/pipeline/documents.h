// The supervisor's part of each document: code it and keep only codings whose quote is the
// text at their span. The document itself arrives from the reader process, anonymized.
#pragma once

#include <cstddef>
#include <vector>

#include "coder/coding.h"
#include "coder/offline_coder.h"
#include "common/document.h"

namespace cqda::pipeline {

struct CodedDocument {
  std::vector<coder::Coding> codings;  // quotes verified
  std::size_t rejected_quotes = 0;
};

CodedDocument code_document(const coder::OfflineCoder& coder, const Document& document);
// The same, appended to `out`; returns how many codings were rejected.
std::size_t code_document(const coder::OfflineCoder& coder, const Document& document, std::vector<coder::Coding>& out);

// The same, written over pool[0, n) (see OfflineCoder::code_document_into), the accepted
// codings first; returns n, and adds how many were rejected to `rejected`.
std::size_t code_document_into(const coder::OfflineCoder& coder, const Document& document,
                               std::vector<coder::Coding>& pool, std::size_t& rejected);

// A coding's quote must be exactly the text at its span, and the span must lie inside the
// segment it names.
bool quote_matches(const coder::Coding& coding, const Segment& segment);

}  // namespace cqda::pipeline
