#include "pipeline/run.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <future>
#include <ctime>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "anonymize/anonymizer.h"
#include "codebook/codebook.h"
#include "coder/offline_coder.h"
#include "common/hash.h"
#include "export/exporter.h"
#include "ingest/input_root.h"
#include "pipeline/codebook_text.h"
#include "pipeline/collect.h"
#include "pipeline/config.h"
#include "pipeline/exit_codes.h"
#include "pipeline/llm_coding.h"
#include "pipeline/reader_session.h"
#include "privsep/llm_caller.h"
#include "privsep/reader.h"
#include "policy/policy.h"
#include "runlog/record.h"
#include "runlog/writer.h"

#ifndef CQDA_VERSION
#define CQDA_VERSION "0.0.0"
#endif

namespace cqda::pipeline {
namespace fs = std::filesystem;
namespace {


Json counts_json(const std::map<std::string, std::size_t>& counts) {
  Json out = Json::object();
  for (const auto& [k, v] : counts) out[k] = v;
  return out;
}

// A process that exits right after the run need not free its corpus: the kernel drops the
// address space at once, while freeing hundreds of thousands of codings and segments one by
// one took a third of a second on the bench corpus. Only the corpus is left (anonymized text
// and codings); keys and the vault are wiped and freed as always. The object stays reachable
// from a list that is never destroyed, so leak checkers do not report it.
void leave_to_exit(Corpus&& corpus) {
  static auto* const kept = new std::vector<std::unique_ptr<Corpus>>();
  kept->push_back(std::make_unique<Corpus>(std::move(corpus)));
}

}  // namespace

std::string tool_version() { return CQDA_VERSION; }

bool malloc_huge_pages() {
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  return tunables && std::string_view(tunables).find("glibc.malloc.hugetlb=1") != std::string_view::npos;
}

int run(const RunOptions& o, std::FILE* out, std::FILE* err) {
  auto fail = [&](int code, const std::string& message) {
    std::fprintf(err, "cqda run: %s\n", message.c_str());
    return code;
  };

  // 1. Configuration, checked in full before any input is touched.
  auto config_result = load_config(o);
  if (!config_result) return fail(kExitUsage, config_result.error().message);
  Config& config = *config_result;
  if (auto folders = check_folders(o)) return fail(folders->exit_code, folders->message);
  // The coder. A model endpoint must pass the egress checks that need no document now,
  // before anything is read.
  auto llm_setup = prepare_llm(o.llm, o.llm_backend_from_flag, config.policy);
  if (!llm_setup) return fail(kExitUsage, llm_setup.error().message);
  const llm::Settings& llm_settings = llm_setup->settings;
  const bool use_llm = llm_setup->enabled();
  if (o.dry_run && !use_llm) return fail(kExitUsage, "--dry-run previews what a model would get: choose --llm-backend openai or ollama");

  // 2. The run log: every later step is recorded, failures included.
  const std::string run_id = runlog::new_run_id(std::chrono::system_clock::now());
  fs::path log_path;
  auto log_result = open_run_log(o, config, run_id, log_path);
  if (!log_result) return fail(kExitOutput, log_result.error().message);
  runlog::RunLogWriter& log = *log_result;
  auto record = [&](std::string_view type, const Json& data) -> bool {
    if (auto st = log.append(type, data); !st) {
      std::fprintf(err, "cqda run: writing the run log failed: %s\n", st.error().message.c_str());
      return false;
    }
    return true;
  };
  auto finish = [&](int code, const std::string& outcome) {
    record("run_end", {{"exit_code", code}, {"outcome", outcome}});
    if (auto st = log.seal(); !st) {
      std::fprintf(err, "cqda run: sealing the run log failed: %s\n", st.error().message.c_str());
      return code == kExitOk ? static_cast<int>(kExitOutput) : code;
    }
    return code;
  };
  if (!record("run_start", {{"tool", "cqda"},
                            {"tool_version", tool_version()},
                            {"command", "run"},
                            {"backend", llm::backend_name(llm_settings.backend)},
                            {"model", use_llm ? Json(llm_settings.model) : Json(nullptr)},
                            {"endpoint", use_llm ? Json(llm_settings.endpoint_url()) : Json(nullptr)},
                            {"dry_run", o.dry_run},
                            {"policy_sha256", config.policy.sha256},
                            {"codebook_sha256", config.codebook.sha256},
                            {"codebook_version", config.codebook.version},
                            {"roster_sha256", config.roster_sha256},
                            {"signed", config.signing_key.has_value()}}))
    return kExitOutput;

  // The LLM callers, forked now: before the vault is opened (they never hold the map that
  // re-identifies) and while the supervisor has no threads. A dry run sends nothing.
  std::vector<std::unique_ptr<privsep::LlmCallerClient>> callers;
  if (use_llm && !o.dry_run) {
    auto started = start_llm_callers(config, *llm_setup, record);
    if (!started) return finish(fail(kExitInternal, started.error().message), "llm-caller");
    callers = std::move(started).value();
  }

  // 3. The pseudonym vault and the anonymizer. The reader process inherits both at fork
  //    and hands the vault back sealed; case attributes (configuration the supervisor read
  //    itself) are anonymized here, before the fork, so the reader's vault holds them too.
  auto anonymization = open_anonymization(config, o);
  if (!anonymization) return finish(fail(kExitUsage, anonymization.error().message), "anonymization");
  anonymize::Anonymizer& anonymizer = *anonymization->anonymizer;
  const auto& anon_policy = config.policy.anonymization;
  const bool anonymize_exports = anon_policy.apply_to.count(policy::Destination::kExport) > 0;
  // Keyed by the hash of the real path: the supervisor learns exported paths from the scan.
  std::map<std::string, std::map<std::string, std::string>> cases_by_path_sha256;
  for (const auto& [path, attributes] : config.cases) {
    auto& out_attributes = cases_by_path_sha256[sha256_hex(path)];
    for (const auto& [key, value] : attributes)
      out_attributes[key] = anonymize_exports ? anonymizer.anonymize(value).text : value;
  }
  auto coder = coder::OfflineCoder::create(config.codebook);
  if (!coder) return finish(fail(kExitUsage, coder.error().message), "coder");
  // A run of the offline coder streams its exports (below). The codebook's text leaves
  // anonymized (a definition or an example may quote a participant), and its names must get
  // the pseudonyms the documents use: it is anonymized here, before the fork, like the case
  // attributes, so the reader's vault holds its pseudonyms too. A model run anonymizes it
  // after the documents, with the vault the reader returns (step 7).
  std::optional<codebook::Codebook> exported_codebook;
  if (!use_llm && anonymize_exports) {
    std::map<std::string, std::size_t> counts;
    exported_codebook = anonymize_codebook(config.codebook, anonymizer, counts);
  }
  const std::string generated_at = utc_now();
  exporter::ExportInput export_header;
  export_header.policy = &config.policy;
  export_header.codebook = exported_codebook ? &*exported_codebook : &config.codebook;
  export_header.anonymized = anonymize_exports;
  export_header.run_id = run_id;
  export_header.generated_at = generated_at;
  export_header.tool_version = tool_version();

  // 4. The reader: the only process that opens the input. It gets the input root's fd and
  //    nothing else, locks itself down, and from then on answers over its channel.
  auto root = ingest::InputRoot::open(o.input.string());
  if (!root) return finish(fail(kExitUsage, root.error().message), "input root");
  const unsigned threads = reader_threads();
  auto reader = start_reader(config, *anonymization, std::move(root).value(), threads);
  if (!reader) return finish(fail(kExitInternal, reader.error().message), "reader");
  if (!record("sandbox", {{"process", "reader"}, {"pid", (*reader)->pid()}, {"lockdown", (*reader)->lockdown_report()}}))
    return finish(kExitOutput, "run log");
  if ((*reader)->lockdown_report().find("landlock not available") != std::string::npos)
    std::fprintf(err, "cqda run: warning: this kernel has no Landlock; the reader is confined by seccomp and openat2 only\n");
  auto reader_failed = [&](const Error& e) {
    record("process_failed", {{"process", "reader"}, {"error", e.message}});
    return finish(fail(kExitInternal, e.message), "reader failed");
  };
  auto export_failed = [&](const Error& e) {
    record("export_failed", {{"error", e.message}});
    return finish(fail(kExitOutput, e.message), "export failed");
  };
  // The offline coder's exports are written while the documents come: each coded document's
  // files and codings go to the staging folder and are dropped, so memory stays flat however
  // large the corpus. Begun after the reader is forked: the reader holds no file of it.
  std::optional<exporter::ExportWriter> writer;
  if (!use_llm) {
    auto begun = exporter::ExportWriter::begin(o.output, export_header);
    if (!begun) return export_failed(begun.error());
    writer.emplace(std::move(begun).value());
  }

  // 5. The documents: from the reader in input order, each recorded, coded and quote-checked.
  CollectOptions collect;
  collect.files = o.files;
  collect.window = 2 * threads + 2;
  collect.progress = o.progress;
  collect.cases_by_path_sha256 = std::move(cases_by_path_sha256);
  // Text for a model is anonymized under the llm destination's rules; the exports then carry
  // that same text (anonymized when either destination asks for it).
  if (use_llm && anon_policy.apply_to.count(policy::Destination::kLlm)) collect.destination = policy::Destination::kLlm;
  collect.stream = writer ? &*writer : nullptr;
  Stages stages;
  auto collected = collect_documents(**reader, use_llm ? nullptr : &*coder, collect, record, stages);
  if (!collected) {
    // The export's own error, or else the reader's (a failed export stops the stage with the
    // writer's error; the reader's failure can come first and the export fail while draining).
    const bool export_stopped = writer && !writer->status() && writer->status().error().message == collected.error().message;
    return export_stopped ? export_failed(collected.error()) : reader_failed(collected.error());
  }
  Corpus& corpus = *collected;
  record("anonymization", {{"applied", anonymize_exports}, {"counts", counts_json(corpus.anonymization_counts)}});

  // 6. The reader's vault now holds every pseudonym it issued; it comes back sealed, is checked
  // by decrypting it, and is written here. Then the reader must exit cleanly. A streamed run
  // does all of that on a second thread while it finishes its exports (the vault's fsync and
  // the outputs' sync both wait on the disk); the outputs are committed only once the reader
  // has ended cleanly and the vault is saved. A model run needs the vault now.
  auto vault_failed = [&](const Status& st) {
    return finish(fail(kExitOutput, "cannot save the pseudonym vault: " + st.error().message), "vault save");
  };
  std::optional<Result<anonymize::Vault>> reader_vault;
  std::optional<Error> reader_error;  // the take-back's failure: the reader's, not the vault file's
  std::future<Status> vault_saved;
  auto take_back_and_save = [&]() -> Status {
    reader_vault.emplace(take_back_vault(**reader, *anonymization));
    if (!*reader_vault) {
      reader_error = reader_vault->error();
      return reader_vault->error();
    }
    return (*reader_vault)->save();
  };
  if (writer) {
    vault_saved = std::async(std::launch::async, take_back_and_save);
  } else if (Status st = take_back_and_save(); !st) {
    return reader_error ? reader_failed(*reader_error) : vault_failed(st);
  }
  // The codebook's text leaves anonymized too (a definition or an example may quote a
  // participant): for the prompts and for the exports of a model run, with the corpus's vault,
  // so names get the pseudonyms the segments use.
  std::optional<anonymize::Anonymizer> codebook_anonymizer;
  if (use_llm)
    codebook_anonymizer.emplace(anon_policy, config.roster,
                                anon_policy.names.gazetteer ? anonymize::Gazetteer::bundled() : anonymize::Gazetteer(),
                                **reader_vault);
  std::vector<std::string> coding_notes;
  std::string stopped;
  if (use_llm) {
    LlmCodingOptions llm_options;
    llm_options.policy = &config.policy;
    llm_options.codebook = &config.codebook;
    llm_options.codebook_anonymizer = &*codebook_anonymizer;
    llm_options.settings = &llm_settings;
    llm_options.cache_folder = o.cache / "llm";
    llm_options.preview_folder = o.output / "llm-preview" / run_id;
    llm_options.dry_run = o.dry_run;
    std::vector<std::unique_ptr<privsep::LlmCallerClient>> no_callers;
    if (o.dry_run) no_callers.push_back(nullptr);  // a dry run sends nothing: no process is needed
    const auto code_start = std::chrono::steady_clock::now();
    auto coded = code_with_llm(corpus.documents, corpus.raw_documents, o.dry_run ? no_callers : callers, llm_options, record);
    stages.code = std::chrono::steady_clock::now() - code_start;
    if ((*reader_vault)->modified())
      if (auto st = (*reader_vault)->save(); !st)
        return finish(fail(kExitOutput, "cannot save the pseudonym vault: " + st.error().message), "vault save");
    for (auto& caller : callers)
      if (auto st = caller->finish(); !st) record("process_failed", {{"process", "llm-caller"}, {"error", st.error().message}});
    if (!coded) {
      record("llm_refused", {{"error", coded.error().message}});
      return finish(fail(kExitUsage, coded.error().message), "llm refused");
    }
    record("llm_coding", coded->summary());
    if (o.dry_run) {
      std::fprintf(out, "cqda run %s (dry run): %zu documents, %zu requests written to %s, nothing sent\n", run_id.c_str(),
                   corpus.documents.size(), coded->previews, llm_options.preview_folder.c_str());
      if (coded->cache_hits)
        std::fprintf(out, "  %zu more batches would be answered from the cache\n", coded->cache_hits);
      return finish(kExitOk, "dry run");
    }
    corpus.codings = std::move(coded->codings);
    corpus.rejected_quotes = coded->rejected_quotes;
    coding_notes = coded->report_lines(llm_settings);
    stopped = coded->stopped;
    if (stopped.empty() && coded->batches_failed)
      stopped = std::to_string(coded->batches_failed) + " of " + std::to_string(coded->batches) +
                " batches got no usable answer (invalid JSON or schema after retries; see llm_batch_failed in the run log)";
  }
  const std::size_t codings = use_llm ? corpus.codings.size() : corpus.coding_count;
  record("coding", {{"coder", use_llm ? llm_settings.coder_name() : std::string(coder::kOfflineCoderName)},
                    {"codings", codings},
                    {"rejected_quotes", corpus.rejected_quotes},
                    {"codebook_version", config.codebook.version}});

  // 7. Export atomically (finish what was streamed), then record each file's hash.
  exporter::ExportInput input = export_header;
  if (use_llm && anonymize_exports) {
    std::map<std::string, std::size_t> counts;
    exported_codebook = anonymize_codebook(config.codebook, *codebook_anonymizer, counts);
    if ((*reader_vault)->modified())
      if (auto st = (*reader_vault)->save(); !st)
        return finish(fail(kExitOutput, "cannot save the pseudonym vault: " + st.error().message), "vault save");
  }
  input.codebook = exported_codebook ? &*exported_codebook : &config.codebook;
  input.documents = &corpus.documents;
  input.codings = &corpus.codings;
  input.anonymized = use_llm ? corpus.raw_documents.empty() : anonymize_exports;
  input.coding_notes = std::move(coding_notes);
  input.anonymization_counts = corpus.anonymization_counts;
  input.skipped = corpus.skipped;
  input.refused = corpus.refused;
  input.cases = std::move(corpus.cases);
  auto export_start = std::chrono::steady_clock::now();
  if (use_llm) input.generated_at = utc_now();  // a model run's codings can take hours
  Status vault = Status::success();
  auto exported = writer ? writer->finish(input, [&] { return vault = vault_saved.get(); })
                         : exporter::write_exports(o.output, input);
  stages.exported = std::chrono::steady_clock::now() - export_start;
  if (vault_saved.valid()) vault = vault_saved.get();  // the export failed before it waited
  if (reader_error) return reader_failed(*reader_error);
  if (!vault) return vault_failed(vault);
  if (!exported) return export_failed(exported.error());
  // One record per file (a thousand on the bench corpus), written together rather than with
  // a write(2) each; a failure to write them is reported like any record's.
  if (auto st = log.hold(true); !st) std::fprintf(err, "cqda run: writing the run log failed: %s\n", st.error().message.c_str());
  for (const auto& f : *exported) record("export", {{"path", f.path}, {"bytes", f.bytes}, {"sha256", f.sha256}});
  if (auto st = log.hold(false); !st) std::fprintf(err, "cqda run: writing the run log failed: %s\n", st.error().message.c_str());
  if (!input.anonymized) record("raw_text_exported", {{"files", exported->size()}});

  // 8. Summary.
  int code = !stopped.empty() ? kExitCodingIncomplete : corpus.skipped.empty() ? kExitOk : kExitInputsSkipped;
  double seconds = corpus.seconds;
  const fs::path report = o.output / "report.md";
  std::fprintf(out, "cqda run %s: %zu documents (%.1f MB) in %.2f s, %zu codings",
               run_id.c_str(), corpus.document_count, static_cast<double>(corpus.bytes) / 1e6, seconds, codings);
  std::size_t replaced = 0;
  for (const auto& [type, n] : corpus.anonymization_counts) replaced += n;
  std::fprintf(out, ", %zu values anonymized\n", replaced);
  if (!corpus.refused.empty())
    std::fprintf(out, "  %zu files refused by the path policy (listed in the report and the run log)\n", corpus.refused.size());
  for (const auto& s : corpus.skipped) std::fprintf(out, "  skipped %s\n", s.reason.c_str());
  if (corpus.rejected_quotes)
    std::fprintf(out, "  %zu codings rejected: quote not found verbatim in the text\n", corpus.rejected_quotes);
  if (!stopped.empty())
    std::fprintf(out, "  coding stopped early (exit code %d): %s\n  the codings made so far are in the outputs; run again to resume\n",
                 kExitCodingIncomplete, stopped.c_str());
  std::fprintf(out, "  report:  %s\n  run log: %s (%s)\n", report.c_str(), log_path.c_str(),
               config.signing_key ? "signed" : "unsigned: pass --signing-key to sign it");
  if (!corpus.skipped.empty())
    std::fprintf(out, "  %zu input files could not be processed (exit code %d); fix or remove them and run again\n",
                 corpus.skipped.size(), kExitInputsSkipped);
  record("timing", {{"seconds", stages.to_json()}, {"input_bytes", corpus.bytes}, {"malloc_huge_pages", malloc_huge_pages()}});
  code = finish(code, code == kExitOk ? "ok" : code == kExitCodingIncomplete ? "coding incomplete" : "inputs skipped");
  if (o.leave_memory_to_exit) leave_to_exit(std::move(corpus));
  return code;
}

}  // namespace cqda::pipeline
