#include "pipeline/llm_coding.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>

#include "common/files.h"
#include "egress/egress.h"
#include "llm/cache.h"
#include "llm/coding_prompt.h"
#include "llm/transport.h"
#include "pipeline/codebook_text.h"

namespace cqda::pipeline {
namespace {

using Clock = std::chrono::steady_clock;

// The message of an endpoint's error body when it has the usual {"error": {"message"}} shape
// (": model not found"), made printable; nothing else of the body is repeated.
std::string error_message(std::string_view body) {
  auto j = parse_json(body, "error body", JsonLimits{64u << 10, 8, false});
  if (!j || !j->is_object()) return "";
  auto error = j->find("error");
  if (error == j->end()) return "";
  if (error->is_string()) return ": " + llm::printable(error->get<std::string>(), 160);
  if (error->is_object()) {
    auto message = error->find("message");
    if (message != error->end() && message->is_string()) return ": " + llm::printable(message->get<std::string>(), 160);
  }
  return "";
}

// Whether a 400's error message says the JSON Schema response format is what it refuses.
bool rejects_response_format(std::string_view body) {
  const std::string message = error_message(body);
  for (const char* word : {"response_format", "json_schema", "structured output", "format"})
    if (message.find(word) != std::string::npos) return true;
  return false;
}

// Retry-After as delay-seconds (RFC 9110 §10.2.3); an HTTP date is not trusted to a clock
// and counts as "unknown".
std::optional<std::uint32_t> retry_after_seconds(std::string_view value) {
  if (value.empty() || value.size() > 9) return std::nullopt;
  std::uint32_t seconds = 0;
  for (char c : value) {
    if (c < '0' || c > '9') return std::nullopt;
    seconds = seconds * 10 + static_cast<std::uint32_t>(c - '0');
  }
  return seconds;
}

enum class BatchState { kNotRun, kCoded, kFailed, kPreviewed };

struct BatchOutcome {
  BatchState state = BatchState::kNotRun;
  llm::VerifiedCodings verified;
  llm::VerifiedSuggestions suggestions;
  std::size_t proposed = 0;
  bool cache_hit = false;
};

// Shared by the worker threads.
class Run {
 public:
  Run(const std::vector<llm::Batch>& batches, const LlmCodingOptions& o, const RecordFn& record)
      : batches_(batches), o_(o), record_(record), cache_(o.cache_folder), outcomes_(batches.size()),
        url_(o.settings->endpoint_url()), tokens_committed_(o.tokens_charged_before) {}

  // `caller` is null in a dry run, which sends nothing.
  void work(privsep::LlmCallerClient* caller, unsigned worker) {
    std::mt19937_64 jitter(std::random_device{}() ^ (static_cast<std::uint64_t>(worker) << 32));
    for (;;) {
      if (stopping()) return;
      const std::size_t i = next_.fetch_add(1);
      if (i >= batches_.size()) return;
      code_batch(caller, batches_[i], outcomes_[i], jitter);
    }
  }

  void stop(std::string reason) {
    std::lock_guard lock(mutex_);
    if (stopped_.empty()) stopped_ = std::move(reason);
    stop_flag_ = true;
    wake_.notify_all();
  }

  LlmCodingResult result() {
    LlmCodingResult r;
    r.batches = batches_.size();
    for (const auto& b : batches_) r.segments += b.items.size();
    for (auto& o : outcomes_) {
      if (o.state == BatchState::kCoded) ++r.batches_coded;
      if (o.state == BatchState::kFailed) ++r.batches_failed;
      if (o.state == BatchState::kPreviewed) ++r.previews;
      if (o.cache_hit) ++r.cache_hits;
      r.proposed += o.proposed;
      r.rejected_quotes += o.verified.rejected;
      for (auto& e : o.verified.rejected_examples)
        if (r.rejected_examples.size() < 5) r.rejected_examples.push_back(std::move(e));
      std::move(o.verified.codings.begin(), o.verified.codings.end(), std::back_inserter(r.codings));
      std::move(o.suggestions.proposals.begin(), o.suggestions.proposals.end(), std::back_inserter(r.suggestions));
    }
    r.requests = requests_;
    r.retries = retries_;
    r.invalid_answers = invalid_answers_;
    r.tokens_in = tokens_in_;
    r.tokens_out = tokens_out_;
    r.characters_sent = characters_sent_;
    r.stopped = stopped_;
    r.tokens_charged = tokens_committed_;
    return r;
  }

