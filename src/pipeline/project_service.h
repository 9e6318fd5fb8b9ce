// The supervisor's side of `cqda serve`: the loaded (anonymized) corpus and the durable
// project state, answering the broker's data requests. The broker is ours but untrusted:
// every request is checked again here, whatever its tool's schema already checked, and
// every change to the project state is recorded in the session's run log.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "coder/offline_coder.h"
#include "common/document.h"
#include "common/json.h"
#include "common/result.h"
#include "llm/settings.h"
#include "pipeline/collect.h"
#include "pipeline/llm_coding.h"
#include "privsep/llm_caller.h"
#include "policy/policy.h"
#include "project/store.h"
#include "runlog/keys.h"
#include "server/data_source.h"

namespace cqda::pipeline {

struct ProjectServiceOptions {
  std::filesystem::path output;
  bool mcp_anonymized = true;     // the policy anonymizes text for MCP clients
  bool export_anonymized = true;  // ... and for exports
  const policy::Policy* policy = nullptr;
  std::optional<runlog::PublicKey> run_log_key;  // trusted when verifying run logs
  std::string run_id;
  std::string tool_version;
  // Coding with a model (auto_code): the settings and the LLM-caller processes started
  // before the session, the cache folder (<cache>/llm), and the documents the reader left
  // raw. Null settings: the offline coder.
  const llm::Settings* llm = nullptr;
  std::vector<std::unique_ptr<privsep::LlmCallerClient>>* llm_callers = nullptr;
  std::filesystem::path llm_cache;
  // Anonymizes the codebook's text for prompts, MCP and exports (the corpus's vault; saved
  // after each use). Without it the codebook leaves as the researcher wrote it.
  anonymize::Anonymizer* codebook_anonymizer = nullptr;
  anonymize::Vault* vault = nullptr;
  std::set<std::string> raw_documents;
};

class ProjectService {
 public:
  ProjectService(std::vector<Document> documents, std::unique_ptr<project::Store> store, ProjectServiceOptions options,
                 RecordFn record);
  ~ProjectService();

  // One request, {"op": ..., arguments...}, answered as it goes to the broker: JSON text
  // (json_text); a page of a document (read_document, for the document resources) in the
  // wire encoding (privsep::decode_page); and read_document's whole tool result
  // (read_document_result, {"op", "arguments"}), what the MCP clients ask for most, written
  // straight from the document after privsep::kResultReplyMark. Such an answer completes a
  // tool call, and `tool_call` is that call's run-log record (mcp_tool_call): the tool, the
  // hashes of its arguments and of the result, the result's bytes. An error is reported to
  // the tool as its failure.
  struct Answer {
    std::string text;
    std::optional<Json> tool_call;
  };
  Result<Answer> answer_text(const Json& request);

 private:
  Result<Json> answer(const Json& request);  // every operation but the two reads of a document
  const Document* document(const Json& request, std::string& error) const;
  Result<std::string> read_page(const Json& request) const;
  Result<Answer> read_document_result(const Json& request) const;
  Result<Json> search(const Json& request) const;
  Result<Json> latest_report() const;
  Result<Json> code_segment(const Json& request);
  Result<Json> auto_code_document(const Json& request);
  Result<Json> llm_code_document(const Document& document, bool dry_run);
  Result<std::size_t> store_codings(const Document& document, const std::vector<coder::Coding>& codings,
                                    bool rationale_as_memo = false);
  Result<Json> suggest_codes(const Json& request);
  // Runs the model over `documents` (llm_coding.h) under the session's budget.
  Result<LlmCodingResult> run_llm(const std::vector<Document>& documents, LlmTask task, bool dry_run,
                                         std::filesystem::path& preview_folder);
  Result<Json> export_project();
  // The current codebook as it may leave for `anonymized` destinations (cached per version).
  Result<const codebook::Codebook*> outgoing_codebook(bool anonymized);
  Result<Json> verify_run_logs(const Json& request) const;
  bool record_change();

  std::vector<Document> documents_;
  std::vector<server::DocumentSummary> summaries_;  // of documents_, in their order
  std::map<std::string, std::size_t, std::less<>> by_id_;
  std::unique_ptr<project::Store> store_;
  ProjectServiceOptions options_;
  RecordFn record_;
  std::optional<coder::OfflineCoder> coder_;  // for the codebook version below
  int coder_version_ = -1;
  std::uint64_t llm_tokens_charged_ = 0;  // against the policy's budget, for the whole session
  int previews_ = 0;
  std::optional<codebook::Codebook> anonymized_codebook_;
  int anonymized_codebook_version_ = -1;
};

// The project state's file under an output folder.
std::filesystem::path project_file(const std::filesystem::path& output);

}  // namespace cqda::pipeline
