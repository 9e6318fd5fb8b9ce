#include "pipeline/serve.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <map>

#include <re2/re2.h>

#include "common/files.h"
#include "common/utf8.h"
#include "pipeline/collect.h"
#include "pipeline/config.h"
#include "pipeline/reader_session.h"
#include "pipeline/exit_codes.h"
#include "privsep/broker.h"
#include "privsep/reader.h"
#include "runlog/record.h"
#include "runlog/writer.h"

namespace cqda::pipeline {
namespace {

constexpr std::uint64_t kMaxPage = 500;

// The loaded corpus, by document id; what the broker's requests are answered from.
class Project {
 public:
  Project(std::vector<Document> documents, const codebook::Codebook& codebook, std::filesystem::path output,
          bool mcp_anonymized)
      : documents_(std::move(documents)), codebook_(&codebook), output_(std::move(output)), mcp_anonymized_(mcp_anonymized) {
    for (std::size_t i = 0; i < documents_.size(); ++i) by_id_.emplace(documents_[i].id, i);
  }

  // One data request from the broker: {"op": ..., ...}. An unknown document is an error the
  // tool reports; a malformed request is an error as well (the broker is ours, but untrusted).
  Result<Json> answer(const Json& request) const {
    const std::string op = request.value("op", "");
    if (op == "list_documents") {
      Json list = Json::array();
      for (const auto& d : documents_) list.push_back(summary(d));
      return Json{{"documents", std::move(list)}};
    }
    if (op == "codebook") return Json{{"codebook", codebook_->document}};
    if (op == "read_document") {
      if (!request.contains("id") || !request["id"].is_string()) return make_error("read_document needs an id");
      auto it = by_id_.find(request["id"].get<std::string>());
      if (it == by_id_.end()) return make_error("no document with id " + request["id"].get<std::string>());
      const Document& d = documents_[it->second];
      const auto offset = std::min<std::uint64_t>(request.value("offset", std::uint64_t{0}), d.segments.size());
      const auto limit = std::clamp<std::uint64_t>(request.value("limit", std::uint64_t{50}), 1, kMaxPage);
      Json segments = Json::array();
      for (std::uint64_t i = offset; i < std::min<std::uint64_t>(offset + limit, d.segments.size()); ++i) {
        const Segment& s = d.segments[i];
        Json entry = {{"id", s.id}, {"text", s.text}, {"start", s.start}, {"length", s.length}};
        if (!s.speaker.empty()) entry["speaker"] = s.speaker;
        segments.push_back(std::move(entry));
      }
      return Json{{"document", summary(d)}, {"segments", std::move(segments)}};
    }
    if (op == "search") return search(request);
    if (op == "latest_report") return latest_report();
    return make_error("unknown data request");
  }

 private:
  static constexpr std::uint64_t kMaxCounted = 100000;  // hits counted before the count stops