 private:
  bool stopping() const { return stop_flag_.load(); }

  bool log(std::string_view type, const Json& data) {
    bool written;
    {
      std::lock_guard lock(log_mutex_);
      written = record_(type, data);
    }
    // Nothing goes on unrecorded.
    if (!written) stop("the run log could not be written");
    return written;
  }

  // Sleeps, or returns early when the run stops.
  void pause(std::chrono::milliseconds delay) {
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, delay, [&] { return stop_flag_.load(); });
  }

  // Reserves a request's estimated tokens (prompt and answer allowance); false when the budget cannot cover them.
  bool reserve(std::uint64_t estimate) {
    std::lock_guard lock(mutex_);
    const std::uint64_t budget = o_.policy->egress.token_budget;
    if (tokens_committed_ > budget || estimate > budget - tokens_committed_) return false;
    tokens_committed_ += estimate;
    return true;
  }
  void settle(std::uint64_t estimate, std::uint64_t used) {
    std::lock_guard lock(mutex_);
    tokens_committed_ = tokens_committed_ - estimate + used;
  }

  Json request_record(const llm::Batch& batch, const llm::ChatRequest& request, std::string_view cache, unsigned attempt) const {
    return {{"task", o_.task == LlmTask::kSuggest ? "suggest_codes" : "code"},
            {"batch", batch.index},
            {"segments", batch.items.size()},
            {"attempt", attempt},
            {"endpoint", url_},
            {"backend", llm::backend_name(o_.settings->backend)},
            {"model", o_.settings->model},
            {"prompt_hash", request.prompt_hash},
            {"cache_key", request.cache_key},
            {"cache", cache}};
  }

  // Answer -> verified codings; false when the answer is not usable (nothing is applied).
  bool accept(const llm::Batch& batch, const llm::ChatRequest& request, const std::string& content,
              BatchOutcome& outcome, std::string& why) {
    if (o_.task == LlmTask::kSuggest) {
      auto suggestions = llm::parse_suggestions(content, request, batch);
      if (!suggestions) {
        why = suggestions.error().message;
        return false;
      }
      outcome.proposed = suggestions->proposed;
      outcome.verified.rejected = suggestions->rejected_quotes;
      outcome.suggestions = std::move(suggestions).value();
      outcome.state = BatchState::kCoded;
      return true;
    }
    auto proposals = llm::parse_answer(content, request.schema);
    if (!proposals) {
      why = proposals.error().message;
      return false;
    }
    outcome.proposed = proposals->size();
    outcome.verified = llm::verify_codings(*proposals, batch, *o_.codebook, *o_.settings, request);
    outcome.state = BatchState::kCoded;
    return true;
  }

