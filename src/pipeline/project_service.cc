#include "pipeline/project_service.h"

#include "pipeline/llm_coding.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include <re2/re2.h>

#include "common/files.h"
#include "common/hash.h"
#include "common/json_text.h"
#include "common/utf8.h"
#include "export/exporter.h"
#include "pipeline/codebook_text.h"
#include "pipeline/config.h"
#include "privsep/protocol.h"
#include "runlog/record.h"
#include "runlog/verifier.h"
#include "server/read_tools.h"

namespace cqda::pipeline {
namespace {

namespace fs = std::filesystem;

constexpr std::uint64_t kMaxCounted = 100000;  // search hits counted before the count stops

// A string argument of at most `max` bytes; nullopt when absent, an error when malformed.
Result<std::optional<std::string>> text(const Json& request, const char* key, std::size_t max, bool required = false) {
  auto it = request.find(key);
  if (it == request.end() || it->is_null()) {
    if (required) return make_error(std::string(key) + " is required");
    return std::optional<std::string>();
  }
  if (!it->is_string()) return make_error(std::string(key) + " must be a string");
  if (it->get_ref<const std::string&>().size() > max)
    return make_error(std::string(key) + " is longer than " + std::to_string(max) + " bytes");
  if (utf8::first_invalid_byte(it->get_ref<const std::string&>())) return make_error(std::string(key) + " is not valid UTF-8");
  return std::optional<std::string>(it->get<std::string>());
}

// An id from the client, safe to echo and to log: at most 200 bytes, cut on a character
// boundary, and only when it is valid UTF-8.
std::string printable_id(const std::string& id) {
  if (utf8::first_invalid_byte(id)) return "(not valid UTF-8)";
  std::size_t end = std::min<std::size_t>(id.size(), 200);
  while (end > 0 && end < id.size() && (static_cast<unsigned char>(id[end]) & 0xC0) == 0x80) --end;
  return id.substr(0, end);
}

bool flag(const Json& request, const char* key) {
  auto it = request.find(key);
  return it != request.end() && it->is_boolean() && it->get<bool>();
}

// RE2's \C matches one byte even in UTF-8 mode, so a match could end inside a character:
// refused (an escaped backslash before C is a literal and stays allowed).
bool has_any_byte_escape(std::string_view pattern) {
  for (std::size_t i = 0; i + 1 < pattern.size(); ++i) {
    if (pattern[i] != '\\') continue;
    if (pattern[i + 1] == 'C') return true;
    ++i;  // skip the escaped character
  }
  return false;
}

bool on_boundary(const std::string& text, std::size_t at) {
  return at >= text.size() || (static_cast<unsigned char>(text[at]) & 0xC0) != 0x80;
}

std::uint64_t number(const Json& request, const char* key, std::uint64_t fallback, std::uint64_t max) {
  auto it = request.find(key);
  if (it == request.end() || !it->is_number_unsigned()) return fallback;
  return std::min(it->get<std::uint64_t>(), max);
}

server::DocumentSummary summary_of(const Document& d) {
  return {d.id, d.relative_path, std::string(format_name(d.format)), d.segments.size(), utf8::length(d.text)};
}

Json summary(const server::DocumentSummary& d) {
  return {{"id", d.id}, {"path", d.path}, {"format", d.format}, {"segments", d.segments}, {"characters", d.characters}};
}

std::size_t next_code_point(const std::string& text, std::size_t at) {
  if (at >= text.size()) return text.size() + 1;
  ++at;
  while (at < text.size() && (static_cast<unsigned char>(text[at]) & 0xC0) == 0x80) ++at;
  return at;
}

// A page of rows in the list tools' shape.
// Rows stop at a byte budget, well under the channel's cap; next_offset continues.
template <typename Page, typename Rows>
Json page_json(const char* key, const Rows& rows, std::int64_t total, std::size_t offset) {
  static constexpr std::size_t kReplyBudget = 8u << 20;
  Json list = Json::array();
  std::size_t bytes = 0, taken = 0;
  for (const auto& row : rows) {
    Json item = project::to_json(row);
    bytes += json_text(item).size();
    if (taken > 0 && bytes > kReplyBudget) break;
    list.push_back(std::move(item));
    ++taken;
  }
  Json out = {{key, std::move(list)}, {"total", total}, {"offset", offset}};
  if (offset + taken < static_cast<std::size_t>(total)) out["next_offset"] = offset + taken;
  return out;
}

}  // namespace

fs::path project_file(const fs::path& output) { return output / "project" / "cqda-project.sqlite3"; }

ProjectService::ProjectService(std::vector<Document> documents, std::unique_ptr<project::Store> store,
                               ProjectServiceOptions options, RecordFn record)
    : documents_(std::move(documents)), store_(std::move(store)), options_(std::move(options)), record_(std::move(record)) {
  summaries_.reserve(documents_.size());
  for (std::size_t i = 0; i < documents_.size(); ++i) {
    by_id_.emplace(documents_[i].id, i);
    summaries_.push_back(summary_of(documents_[i]));
  }
}

ProjectService::~ProjectService() = default;

bool ProjectService::record_change() {
  const Json& change = store_->last_change();
  return change.is_null() || record_("project_change", change);
}

const Document* ProjectService::document(const Json& request, std::string& error) const {
  auto it = request.find("document_id");
  if (it == request.end()) it = request.find("id");
  if (it == request.end() || !it->is_string()) {
    error = "a document id is required";
    return nullptr;
  }
  auto found = by_id_.find(it->get_ref<const std::string&>());
  if (found == by_id_.end()) {
    error = "no document with id " + printable_id(it->get_ref<const std::string&>());
    return nullptr;
  }
  return &documents_[found->second];
}

Result<Json> ProjectService::answer(const Json& request) {
  auto op_it = request.find("op");
  if (op_it == request.end() || !op_it->is_string()) return make_error("unknown data request");
  const std::string& op = op_it->get_ref<const std::string&>();
  if (op == "list_documents") {
    Json list = Json::array();
    for (const auto& d : summaries_) list.push_back(summary(d));
    return Json{{"documents", std::move(list)}};
  }
  if (op == "codebook") {
    auto book = outgoing_codebook(options_.mcp_anonymized);
    if (!book) return book.error();
    return Json{{"codebook", (*book)->document}};
  }
  if (op == "search") return search(request);
  if (op == "latest_report") return latest_report();
  if (op == "code_segment") return code_segment(request);
  if (op == "auto_code_document") return auto_code_document(request);
  if (op == "suggest_codes") return suggest_codes(request);
  if (op == "export_project") return export_project();
  if (op == "verify_run_log") return verify_run_logs(request);
  if (op == "remove_coding") {
    auto id = request.find("id");
    auto by = text(request, "by", project::kMaxNameBytes, true);
    if (id == request.end() || !id->is_number_integer()) return make_error("id must be an integer");
    if (!by) return by.error();
    if (auto st = store_->remove_coding(id->get<std::int64_t>(), **by); !st) return st.error();
    if (!record_change()) return make_error("the run log could not be written");
    return Json{{"removed", id->get<std::int64_t>()}};
  }
  if (op == "list_codings") {
    project::CodingFilter filter;
    for (auto [key, field] : {std::pair{"code_id", &filter.code_id}, std::pair{"document_id", &filter.document_id},
                              std::pair{"segment_id", &filter.segment_id}, std::pair{"coder", &filter.coder}}) {
      auto value = text(request, key, project::kMaxIdBytes);
      if (!value) return value.error();
      *field = *value;
    }
    filter.offset = number(request, "offset", 0, 1u << 30);
    filter.limit = number(request, "limit", 100, 1000);
    if (filter.limit == 0) filter.limit = 1;
    auto page = store_->list_codings(filter);
    if (!page) return page.error();
    return page_json<project::CodingPage>("codings", page->codings, page->total, filter.offset);
  }
  if (op == "add_memo") {
    project::NewMemo memo;
    for (auto [key, field, max, required] :
         {std::tuple{"text", &memo.text, project::kMaxMemoBytes, true}, std::tuple{"title", &memo.title, project::kMaxNameBytes, false},
          std::tuple{"author", &memo.author, project::kMaxNameBytes, true},
          std::tuple{"document_id", &memo.document_id, project::kMaxIdBytes, false},
          std::tuple{"segment_id", &memo.segment_id, project::kMaxIdBytes, false},
          std::tuple{"code_id", &memo.code_id, project::kMaxIdBytes, false}}) {
      auto value = text(request, key, max, required);
      if (!value) return value.error();
      if (*value) *field = **value;
    }
    std::string error;
    if (!memo.document_id.empty() && !document(request, error)) return make_error(error);
    auto added = store_->add_memo(memo);
    if (!added) return added.error();
    if (!record_change()) return make_error("the run log could not be written");
    return Json{{"memo", project::to_json(*added)}};
  }
  if (op == "list_memos") {
    project::MemoFilter filter;
    for (auto [key, field] : {std::pair{"code_id", &filter.code_id}, std::pair{"document_id", &filter.document_id},
                              std::pair{"segment_id", &filter.segment_id}, std::pair{"author", &filter.author}}) {
      auto value = text(request, key, project::kMaxIdBytes);
      if (!value) return value.error();
      *field = *value;
    }
    filter.offset = number(request, "offset", 0, 1u << 30);
    filter.limit = std::max<std::uint64_t>(number(request, "limit", 100, 1000), 1);
    auto page = store_->list_memos(filter);
    if (!page) return page.error();
    return page_json<project::MemoPage>("memos", page->memos, page->total, filter.offset);
  }
  if (op == "update_codebook") {
    auto change = request.find("change");
    auto author = text(request, "author", project::kMaxNameBytes, true);
    if (change == request.end() || !change->is_object()) return make_error("change must be an object");
    if (!author) return author.error();
    auto version = store_->change_codebook(*change, **author);
    if (!version) return version.error();
    if (!record_change()) return make_error("the run log could not be written");
    return Json{{"version", project::to_json(*version)}};
  }
  if (op == "code_frequencies") {
    auto coder = text(request, "coder", project::kMaxNameBytes);
    if (!coder) return coder.error();
    auto rows = store_->code_frequencies(*coder);
    if (!rows) return rows.error();
    // Code names and paths leave like the rest of the codebook.
    auto book = outgoing_codebook(options_.mcp_anonymized);
    if (!book) return book.error();
    Json codes = Json::array();
    for (auto row : *rows) {
      if (const codebook::Code* code = (*book)->find(row.code_id)) {
        row.name = code->name;
        row.path = (*book)->path_of(*code);
      }
      codes.push_back(project::to_json(row));
    }
    return Json{{"codes", std::move(codes)}, {"codebook_version", store_->codebook_version()}};
  }
  return make_error("unknown data request");
}

Result<ProjectService::Answer> ProjectService::answer_text(const Json& request) {
  if (auto op = request.find("op"); op != request.end() && op->is_string()) {
    if (*op == "read_document_result") return read_document_result(request);
    if (*op == "read_document") {
      auto page = read_page(request);
      if (!page) return page.error();
      return Answer{std::move(page).value(), std::nullopt};
    }
  }
  auto answer_json = answer(request);
  if (!answer_json) return answer_json.error();
  return Answer{json_text(*answer_json), std::nullopt};
}

// read_document's tool result, written here from the document (as the tool writes it from a
// page, server::page_result_text), so that the run log's record of the call is the
// supervisor's own account of the bytes that leave. The arguments are the tool's, checked
// again; the result's offset is the one asked for, as the tool reports it.
Result<ProjectService::Answer> ProjectService::read_document_result(const Json& request) const {
  auto arguments = request.find("arguments");
  if (arguments == request.end() || !arguments->is_object()) return make_error("read_document: arguments must be an object");
  std::string error;
  const Document* d = document(*arguments, error);
  if (!d) return make_error(error);
  const std::uint64_t offset = number(*arguments, "offset", 0, UINT64_MAX);
  const auto first = std::min<std::uint64_t>(offset, d->segments.size());
  const auto limit = std::clamp<std::uint64_t>(number(*arguments, "limit", server::kDefaultPage, server::kMaxPage), 1,
                                               server::kMaxPage);
  const auto end = std::min<std::uint64_t>(first + limit, d->segments.size());
  const server::DocumentSummary& summary = summaries_[static_cast<std::size_t>(d - documents_.data())];
  const std::span<const Segment> segments(d->segments.data() + first, end - first);
  // The page is cut to what one reply may carry (the mark byte and the result), so that the
  // call is refused here, and recorded once by the broker, rather than after its record.
  auto written = server::page_result_within(summary, segments, offset, privsep::kMaxDataReply - 1);
  if (!written)
    return make_error("segment " + std::to_string(first) + " of this document is too large to send as a tool result (over " +
                      std::to_string(privsep::kMaxDataReply >> 20) + " MiB with its JSON)");
  Answer answer;
  answer.text.reserve(written->size() + 1);
  answer.text += privsep::kResultReplyMark;
  answer.text += *written;
  written.reset();
  const std::string_view result = std::string_view(answer.text).substr(1);
  answer.tool_call = Json{{"tool", "read_document"},
                          {"arguments_sha256", sha256_hex(json_text(*arguments))},
                          {"result_sha256", sha256_hex(result)},
                          {"bytes", result.size()},
                          {"is_error", false}};
  return answer;
}

// A page of a document in the wire encoding the broker reads (privsep::PageWriter), written
// straight from the document.
Result<std::string> ProjectService::read_page(const Json& request) const {
  std::string error;
  const Document* d = document(request, error);
  if (!d) return make_error(error);
  const auto offset = std::min<std::uint64_t>(number(request, "offset", 0, UINT32_MAX), d->segments.size());
  const auto limit = std::clamp<std::uint64_t>(number(request, "limit", server::kDefaultPage, server::kMaxPage), 1,
                                               server::kMaxPage);
  const auto end = std::min<std::uint64_t>(offset + limit, d->segments.size());
  std::size_t bytes = 0;
  for (std::uint64_t i = offset; i < end; ++i)
    bytes += d->segments[i].id.size() + d->segments[i].speaker.size() + d->segments[i].text.size() + 28;
  const server::DocumentSummary& summary = summaries_[static_cast<std::size_t>(d - documents_.data())];
  privsep::PageWriter page(summary, static_cast<std::uint32_t>(end - offset), bytes + 256);
  for (std::uint64_t i = offset; i < end; ++i) {
    const Segment& s = d->segments[i];
    page.segment(s.id, s.speaker, s.text, s.start, s.length);
  }
  return page.take();
}

// Keyword-in-context search; the pattern is the client's, so it is RE2 with a memory bound.
Result<Json> ProjectService::search(const Json& request) const {
  auto query_arg = text(request, "query", 1000, true);
  if (!query_arg) return query_arg.error();
  const std::string query = **query_arg;
  const bool regex = flag(request, "regex");
  if (regex && has_any_byte_escape(query)) return make_error("\\C (any byte) is not allowed in a search pattern");
  const auto limit = std::clamp<std::uint64_t>(number(request, "limit", 50, 200), 1, 200);
  const auto context = number(request, "context", 40, 200);
  auto only_arg = text(request, "document_id", project::kMaxIdBytes);
  if (!only_arg) return only_arg.error();
  const std::string only = only_arg->value_or("");
  // A pattern that is slow on long segments must not hold the supervisor: the search stops
  // after a time budget and says its count is incomplete.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  bool out_of_time = false;
  RE2::Options re_options;
  re_options.set_max_mem(8 << 20);
  re_options.set_log_errors(false);
  if (!regex) {
    re_options.set_literal(true);
    re_options.set_case_sensitive(false);
  }
  RE2 pattern(query, re_options);
  if (!pattern.ok()) return make_error("not a valid RE2 pattern: " + pattern.error());
  Json hits = Json::array();
  std::uint64_t total = 0;
  for (const Document& d : documents_) {
    if (out_of_time) break;
    if (!only.empty() && d.id != only) continue;
    for (const Segment& seg : d.segments) {
      if (std::chrono::steady_clock::now() > deadline) {
        out_of_time = true;
        break;
      }
      const std::string& t = seg.text;
      std::size_t pos = 0;
      re2::StringPiece match;
      while (pos <= t.size() && total < kMaxCounted && pattern.Match(t, pos, t.size(), RE2::UNANCHORED, &match, 1)) {
        const std::size_t begin = static_cast<std::size_t>(match.data() - t.data());
        const std::size_t end = begin + match.size();
        ++total;
        if (hits.size() < limit && on_boundary(t, begin) && on_boundary(t, end)) {
          const std::size_t begin_cp = utf8::length(std::string_view(t).substr(0, begin));
          const std::size_t end_cp = begin_cp + utf8::length(std::string_view(t).substr(begin, end - begin));
          const std::size_t left_from = begin_cp > context ? begin_cp - context : 0;
          hits.push_back({{"document_id", d.id}, {"segment_id", seg.id}, {"start", seg.start + begin_cp},
                          {"end", seg.start + end_cp},
                          {"left", std::string(utf8::substr(t, left_from, begin_cp - left_from))},
                          {"match", std::string(match)},
                          {"right", std::string(utf8::substr(t, end_cp, context))}});
        }
        // An empty match moves on by one code point, so the loop always advances.
        pos = end > begin ? end : next_code_point(t, end);
      }
    }
  }
  return Json{{"hits", std::move(hits)}, {"total", total}, {"truncated", total > limit || out_of_time}};
}

// The newest report: of this project's exports (exports/<stamp>/report.md), else of the last
// batch run — only when it holds anonymized text, or the policy lets raw text reach MCP.
Result<Json> ProjectService::latest_report() const {
  static constexpr std::size_t kMaxReport = 32u << 20;
  std::error_code ec;
  fs::path folder = options_.output;
  std::vector<fs::path> exports;
  for (const auto& e : fs::directory_iterator(options_.output / "exports", ec))
    if (e.is_directory(ec) && fs::is_regular_file(e.path() / "report.md", ec)) exports.push_back(e.path());
  if (!exports.empty()) folder = *std::max_element(exports.begin(), exports.end());
  if (!fs::is_regular_file(folder / "report.md", ec)) return Json{{"exists", false}};
  if (options_.mcp_anonymized) {
    auto codings = read_file(folder / "codings.json", kMaxReport);
    Json parsed = codings ? Json::parse(*codings, nullptr, false) : Json();
    if (!parsed.is_object() || parsed.value("anonymized", false) != true)
      return Json{{"exists", false}, {"reason", "the latest report is not anonymized"}};
  }
  auto report = read_file(folder / "report.md", kMaxReport);
  if (!report) return report.error();
  return Json{{"exists", true}, {"text", std::move(report).value()}};
}

Result<Json> ProjectService::code_segment(const Json& request) {
  std::string error;
  const Document* d = document(request, error);
  if (!d) return make_error(error);
  auto segment_id = text(request, "segment_id", project::kMaxIdBytes, true);
  if (!segment_id) return segment_id.error();
  auto segment = std::find_if(d->segments.begin(), d->segments.end(), [&](const Segment& s) { return s.id == **segment_id; });
  if (segment == d->segments.end()) return make_error("document " + d->id + " has no segment " + **segment_id);
  project::NewCoding coding;
  coding.document_id = d->id;
  coding.segment_id = segment->id;
  coding.segment_text = segment->text;
  coding.segment_start = segment->start;
  auto quote = text(request, "quote", project::kMaxSegmentBytes);
  if (!quote) return quote.error();
  if (*quote) coding.quote = **quote;
  if (request.contains("start") || request.contains("end")) {
    auto start = request.find("start"), end = request.find("end");
    if (start == request.end() || end == request.end() || !start->is_number_unsigned() || !end->is_number_unsigned())
      return make_error("a span needs both start and end (code points inside the segment)");
    coding.span = project::Span{start->get<std::size_t>(), end->get<std::size_t>()};
  }
  if (!coding.span && coding.quote.empty()) return make_error("give a quote, or a span (start and end), or both");
  auto codes = request.find("codes");
  if (codes == request.end() || !codes->is_array() || codes->empty()) return make_error("codes must list one or more code ids");
  for (const auto& c : *codes) {
    if (!c.is_string()) return make_error("codes must be strings");
    coding.code_ids.push_back(c.get<std::string>());
  }
  auto coder = text(request, "coder", project::kMaxNameBytes, true);
  if (!coder) return coder.error();
  coding.coder = **coder;
  auto memo = text(request, "memo", project::kMaxMemoBytes);
  if (!memo) return memo.error();
  if (*memo) coding.memo = **memo;
  auto added = store_->add_coding(coding);
  if (!added) return added.error();
  if (!record_change()) return make_error("the run log could not be written");
  Json list = Json::array();
  for (const auto& c : *added) list.push_back(project::to_json(c));
  return Json{{"codings", std::move(list)}};
}

// The offline coder over one document; its codings join the project as "offline-rules".
Result<Json> ProjectService::auto_code_document(const Json& request) {
  std::string error;
  const Document* d = document(request, error);
  if (!d) return make_error(error);
  bool dry_run = false;
  if (auto it = request.find("dry_run"); it != request.end()) {
    if (!it->is_boolean()) return make_error("dry_run must be a boolean");
    dry_run = it->get<bool>();
  }
  if (options_.llm) return llm_code_document(*d, dry_run);
  if (dry_run) return make_error("dry_run previews what a model would get; this server codes with the offline rules");
  if (!coder_ || coder_version_ != store_->codebook_version()) {
    auto made = coder::OfflineCoder::create(store_->current_codebook());
    if (!made) return made.error();
    coder_.emplace(std::move(made).value());
    coder_version_ = store_->codebook_version();
  }
  auto stored = store_codings(*d, coder_->code_document(*d));
  if (!stored) return stored.error();
  return Json{{"document_id", d->id}, {"codings", *stored}};
}

// A coder's codings of `d` into the project (the store checks each quote again); the number
// stored. A model's rationale can be kept as the coding's memo.
Result<std::size_t> ProjectService::store_codings(const Document& d, const std::vector<coder::Coding>& codings,
                                                  bool rationale_as_memo) {
  std::vector<project::NewCoding> batch;
  for (const coder::Coding& c : codings) {
    auto segment = std::find_if(d.segments.begin(), d.segments.end(), [&](const Segment& s) { return s.id == c.segment_id; });
    if (segment == d.segments.end() || c.start < segment->start) continue;
    project::NewCoding coding;
    coding.document_id = d.id;
    coding.segment_id = segment->id;
    coding.segment_text = segment->text;
    coding.segment_start = segment->start;
    coding.span = project::Span{c.start - segment->start, c.end - segment->start};
    coding.quote = c.quote;
    coding.code_ids = {c.code_id};
    coding.coder = c.coder;
    if (rationale_as_memo) coding.memo = c.rationale;
    batch.push_back(std::move(coding));
  }
  if (batch.empty()) return std::size_t{0};
  auto added = store_->add_codings(batch);
  if (!added) return added.error();
  if (!record_change()) return make_error("the run log could not be written");
  return added->size();
}

Result<const codebook::Codebook*> ProjectService::outgoing_codebook(bool anonymized) {
  if (!anonymized || !options_.codebook_anonymizer) return &store_->current_codebook();
  if (!anonymized_codebook_ || anonymized_codebook_version_ != store_->codebook_version()) {
    std::map<std::string, std::size_t> counts;
    codebook::Codebook book = anonymize_codebook(store_->current_codebook(), *options_.codebook_anonymizer, counts);
    // Kept only once the pseudonyms it uses are saved, so a failed save is tried again.
    if (options_.vault && options_.vault->modified())
      if (auto st = options_.vault->save(); !st) return make_error("cannot save the pseudonym vault: " + st.error().message);
    anonymized_codebook_ = std::move(book);
    anonymized_codebook_version_ = store_->codebook_version();
  }
  return &*anonymized_codebook_;
}

// The model over `documents` (pipeline/llm_coding.h) under the session's one budget; a dry
// run writes the request bodies to `preview_folder` instead.
Result<LlmCodingResult> ProjectService::run_llm(const std::vector<Document>& documents, LlmTask task, bool dry_run,
                                                std::filesystem::path& preview_folder) {
  LlmCodingOptions o;
  o.task = task;
  o.policy = options_.policy;
  const codebook::Codebook codebook = store_->current_codebook();
  o.codebook = &codebook;
  o.codebook_anonymizer = options_.codebook_anonymizer;
  o.settings = options_.llm;
  o.cache_folder = options_.llm_cache;
  o.dry_run = dry_run;
  o.tokens_charged_before = llm_tokens_charged_;
  char name[64];
  std::snprintf(name, sizeof name, "-%03d", ++previews_);
  o.preview_folder = preview_folder = options_.output / "llm-preview" / (options_.run_id + name);
  std::vector<std::unique_ptr<privsep::LlmCallerClient>> none;
  none.push_back(nullptr);
  std::set<std::string> raw;
  for (const auto& d : documents)
    if (options_.raw_documents.count(d.id)) raw.insert(d.id);
  auto result = code_with_llm(documents, raw, dry_run ? none : *options_.llm_callers, o, record_);
  // Pseudonyms first issued for the codebook's text are kept with the others.
  if (options_.vault && options_.vault->modified())
    if (auto st = options_.vault->save(); !st) return make_error("cannot save the pseudonym vault: " + st.error().message);
  if (!result) return result.error();
  llm_tokens_charged_ = result->tokens_charged;
  if (!record_("llm_coding", result->summary())) return make_error("the run log could not be written");
  return result;
}

// One document through the model (pipeline/llm_coding.h), under the session's one budget.
// Codings join the project as llm:<model>; a dry run writes the request bodies instead.
Result<Json> ProjectService::llm_code_document(const Document& d, bool dry_run) {
  std::filesystem::path preview_folder;
  auto coded = run_llm({d}, LlmTask::kCode, dry_run, preview_folder);
  if (!coded) return coded.error();
  Json reply = {{"document_id", d.id}, {"rejected_quotes", coded->rejected_quotes}};
  if (dry_run) {
    reply["codings"] = 0;
    reply["previews"] = coded->previews;
    reply["preview_folder"] = std::filesystem::relative(preview_folder, options_.output).string();
    return reply;
  }
  auto stored = store_codings(d, coded->codings, /*rationale_as_memo=*/true);
  if (!stored) return stored.error();
  reply["codings"] = *stored;
  if (!coded->stopped.empty()) reply["stopped"] = coded->stopped;
  return reply;
}

// Inductive coding over one document's segments that nobody has coded yet: proposals for
// new codes with verified quotes, returned, never applied (update_codebook accepts one).
Result<Json> ProjectService::suggest_codes(const Json& request) {
  std::string error;
  const Document* d = document(request, error);
  if (!d) return make_error(error);
  if (!options_.llm) return make_error("suggest_codes needs a model: start cqda serve with --llm-backend (docs/LLM.md)");
  bool dry_run = false;
  if (auto it = request.find("dry_run"); it != request.end()) {
    if (!it->is_boolean()) return make_error("dry_run must be a boolean");
    dry_run = it->get<bool>();
  }
  std::size_t max_segments = 200;
  if (auto it = request.find("max_segments"); it != request.end()) {
    if (!it->is_number_unsigned() || it->get<std::size_t>() < 1 || it->get<std::size_t>() > 2000)
      return make_error("max_segments must be an integer from 1 to 2000");
    max_segments = it->get<std::size_t>();
  }
  std::set<std::string> coded;
  project::CodingFilter filter;
  filter.document_id = d->id;
  filter.limit = project::kMaxPage;
  for (;;) {
    auto page = store_->list_codings(filter);
    if (!page) return page.error();
    for (const auto& c : page->codings) coded.insert(c.segment_id);
    filter.offset += page->codings.size();
    if (page->codings.empty() || static_cast<std::int64_t>(filter.offset) >= page->total) break;
  }
  Document uncoded = *d;
  uncoded.segments.clear();
  for (const auto& s : d->segments)
    if (!coded.count(s.id) && uncoded.segments.size() < max_segments) uncoded.segments.push_back(s);
  Json reply = {{"document_id", d->id}, {"segments", uncoded.segments.size()}, {"proposals", Json::array()}};
  if (uncoded.segments.empty()) return reply;
  std::filesystem::path preview_folder;
  auto result = run_llm({uncoded}, LlmTask::kSuggest, dry_run, preview_folder);
  if (!result) return result.error();
  reply["rejected_quotes"] = result->rejected_quotes;
  if (dry_run) {
    reply["previews"] = result->previews;
    reply["preview_folder"] = std::filesystem::relative(preview_folder, options_.output).string();
    return reply;
  }
  for (const auto& p : result->suggestions) {
    Json quotes = Json::array();
    for (const auto& q : p.quotes)
      quotes.push_back({{"document_id", q.document_id}, {"segment_id", q.segment_id}, {"start", q.start}, {"end", q.end},
                        {"quote", q.quote}});
    reply["proposals"].push_back(
        {{"name", p.name}, {"definition", p.definition}, {"rationale", p.rationale}, {"quotes", std::move(quotes)}});
  }
  if (!result->stopped.empty()) reply["stopped"] = result->stopped;
  return reply;
}

// The pipeline's exports of the project as it stands, in exports/<time>/ under the output
// folder, written atomically by the exporter.
Result<Json> ProjectService::export_project() {
  if (options_.export_anonymized && !options_.mcp_anonymized)
    return make_error("the policy anonymizes exports but not MCP text, which this session holds: run `cqda run` to export");
  std::vector<coder::Coding> codings;
  project::CodingFilter filter;
  filter.limit = project::kMaxPage;
  for (;;) {
    auto page = store_->list_codings(filter);
    if (!page) return page.error();
    for (const auto& c : page->codings) {
      auto it = by_id_.find(c.document_id);
      if (it == by_id_.end()) continue;  // a document no longer in the input
      coder::Coding out;
      out.document_id = c.document_id;
      out.document_sha256 = documents_[it->second].sha256;
      out.segment_id = c.segment_id;
      out.start = c.segment_start + c.span.start;
      out.end = c.segment_start + c.span.end;
      out.quote = c.quote;
      out.code_id = c.code_id;
      out.codebook_version = c.codebook_version;
      out.coder = c.coder;
      out.memo = c.memo;
      out.rationale = c.coder == "offline-rules" ? "keyword or pattern of the code" : "coded by " + c.coder;
      codings.push_back(std::move(out));
    }
    filter.offset += page->codings.size();
    if (page->codings.empty() || filter.offset >= static_cast<std::size_t>(page->total)) break;
  }
  const std::string stamp = runlog::new_run_id(std::chrono::system_clock::now());
  const fs::path folder = options_.output / "exports" / stamp;
  std::error_code ec;
  fs::create_directories(folder, ec);
  if (ec) return make_error("cannot create " + folder.string() + ": " + ec.message());
  exporter::ExportInput input;
  input.policy = options_.policy;
  auto book = outgoing_codebook(options_.mcp_anonymized);
  if (!book) return book.error();
  input.codebook = *book;
  input.documents = &documents_;
  input.codings = &codings;
  input.anonymized = options_.mcp_anonymized;
  input.run_id = options_.run_id;
  input.generated_at = utc_now();
  input.tool_version = options_.tool_version;
  auto written = exporter::write_exports(folder, input);
  if (!written) return written.error();
  Json files = Json::array();
  for (const auto& f : *written) {
    files.push_back({{"path", "exports/" + stamp + "/" + f.path}, {"bytes", f.bytes}, {"sha256", f.sha256}});
    if (!record_("export", files.back())) return make_error("the run log could not be written");
  }
  return Json{{"folder", "exports/" + stamp}, {"files", std::move(files)}, {"codings", codings.size()}};
}

Result<Json> ProjectService::verify_run_logs(const Json& request) const {
  auto only = text(request, "run_id", 64);
  if (!only) return only.error();
  std::vector<fs::path> logs;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(options_.output / "run-logs", ec))
    if (e.path().extension() == ".jsonl" && (!*only || e.path().stem() == **only)) logs.push_back(e.path());
  std::sort(logs.begin(), logs.end());
  if (*only && logs.empty()) return make_error("no run log with id " + **only);
  std::vector<runlog::PublicKey> keys;
  if (options_.run_log_key) keys.push_back(*options_.run_log_key);
  runlog::VerifyOptions verify;
  verify.require_signatures = false;
  Json out = Json::array();
  for (const auto& log : logs) {
    if (log.stem() == options_.run_id) {  // this session's own log is still being written
      out.push_back({{"run_id", options_.run_id}, {"intact", nullptr}, {"reason", "the log of this session, still open"}});
      continue;
    }
    auto report = runlog::verify_log_file(log, keys, verify);
    if (!report) {
      out.push_back({{"run_id", log.stem().string()}, {"intact", false}, {"reason", report.error().message}});
      continue;
    }
    out.push_back({{"run_id", log.stem().string()}, {"intact", report->ok}, {"records", report->records},
                   {"signed", report->signed_log}, {"reason", report->reason}});
  }
  return Json{{"logs", std::move(out)}, {"trusted_key", options_.run_log_key ? runlog::key_id(*options_.run_log_key) : ""}};
}

}  // namespace cqda::pipeline