  // Keyword-in-context search; the pattern is the client's, so it is RE2 with a memory bound.
  Result<Json> search(const Json& request) const {
    if (!request.contains("query") || !request["query"].is_string()) return make_error("search needs a query");
    const std::string query = request["query"].get<std::string>();
    const bool regex = request.value("regex", false);
    const auto limit = std::clamp<std::uint64_t>(request.value("limit", std::uint64_t{50}), 1, 200);
    const auto context = std::min<std::uint64_t>(request.value("context", std::uint64_t{40}), 200);
    const std::string only = request.value("document_id", "");
    RE2::Options options;
    options.set_max_mem(8 << 20);
    options.set_log_errors(false);
    if (!regex) {
      options.set_literal(true);
      options.set_case_sensitive(false);
    }
    RE2 pattern(query, options);
    if (!pattern.ok()) return make_error("not a valid RE2 pattern: " + pattern.error());
    Json hits = Json::array();
    std::uint64_t total = 0;
    for (const Document& d : documents_) {
      if (!only.empty() && d.id != only) continue;
      for (const Segment& seg : d.segments) {
        const std::string& text = seg.text;
        std::size_t pos = 0;
        re2::StringPiece match;
        while (pos <= text.size() && total < kMaxCounted &&
               pattern.Match(text, pos, text.size(), RE2::UNANCHORED, &match, 1)) {
          const std::size_t begin = static_cast<std::size_t>(match.data() - text.data());
          const std::size_t end = begin + match.size();
          ++total;
          if (hits.size() < limit) {
            const std::size_t begin_cp = utf8::length(std::string_view(text).substr(0, begin));
            const std::size_t end_cp = begin_cp + utf8::length(std::string_view(text).substr(begin, end - begin));
            const std::size_t left_from = begin_cp > context ? begin_cp - context : 0;
            hits.push_back({{"document_id", d.id}, {"segment_id", seg.id}, {"start", seg.start + begin_cp},
                            {"end", seg.start + end_cp},
                            {"left", std::string(utf8::substr(text, left_from, begin_cp - left_from))},
                            {"match", std::string(match)},
                            {"right", std::string(utf8::substr(text, end_cp, context))}});
          }
          // An empty match moves on by one code point, so the loop always advances.
          pos = end > begin ? end : next_code_point(text, end);
        }
      }
    }
    return Json{{"hits", std::move(hits)}, {"total", total}, {"truncated", total > limit}};
  }

  // The report of the last run in the output folder — only when it holds anonymized text, or
  // when the policy lets raw text reach MCP clients.
  Result<Json> latest_report() const {
    static constexpr std::uintmax_t kMaxReport = 32u << 20;
    const auto report = output_ / "report.md";
    std::error_code ec;
    if (!std::filesystem::is_regular_file(report, ec)) return Json{{"exists", false}};
    if (mcp_anonymized_) {
      auto codings = read_file(output_ / "codings.json", kMaxReport);
      Json parsed = codings ? Json::parse(*codings, nullptr, false) : Json();
      if (!parsed.is_object() || parsed.value("anonymized", false) != true)
        return Json{{"exists", false}, {"reason", "the latest report is not anonymized"}};
    }
    auto text = read_file(report, kMaxReport);
    if (!text) return text.error();
    return Json{{"exists", true}, {"text", std::move(text).value()}};
  }

  static std::size_t next_code_point(const std::string& text, std::size_t at) {
    if (at >= text.size()) return text.size() + 1;
    ++at;
    while (at < text.size() && (static_cast<unsigned char>(text[at]) & 0xC0) == 0x80) ++at;
    return at;
  }

  static Json summary(const Document& d) {
    return {{"id", d.id}, {"path", d.relative_path}, {"format", std::string(format_name(d.format))},
            {"segments", d.segments.size()}, {"characters", utf8::length(d.text)}};
  }