  void code_batch(privsep::LlmCallerClient* caller, const llm::Batch& batch, BatchOutcome& outcome, std::mt19937_64& jitter) {
    // Structured outputs until the endpoint has refused them once in this run.
    llm::Settings s = *o_.settings;
    s.structured_outputs = s.structured_outputs && structured_.load();
    llm::ChatRequest request = o_.task == LlmTask::kSuggest ? llm::build_suggestion_request(s, *o_.codebook, batch)
                                                            : llm::build_coding_request(s, *o_.codebook, batch);

    if (auto cached = cache_.find(request.cache_key)) {
      std::string why;
      if (accept(batch, request, cached->content, outcome, why)) {
        outcome.cache_hit = true;
        Json r = request_record(batch, request, "hit", 0);
        r["tokens_in"] = 0;
        r["tokens_out"] = 0;
        r["characters_sent"] = 0;
        r["codings"] = outcome.verified.codings.size();
        r["rejected_quotes"] = outcome.verified.rejected;
        if (o_.task == LlmTask::kSuggest) r["proposals"] = outcome.suggestions.proposals.size();
        log("llm_request", r);
        return;
      }
      // A cache entry that no longer passes is ignored and the request sent again.
    }

    if (o_.dry_run) {
      char name[32];
      std::snprintf(name, sizeof name, "request-%05zu.json", batch.index + 1);
      if (auto st = write_file_atomic(o_.preview_folder / name, request.body, 0600); !st) {
        stop("cannot write the preview: " + st.error().message);
        return;
      }
      outcome.state = BatchState::kPreviewed;
      std::lock_guard lock(mutex_);
      preview_tokens_ += request.estimated_prompt_tokens;
      return;
    }

    if (caller == nullptr) {
      stop("no llm-caller process to send with");
      return;
    }
    if (!reserve(request.estimated_tokens)) {
      stop("the token budget of " + std::to_string(o_.policy->egress.token_budget) +
           " tokens (egress.token_budget) is used up");
      return;
    }
    std::string http = llm::make_post_request(url_, request.body, s.api_key, s.key_header.value_or(llm::KeyHeader::kBearer));
    unsigned invalid = 0;
    // One estimate is reserved at the top of every attempt; each attempt settles it with what
    // it cost: the reported usage, or the estimated prompt when the request went out without
    // a usable answer (a provider may bill those too).
    for (unsigned attempt = 1;; ++attempt) {
      const std::uint64_t reserved = request.estimated_tokens;  // what this attempt holds
      if (stopping()) {
        settle(reserved, 0);
        return;
      }
      auto response = caller->exchange({url_, http, s.max_response_bytes, s.timeout_ms});
      ++requests_;
      Json r = request_record(batch, request, "miss", attempt);
      if (!response) {  // the caller broke the protocol or died: it has been stopped
        r["error"] = response.error().message;
        log("llm_request", r);
        settle(reserved, request.estimated_tokens);
        outcome.state = BatchState::kFailed;
        stop("the llm-caller process failed: " + response.error().message);
        return;
      }
      const bool sent = response->bytes_sent > 0;
      if (sent) characters_sent_ += request.body.size();
      r["characters_sent"] = sent ? request.body.size() : 0;
      std::uint64_t cost = sent ? request.estimated_prompt_tokens : 0;
      std::optional<std::chrono::milliseconds> wait;
      std::string failure;    // a reason to stop the run
      std::string transient;  // a reason to try again
      if (response->ok) r["status"] = response->status;
      if (response->connection_refused) {
        failure = "the egress policy refused the connection: " + response->error;
      } else if (response->certificate_refused) {
        failure = "the TLS connection to " + url_ + " failed: " + response->error;
      } else if (!response->ok) {
        transient = response->error;  // timeouts, resets, dropped connections, bad framing
      } else if (response->status == 200) {
        auto answer = llm::parse_chat_response(s.backend, response->response);
        std::string why = answer ? "" : answer.error().message;
        if (answer) {
          // Usage is the endpoint's word: bounded, and never below the prompt's estimate.
          constexpr std::uint64_t kMaxReported = 100'000'000;
          const std::uint64_t in = answer->usage_reported ? std::min(answer->prompt_tokens, kMaxReported) : 0;
          const std::uint64_t out = answer->usage_reported ? std::min(answer->completion_tokens, kMaxReported)
                                                           : llm::estimate_tokens(answer->content.size());
          cost = std::max(in, request.estimated_prompt_tokens) + out;
          tokens_in_ += answer->usage_reported ? in : request.estimated_prompt_tokens;
          tokens_out_ += out;
          r["tokens_in"] = answer->usage_reported ? in : request.estimated_prompt_tokens;
          r["tokens_out"] = out;
          r["usage_reported"] = answer->usage_reported;
          if (accept(batch, request, answer->content, outcome, why)) {
            settle(reserved, cost);
            r["codings"] = outcome.verified.codings.size();
            r["rejected_quotes"] = outcome.verified.rejected;
            if (o_.task == LlmTask::kSuggest) r["proposals"] = outcome.suggestions.proposals.size();
            if (!log("llm_request", r)) return;
            if (auto st = cache_.store(request.cache_key, *answer, s.model); !st)
              log("llm_cache_failed", {{"cache_key", request.cache_key}, {"error", st.error().message}});
            return;
          }
        }
        // Not usable: nothing of it is applied; the same request goes again.
        ++invalid_answers_;
        r["invalid_answer"] = llm::printable(why, 300);
        if (++invalid > s.invalid_answer_retries) {
          settle(reserved, cost);
          log("llm_request", r);
          outcome.state = BatchState::kFailed;
          log("llm_batch_failed", {{"batch", batch.index}, {"reason", llm::printable(why, 300)}});
          return;  // reported; the other batches go on
        }
        transient = "invalid answer";
        wait = std::chrono::milliseconds(0);
      } else if (response->status == 401 || response->status == 403) {
        failure = "the endpoint refused the credentials (HTTP " + std::to_string(response->status) +
                  "): check /run/secrets/openai_api_key or OPENAI_API_KEY";
      } else if (response->status >= 300 && response->status < 400) {
        failure = "the endpoint redirected (HTTP " + std::to_string(response->status) + ") to " +
                  llm::printable(response->location, 200) + "; redirects are not followed — set the base URL to the endpoint itself";
      } else if (response->status == 429 || response->status == 408 || response->status >= 500) {
        transient = "HTTP " + std::to_string(response->status);
        if (auto seconds = retry_after_seconds(response->retry_after)) {
          if (*seconds > s.max_retry_after_s)
            failure = "the endpoint asks to wait " + std::to_string(*seconds) + " s (Retry-After), longer than " +
                      std::to_string(s.max_retry_after_s) + " s";
          wait = std::chrono::seconds(*seconds);
        }
      } else if (response->status == 400 && s.structured_outputs && rejects_response_format(response->response)) {
        // An endpoint without JSON Schema response formats (older servers, some local ones):
        // the answer is validated all the same. The request is rebuilt without it and sent
        // again; the rest of the run follows.
        if (structured_.exchange(false))  // the first batch to find out records it
          log("llm_structured_outputs_off", {{"endpoint", url_}, {"status", 400}});
        s.structured_outputs = false;
        request = o_.task == LlmTask::kSuggest ? llm::build_suggestion_request(s, *o_.codebook, batch)
                                               : llm::build_coding_request(s, *o_.codebook, batch);
        http = llm::make_post_request(url_, request.body, s.api_key, s.key_header.value_or(llm::KeyHeader::kBearer));
        transient = "structured outputs not supported";
        wait = std::chrono::milliseconds(0);
      } else {
        failure = "the endpoint answered HTTP " + std::to_string(response->status) + error_message(response->response);
      }
      settle(reserved, cost);
      if (!failure.empty()) {
        r["error"] = failure;
        log("llm_request", r);
        outcome.state = BatchState::kFailed;
        stop(failure);
        return;
      }
      if (!r.contains("invalid_answer")) r["error"] = llm::printable(transient, 300);
      if (!log("llm_request", r)) return;
      if (transient != "invalid answer" && attempt >= s.max_attempts) {
        outcome.state = BatchState::kFailed;
        stop("the endpoint kept failing (" + llm::printable(transient) + ") after " + std::to_string(attempt) + " attempts");
        return;
      }
      if (!reserve(request.estimated_tokens)) {
        outcome.state = BatchState::kFailed;
        stop("the token budget of " + std::to_string(o_.policy->egress.token_budget) +
             " tokens (egress.token_budget) is used up");
        return;
      }
      if (!wait) {
        // Exponential backoff with jitter: half to all of base * 2^(attempt-1), at most 60 s.
        const double cap = std::min(60000.0, s.backoff_ms * std::pow(2.0, attempt - 1));
        std::uniform_real_distribution<double> d(cap / 2, cap);
        wait = std::chrono::milliseconds(static_cast<long>(d(jitter)));
      }
      ++retries_;
      pause(*wait);
    }
  }

