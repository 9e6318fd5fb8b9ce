// Per-document work of a run: read, parse and segment, anonymize, code, and check every
// quote. Documents are independent, so they are processed on worker threads; results are
// handed back in input order on the calling thread, which alone writes the run log.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "anonymize/anonymizer.h"
#include "coder/offline_coder.h"
#include "common/document.h"
#include "ingest/input_root.h"
#include "policy/policy.h"

namespace cqda::pipeline {

struct DocumentJob {
  std::string real_path;  // relative to the input root; never leaves the process
  std::string path;       // the form that may leave (pseudonymized when exports are anonymized)
  std::string id;         // the document id, unique in the run
};

struct DocumentResult {
  std::optional<Document> document;  // empty when the input was skipped
  std::string error;                 // why it was skipped; names `path`, never `real_path`
  std::string raw_sha256;            // "" when the file could not be read
  std::uint64_t raw_bytes = 0;
  std::map<std::string, std::size_t> anonymization_counts;
  std::vector<coder::Coding> codings;  // quotes verified
  std::size_t rejected_quotes = 0;
  std::chrono::steady_clock::duration anonymize_time{}, code_time{};
};

struct DocumentContext {
  const ingest::InputRoot* root = nullptr;
  const policy::PathPolicy* paths = nullptr;
  anonymize::Anonymizer* anonymizer = nullptr;  // null when exports are not anonymized
  const coder::OfflineCoder* coder = nullptr;
};

DocumentResult process_document(const DocumentContext& context, const DocumentJob& job);

// Runs process_document for every job on `threads` workers (1 = inline) and calls `consume`
// with each result in job order, on the calling thread. An exception in a worker is
// rethrown here.
void process_documents(const DocumentContext& context, const std::vector<DocumentJob>& jobs, unsigned threads,
                       const std::function<void(const DocumentJob&, DocumentResult&&)>& consume);

// A coding's quote must be exactly the text at its span, and the span must lie inside the
// segment it names.
bool quote_matches(const coder::Coding& coding, const Segment& segment);

}  // namespace cqda::pipeline
