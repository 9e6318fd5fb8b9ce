// Writes a run's outputs atomically under the export policy: report.md, documents/<id>.md,
// anonymized/<input path>, codings.json, codings.csv, codebook.json and manifest.json.
// JSON outputs are validated against their schemas before anything is moved into place; a
// failed validation writes nothing and the error names the file and the violated rule.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "codebook/codebook.h"
#include "coder/coding.h"
#include "common/document.h"
#include "common/result.h"
#include "export/staging.h"
#include "policy/policy.h"

namespace cqda::exporter {

// Case attributes by document path (from the researcher's case CSV).
using CaseAttributes = std::map<std::string, std::map<std::string, std::string>>;

// Parses a case-attribute CSV whose header has a `document` column (the input-relative
// path); every other column is an attribute.
Result<CaseAttributes> parse_case_attributes(std::string_view csv_text);

struct SkippedInput {
  std::string path;
  std::string reason;
};

struct ExportInput {
  const policy::Policy* policy = nullptr;
  const codebook::Codebook* codebook = nullptr;
  const std::vector<Document>* documents = nullptr;  // as they may leave: anonymized unless policy allows raw
  const std::vector<coder::Coding>* codings = nullptr;
  bool anonymized = true;                               // every text above passed the anonymizer
  std::map<std::string, std::size_t> anonymization_counts;  // entity type -> replacements
  std::vector<SkippedInput> skipped;                    // inputs that failed (with reasons)
  std::vector<SkippedInput> refused;                    // inputs the path policy refused
  CaseAttributes cases;
  // How the codings were made, one plain-text line each for the report's "Coding" section
  // (the coder, rejected quotes, why a model run stopped early); empty: no section.
  std::vector<std::string> coding_notes;
  std::string run_id;
  std::string generated_at;  // RFC 3339 UTC
  std::string tool_version;
};

// Renders every output into a staging folder, validates, and commits. Returns the files
// written with their hashes (for the run log). The same as an ExportWriter given every
// document and then every coding.
Result<std::vector<ExportedFile>> write_exports(const std::filesystem::path& output_dir, const ExportInput& input);

class ReportTally;

// The same outputs written while the documents are still coming: each document's files are
// written when it is added, its codings are appended to codings.json and codings.csv and
// counted for the report, and nothing needs the whole corpus in memory. Whatever fails leaves
// the output folder as it was (the staging folder goes with the writer); after a failure every
// call returns that failure.
class ExportWriter {
 public:
  // Checks the export policy and opens the staging folder. Of `header`, only the policy,
  // codebook, anonymized, run_id, generated_at and tool_version are used (and must not change).
  static Result<ExportWriter> begin(const std::filesystem::path& output_dir, const ExportInput& header);
  ExportWriter(ExportWriter&&) noexcept;
  ExportWriter& operator=(ExportWriter&&) noexcept;
  ~ExportWriter();

  // documents/<id>.md and anonymized/<path>; `codings` are the document's own, in any order.
  Status add_document(const Document& document, const std::vector<const coder::Coding*>& codings);
  // Appended to codings.json and codings.csv in this order. Every coding of a document must
  // come in one call, after its document (the report counts documents and segments per call).
  Status add_codings(std::span<const coder::Coding> codings);
  // report.md, the end of codings.json, codebook.json and the manifest; validates and commits.
  // Of `summary`, the anonymization counts, skipped, refused, cases and coding notes are used.
  // `before_commit`, when given, runs once everything is written and validated; if it fails,
  // nothing is committed and finish returns its error.
  Result<std::vector<ExportedFile>> finish(const ExportInput& summary,
                                           const std::function<Status()>& before_commit = {});
  // Success, or the first failure.
  const Status& status() const;

 private:
  friend Result<std::vector<ExportedFile>> write_exports(const std::filesystem::path&, const ExportInput&);
  ExportWriter();
  struct State;
  std::unique_ptr<State> state_;
};

// Individual renderers, exposed for tests and for the MCP export tool.
std::string render_report(const ExportInput& input);
// `codings` are the document's own, in any order.
std::string render_document_markdown(const Document& document, const std::vector<const coder::Coding*>& codings,
                                     const codebook::Codebook& codebook);

// The path under anonymized/ for a document: text formats keep their name; others get
// ".txt" appended ("interviews/p07.docx" -> "interviews/p07.docx.txt").
std::string anonymized_text_path(const Document& document);

}  // namespace cqda::exporter