  const std::vector<llm::Batch>& batches_;
  const LlmCodingOptions& o_;
  const RecordFn& record_;
  llm::ResponseCache cache_;
  std::vector<BatchOutcome> outcomes_;
  const std::string url_;
  std::atomic<std::size_t> next_{0};
  std::atomic<bool> stop_flag_{false};
  std::atomic<bool> structured_{true};
  std::mutex mutex_, log_mutex_;
  std::condition_variable wake_;
  std::string stopped_;
  std::uint64_t tokens_committed_ = 0;
  std::atomic<std::size_t> requests_{0}, retries_{0}, invalid_answers_{0};
  std::atomic<std::uint64_t> tokens_in_{0}, tokens_out_{0}, characters_sent_{0};
  std::uint64_t preview_tokens_ = 0;

 public:
  std::uint64_t preview_tokens() const { return preview_tokens_; }
};

}  // namespace

std::vector<std::string> llm_anonymization_gaps(const policy::Policy& policy) {
  std::vector<std::string> gaps;
  const auto& a = policy.anonymization;
  if (!a.apply_to.count(policy::Destination::kLlm)) gaps.push_back("anonymization.apply_to does not include \"llm\"");
  for (auto type : policy::all_entity_types()) {
    if (type == policy::EntityType::kCustom) continue;  // custom patterns are additions
    const std::string name(policy::entity_type_name(type));
    if (!a.detectors.count(type)) gaps.push_back("the " + name + " detector is off");
    else if (a.action_for(type) == policy::Action::kKeep) gaps.push_back(name + " values are kept (action \"keep\")");
  }
  return gaps;
}