  std::vector<Document> documents_;
  std::map<std::string, std::size_t, std::less<>> by_id_;
  const codebook::Codebook* codebook_;
  std::filesystem::path output_;
  bool mcp_anonymized_;
};

}  // namespace

int serve(const ServeOptions& o, std::FILE* err) {
  auto fail = [&](int code, const std::string& message) {
    std::fprintf(err, "cqda serve: %s\n", message.c_str());
    return code;
  };
  if (!o.stdio) return fail(kExitUsage, "only --stdio is available in this release");
  // 1. Configuration and keys, before any child exists.
  auto config_result = load_config(o);
  if (!config_result) return fail(kExitUsage, config_result.error().message);
  Config& config = *config_result;
  if (auto folders = check_folders(o)) return fail(folders->exit_code, folders->message);

  // 2. The session's run log.
  const std::string run_id = runlog::new_run_id(std::chrono::system_clock::now());
  std::filesystem::path log_path;
  auto log = open_run_log(o, config, run_id, log_path);
  if (!log) return fail(kExitOutput, log.error().message);
  RecordFn record = [&](std::string_view type, const Json& data) { return static_cast<bool>(log->append(type, data)); };
  auto finish = [&](int code, const std::string& outcome) {
    record("run_end", {{"exit_code", code}, {"outcome", outcome}});
    if (!log->seal()) return code == kExitOk ? static_cast<int>(kExitOutput) : code;
    return code;
  };
  if (!record("run_start", {{"tool", "cqda"}, {"tool_version", tool_version()}, {"command", "serve"},
                            {"transport", "stdio"}, {"policy_sha256", config.policy.sha256},
                            {"codebook_sha256", config.codebook.sha256}, {"roster_sha256", config.roster_sha256},
                            {"signed", config.signing_key.has_value()}}))
    return fail(kExitOutput, "cannot write the run log");

  // 3. The corpus, loaded by the reader with the mcp destination's anonymization.
  auto anonymization = open_anonymization(config, o);
  if (!anonymization) return finish(fail(kExitUsage, anonymization.error().message), "anonymization");
  auto root = ingest::InputRoot::open(o.input.string());
  if (!root) return finish(fail(kExitUsage, root.error().message), "input root");
  const unsigned threads = reader_threads();
  auto reader = start_reader(config, *anonymization, std::move(root).value(), threads);
  if (!reader) return finish(fail(kExitInternal, reader.error().message), "reader");
  auto child_failed = [&](const char* process, const Error& e) {
    record("process_failed", {{"process", process}, {"error", e.message}});
    return finish(fail(kExitInternal, e.message), std::string(process) + " failed");
  };
  if (!record("sandbox", {{"process", "reader"}, {"pid", (*reader)->pid()}, {"lockdown", (*reader)->lockdown_report()}}))
    return finish(kExitOutput, "run log");
  CollectOptions collect;
  collect.destination = policy::Destination::kMcp;
  collect.window = 2 * threads + 2;
  Stages stages;
  auto corpus = collect_documents(**reader, nullptr, collect, record, stages);
  if (!corpus) return child_failed("reader", corpus.error());
  auto reader_vault = take_back_vault(**reader, *anonymization);
  if (!reader_vault) return child_failed("reader", reader_vault.error());
  if (auto st = reader_vault->save(); !st) return finish(fail(kExitOutput, st.error().message), "vault save");
  std::fprintf(err, "cqda serve: %zu documents loaded (%zu skipped, %zu refused); serving MCP on stdio\n",
               corpus->documents.size(), corpus->skipped.size(), corpus->refused.size());

  // 4. The broker speaks MCP on stdin/stdout and asks for data over its channel.
  Project project(std::move(corpus->documents), config.codebook, o.output,
                  config.policy.anonymization.apply_to.count(policy::Destination::kMcp) > 0);
  privsep::BrokerSetup broker_setup;
  broker_setup.client_fds = {STDIN_FILENO, STDOUT_FILENO};
  broker_setup.drop_secrets = [&config] { config.signing_key.reset(); };
  broker_setup.mcp_stdio = true;
  broker_setup.server_version = tool_version();
  auto broker = privsep::BrokerClient::start(broker_setup);
  if (!broker) return finish(fail(kExitInternal, broker.error().message), "broker");
  if (!record("sandbox", {{"process", "broker"}, {"pid", (*broker)->pid()}, {"lockdown", (*broker)->lockdown_report()}}))
    return finish(kExitOutput, "run log");
  Status served = (*broker)->serve([&](const Json& request) -> Result<Json> {
    auto answer = project.answer(request);
    Json data = {{"op", request.value("op", "")}};
    if (request.contains("id") && request["id"].is_string()) data["document_id"] = request["id"];
    if (answer) {
      data["bytes"] = answer->dump().size();
    } else {
      data["error"] = answer.error().message;
    }
    if (!record("mcp_data", data)) return make_error("the run log could not be written");
    return answer;
  });
  if (!served) return child_failed("broker", served.error());
  if (auto st = (*broker)->finish(); !st) return child_failed("broker", st.error());
  return finish(kExitOk, "client closed the session");
}

}  // namespace cqda::pipeline
