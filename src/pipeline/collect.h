// The supervisor's side of the document stage: it asks the reader process for the inputs
// (the whole scan, or files a user named), and takes each reply in input order: records it in
// the run log, codes the document, checks every quote and keeps the results for the export.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "coder/coding.h"
#include "coder/offline_coder.h"
#include "common/document.h"
#include "common/json.h"
#include "common/result.h"
#include "export/exporter.h"
#include "privsep/reader.h"

namespace cqda::pipeline {

// Appends one run-log record; false when the log could not be written.
using RecordFn = std::function<bool(std::string_view type, const Json& data)>;

// Time per stage, reported in the run log's timing record: wall time for the document
// stage and the export, thread time summed for anonymizing (in the reader) and coding.
struct Stages {
  std::chrono::steady_clock::duration documents{}, anonymize{}, code{}, exported{};
  Json to_json() const;
};

// Everything the document stage produces.
struct Corpus {
  std::vector<Document> documents;  // empty when they were coded and streamed to an export writer
  std::size_t document_count = 0;   // documents read, kept or streamed
  std::set<std::string> raw_documents;  // ids of documents the reader did not anonymize
  std::vector<coder::Coding> codings;  // quotes verified; empty when streamed
  std::size_t coding_count = 0;
  std::size_t rejected_quotes = 0;
  std::vector<exporter::SkippedInput> skipped;  // skipped or denied, with the reason
  std::vector<exporter::SkippedInput> refused;  // refused by the path policy during the scan
  std::map<std::string, std::size_t> anonymization_counts;
  exporter::CaseAttributes cases;  // by exported path
  std::uint64_t bytes = 0;
  double seconds = 0;  // wall time of the stage
};

struct CollectOptions {
  policy::Destination destination = policy::Destination::kExport;  // whose anonymization rules apply
  std::vector<std::string> files;  // empty: the whole scan
  unsigned window = 4;             // document requests in flight
  bool progress = false;
  // Case attributes (already anonymized) by the SHA-256 of the real path, which is how the
  // reader names inputs; the corpus gets them by exported path.
  std::map<std::string, std::map<std::string, std::string>> cases_by_path_sha256;
  // With a coder (required then): each coded document, with its codings, is added to this
  // writer and then dropped, so the corpus is never held whole. A failed export stops the
  // stage with the writer's error.
  exporter::ExportWriter* stream = nullptr;
};

// Errors are the reader's (it died or broke the protocol; it has been stopped) or the run
// log's; input problems are records and `skipped` entries, not errors.
// `coder` null: the documents are kept uncoded (cqda serve, and model runs, which code them
// afterwards). `coder` set: `options.stream` must be set too, and each coded document goes to
// it; the corpus then keeps counts, not documents or codings.
Result<Corpus> collect_documents(privsep::ReaderClient& reader, const coder::OfflineCoder* coder,
                                 const CollectOptions& options, const RecordFn& record, Stages& stages);

}  // namespace cqda::pipeline