Status check_llm_egress(const policy::Policy& policy, const llm::Settings& settings) {
  const std::string url = settings.endpoint_url();
  auto parsed = egress::parse_url(url);
  if (!parsed) return make_error("the LLM endpoint " + url + " is not a valid URL: " + parsed.error().message);
  if (auto endpoint = egress::find_endpoint(policy.egress, *parsed); !endpoint)
    return make_error(endpoint.error().message + "; add it to egress.endpoints in the policy to allow it");
  if (policy.egress.token_budget == 0)
    return make_error("the policy's egress.token_budget is 0, which allows no LLM use; set a per-run token budget");
  auto gaps = llm_anonymization_gaps(policy);
  if (!gaps.empty() && !policy.egress.allow_raw_text) {
    std::string list;
    for (const auto& g : gaps) list += "\n  " + g;
    return make_error("refusing to send text to the model: the policy's anonymization for the llm destination is "
                      "incomplete and egress.allow_raw_text is false:" + list);
  }
  return Status::success();
}

Result<LlmSetup> prepare_llm(const llm::Settings& given, bool backend_from_flag, const policy::Policy& policy) {
  LlmSetup setup{given, nullptr};
  if (auto st = llm::complete_settings(setup.settings, backend_from_flag, "/run/secrets/openai_api_key"); !st) return st.error();
  if (!setup.enabled()) return setup;
  if (auto st = check_llm_egress(policy, setup.settings); !st) return st.error();
  auto tls = llm::ClientTls::create(setup.settings.ca_file);
  if (!tls) return tls.error();
  setup.tls = std::move(tls).value();
  return setup;
}

Result<std::vector<std::unique_ptr<privsep::LlmCallerClient>>> start_llm_callers(Config& config, const LlmSetup& setup,
                                                                                const RecordFn& record) {
  std::vector<std::unique_ptr<privsep::LlmCallerClient>> callers;
  for (unsigned i = 0; i < setup.settings.in_flight; ++i) {
    auto caller = privsep::LlmCallerClient::start(config.policy.egress, egress::system_resolver(), setup.tls, [&config] {
      config.signing_key.reset();
      config.roster = anonymize::Roster{};
      config.cases.clear();
    });
    if (!caller) return make_error("cannot start the llm-caller: " + caller.error().message);
    if (i == 0 && !record("sandbox", {{"process", "llm-caller"}, {"pid", (*caller)->pid()},
                                      {"processes", setup.settings.in_flight}, {"lockdown", (*caller)->lockdown_report()},
                                      {"trust_anchors", setup.tls->anchors()}}))
      return make_error("the run log could not be written");
    callers.push_back(std::move(caller).value());
  }
  return callers;
}

Json LlmCodingResult::summary() const {
  Json j = {{"batches", batches},       {"batches_coded", batches_coded}, {"batches_failed", batches_failed},
            {"segments", segments},     {"requests", requests},           {"cache_hits", cache_hits},
            {"retries", retries},       {"invalid_answers", invalid_answers}, {"proposed", proposed},
            {"codings", codings.size()}, {"rejected_quotes", rejected_quotes},
            {"rejection_rate", proposed ? static_cast<double>(rejected_quotes) / static_cast<double>(proposed) : 0.0},
            {"tokens_in", tokens_in},   {"tokens_out", tokens_out},       {"characters_sent", characters_sent}};
  if (previews) j["previews"] = previews;
  if (!suggestions.empty()) j["suggestions"] = suggestions.size();
  if (!stopped.empty()) j["stopped"] = stopped;
  return j;
}

