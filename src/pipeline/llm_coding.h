// The supervisor's side of coding with a model (DESIGN.md §4–§6). Everything that decides
// whether a byte may leave happens here, before the LLM caller is asked to connect:
//
//   1. the endpoint is on the policy's allow-list (the caller's connection is checked again);
//   2. the text is what the reader anonymized for the `llm` destination under a policy whose
//      anonymization is complete, or the policy says allow_raw_text;
//   3. the request fits in what is left of the run's token budget (estimated before sending,
//      counted from the response's usage after).
//
// Requests go out through a pool of LLM-caller processes (one request in flight each), with
// retries on 429, 5xx, timeouts and dropped connections (exponential backoff with jitter,
// Retry-After honoured), and stop the run cleanly on 401/403, a redirect, a refused
// connection or certificate, or an exhausted budget: the codings made so far are kept and the
// reason goes to the report and the run log. Answers that pass the schema are cached by
// request; a rerun finds them and sends nothing. A dry run writes each request body that
// would be sent to the preview folder and sends nothing.
#pragma once

#include <cstdio>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "anonymize/anonymizer.h"
#include "codebook/codebook.h"
#include "coder/coding.h"
#include "common/document.h"
#include "common/result.h"
#include "llm/coding_prompt.h"
#include "llm/settings.h"
#include "llm/transport.h"
#include "pipeline/collect.h"
#include "pipeline/config.h"
#include "policy/policy.h"
#include "privsep/llm_caller.h"

namespace cqda::pipeline {

// Why text anonymized for `llm` under this policy is not fully anonymized (`llm` missing
// from apply_to, a detector off, an action `keep`); empty when it is.
std::vector<std::string> llm_anonymization_gaps(const policy::Policy& policy);

// The checks that need no document: a backend and endpoint on the allow-list, a budget, and
// anonymization complete or raw egress allowed. The error says what to change.
Status check_llm_egress(const policy::Policy& policy, const llm::Settings& settings);

enum class LlmTask {
  kCode,     // deductive: codings against the codebook
  kSuggest,  // inductive: proposals for new codes (llm::SuggestedCode), never applied
};

// The model side of a `cqda run` or `cqda serve`, set up in the supervisor before anything is
// read: the settings completed from the environment and secrets, the egress checks that need
// no document passed, the trust anchors loaded (while files can still be opened).
struct LlmSetup {
  llm::Settings settings;
  std::shared_ptr<llm::ClientTls> tls;  // null for the offline coder
  bool enabled() const { return settings.backend != llm::Backend::kOffline; }
};
Result<LlmSetup> prepare_llm(const llm::Settings& given, bool backend_from_flag, const policy::Policy& policy);

// Forks `settings.in_flight` LLM callers. Call it while the supervisor is single-threaded and
// before the pseudonym vault is opened: each caller drops the signing key, the roster and the
// case attributes (freed, not overwritten) before it locks down. The first one's lockdown is
// recorded (`sandbox`).
Result<std::vector<std::unique_ptr<privsep::LlmCallerClient>>> start_llm_callers(Config& config, const LlmSetup& setup,
                                                                                const RecordFn& record);

struct LlmCodingOptions {
  LlmTask task = LlmTask::kCode;
  const policy::Policy* policy = nullptr;
  const codebook::Codebook* codebook = nullptr;
  // Anonymizes the codebook's text for the prompt when the policy anonymizes the llm
  // destination (required then); its vault is the corpus's, so names get their pseudonyms.
  anonymize::Anonymizer* codebook_anonymizer = nullptr;
  const llm::Settings* settings = nullptr;
  std::filesystem::path cache_folder;    // <cache>/llm
  std::filesystem::path preview_folder;  // <output>/llm-preview/<run id>, for a dry run
  bool dry_run = false;
  // Tokens already charged against egress.token_budget in this run (cqda serve codes in
  // several calls under one budget); the result says what is charged after this call.
  std::uint64_t tokens_charged_before = 0;
};

struct LlmCodingResult {
  std::vector<coder::Coding> codings;  // quotes verified, in batch order
  std::size_t rejected_quotes = 0;
  std::size_t proposed = 0;             // codings the model proposed
  std::vector<std::string> rejected_examples;
  std::vector<llm::SuggestedCode> suggestions;  // kSuggest: proposals with verified quotes
  std::size_t batches = 0, batches_coded = 0, batches_failed = 0;
  std::size_t segments = 0;
  std::size_t requests = 0, cache_hits = 0, retries = 0, invalid_answers = 0;
  std::uint64_t tokens_in = 0, tokens_out = 0, characters_sent = 0;
  std::size_t previews = 0;   // dry run: request bodies written
  std::uint64_t tokens_charged = 0;  // against the budget, this call and the ones before
  std::string stopped;        // why coding stopped before every batch was coded; "" if it did not
  Json summary() const;       // for the run log
  std::vector<std::string> report_lines(const llm::Settings& settings) const;
};

// `callers` were started before any thread (fork in a single-threaded supervisor). `record`
// is called from several threads and must serialise itself. `raw_documents`: ids of
// documents the reader returned un-anonymized (refused unless raw egress is allowed).
Result<LlmCodingResult> code_with_llm(const std::vector<Document>& documents, const std::set<std::string>& raw_documents,
                                      std::vector<std::unique_ptr<privsep::LlmCallerClient>>& callers,
                                      const LlmCodingOptions& options, const RecordFn& record);

}  // namespace cqda::pipeline