std::vector<std::string> LlmCodingResult::report_lines(const llm::Settings& settings) const {
  std::vector<std::string> lines;
  lines.push_back("Coder: " + settings.coder_name() + " (" + std::string(llm::backend_name(settings.backend)) + " at " +
                  settings.endpoint_url() + ", temperature " + std::to_string(settings.temperature).substr(0, 4) + ")");
  lines.push_back(std::to_string(batches_coded) + " of " + std::to_string(batches) + " batches coded (" +
                  std::to_string(segments) + " segments); " + std::to_string(requests) + " requests, " +
                  std::to_string(cache_hits) + " answers from the cache, " + std::to_string(retries) + " retries");
  char rate[32];
  std::snprintf(rate, sizeof rate, "%.1f%%", proposed ? 100.0 * static_cast<double>(rejected_quotes) / static_cast<double>(proposed) : 0.0);
  lines.push_back(std::to_string(proposed) + " codings proposed, " + std::to_string(rejected_quotes) +
                  " rejected because the quote is not in the segment verbatim (" + rate + ")");
  for (const auto& e : rejected_examples) lines.push_back("Rejected quote: " + e);
  lines.push_back("Tokens: " + std::to_string(tokens_in) + " in, " + std::to_string(tokens_out) + " out; " +
                  std::to_string(characters_sent) + " characters sent");
  if (batches_failed) lines.push_back(std::to_string(batches_failed) + " batches failed (see the run log)");
  if (!stopped.empty()) lines.push_back("Coding stopped early: " + stopped + ". The codings made so far are kept; run again to resume (answers already received come from the cache).");
  return lines;
}

Result<LlmCodingResult> code_with_llm(const std::vector<Document>& documents, const std::set<std::string>& raw_documents,
                                      std::vector<std::unique_ptr<privsep::LlmCallerClient>>& callers,
                                      const LlmCodingOptions& given, const RecordFn& record) {
  // The codebook goes into every prompt: its text leaves under the same anonymization as the
  // segments.
  LlmCodingOptions options = given;
  codebook::Codebook anonymized_codebook;
  if (given.policy->anonymization.apply_to.count(policy::Destination::kLlm)) {
    if (!given.codebook_anonymizer) return make_error("no anonymizer for the codebook's text");
    std::map<std::string, std::size_t> counts;
    anonymized_codebook = anonymize_codebook(*given.codebook, *given.codebook_anonymizer, counts);
    options.codebook = &anonymized_codebook;
    Json by_type = Json::object();
    for (const auto& [type, n] : counts) by_type[type] = n;
    if (!record("llm_codebook_anonymized", {{"counts", by_type}}))
      return make_error("the run log could not be written");
  }
  if (callers.empty()) return make_error("no llm-caller process");  // a dry run passes one null entry
  if (auto st = check_llm_egress(*options.policy, *options.settings); !st) return st.error();
  // The reader says per document whether it anonymized the text; raw text leaves only when
  // the policy allows it in so many words.
  if (!raw_documents.empty() && !options.policy->egress.allow_raw_text)
    return make_error("refusing to send text to the model: " + std::to_string(raw_documents.size()) +
                      " documents were not anonymized for the llm destination and egress.allow_raw_text is false");
  // Allowed, and recorded as such.
  if (auto gaps = llm_anonymization_gaps(*options.policy); !gaps.empty() || !raw_documents.empty())
    if (!record("llm_raw_text_allowed", {{"gaps", gaps}, {"raw_documents", raw_documents.size()}}))
      return make_error("the run log could not be written");
  const auto batches = llm::make_batches(documents, *options.settings);
  if (options.dry_run) {
    std::error_code ec;
    std::filesystem::create_directories(options.preview_folder, ec);
    if (ec) return make_error("cannot create " + options.preview_folder.string() + ": " + ec.message());
  }
  Run run(batches, options, record);
  std::vector<std::thread> threads;
  const unsigned workers = static_cast<unsigned>(std::min<std::size_t>(callers.size(), std::max<std::size_t>(batches.size(), 1)));
  for (unsigned w = 1; w < workers; ++w) threads.emplace_back([&, w] { run.work(callers[w].get(), w); });
  run.work(callers[0].get(), 0);
  for (auto& t : threads) t.join();
  LlmCodingResult result = run.result();
  if (options.dry_run) {
    Json index = {{"endpoint", options.settings->endpoint_url()},
                  {"backend", llm::backend_name(options.settings->backend)},
                  {"model", options.settings->model},
                  {"requests", result.previews},
                  {"answered_from_cache", result.cache_hits},
                  {"estimated_prompt_tokens", run.preview_tokens()},
                  {"token_budget", options.policy->egress.token_budget},
                  {"note", "Each request-NNNNN.json is the exact body cqda would POST (the header with the API key is not "
                           "shown). Nothing was sent."}};
    if (auto st = write_file_atomic(options.preview_folder / "index.json", index.dump(2) + "\n", 0600); !st)
      return make_error("cannot write the preview index: " + st.error().message);
  }
  return result;
}

}  // namespace cqda::pipeline
