#include "pipeline/collect.h"

#include <cmath>
#include <iterator>
#include <set>

#include "pipeline/documents.h"
#include "pipeline/progress.h"

namespace cqda::pipeline {
namespace {

class Collector {
 public:
  Collector(const coder::OfflineCoder* coder, const CollectOptions& options, const RecordFn& record, Stages& stages)
      : coder_(coder), options_(options), record_(record), stages_(stages) {}

  Status refused(const std::vector<privsep::ScanEntry>& entries) {
    for (const auto& r : entries) {
      corpus_.refused.push_back({r.path, r.reason});
      if (!record_("input_refused", {{"path", r.path}, {"path_sha256", r.path_sha256}, {"reason", r.reason}}))
        return make_error("the run log could not be written");
    }
    return Status::success();
  }

  Status add(privsep::DocumentReply&& r) {
    stages_.anonymize += r.anonymize_time;
    if (r.status != privsep::DocumentStatus::kOk) return skipped(r);
    const Document& d = *r.document;
    if (!record_("input", {{"path", r.path}, {"path_sha256", r.path_sha256}, {"sha256", d.sha256}, {"bytes", d.raw_bytes},
                           {"format", format_name(d.format)}, {"document_id", d.id}, {"segments", d.segments.size()}}))
      return make_error("the run log could not be written");
    if (auto it = options_.cases_by_path_sha256.find(r.path_sha256); it != options_.cases_by_path_sha256.end())
      corpus_.cases[r.path] = it->second;
    for (const auto& [type, n] : r.anonymization_counts) corpus_.anonymization_counts[type] += n;
    corpus_.bytes += r.raw_bytes;
    if (r.text_kind == privsep::TextKind::kRaw) corpus_.raw_documents.insert(d.id);
    if (!coder_) {
      corpus_.documents.push_back(std::move(*r.document));
      return Status::success();
    }
    auto code_start = std::chrono::steady_clock::now();
    CodedDocument coded = code_document(*coder_, d);
    stages_.code += std::chrono::steady_clock::now() - code_start;
    corpus_.rejected_quotes += coded.rejected_quotes;
    coded_count_ += coded.codings.size();
    coded_.push_back(std::move(coded.codings));
    corpus_.documents.push_back(std::move(*r.document));
    return Status::success();
  }

  // The codings in input order. Kept per document until now and moved once into a vector of
  // the right size: growing one vector by doubling moved every coding several times.
  Corpus take() {
    corpus_.codings.reserve(corpus_.codings.size() + coded_count_);
    for (auto& codings : coded_) {
      std::move(codings.begin(), codings.end(), std::back_inserter(corpus_.codings));
      std::vector<coder::Coding>().swap(codings);
    }
    coded_.clear();
    return std::move(corpus_);
  }

 private:
  Status skipped(const privsep::DocumentReply& r) {
    corpus_.skipped.push_back({r.path, r.error});
    const bool denied = r.status == privsep::DocumentStatus::kDenied;
    Json data = {{"path", r.path}, {"path_sha256", r.path_sha256}, {"error", r.error}};
    if (!r.raw_sha256.empty()) {
      data["sha256"] = r.raw_sha256;
      data["bytes"] = r.raw_bytes;
    }
    if (!record_(denied ? "input_denied" : "input_skipped", data)) return make_error("the run log could not be written");
    return Status::success();
  }

  const coder::OfflineCoder* coder_;
  const CollectOptions& options_;
  const RecordFn& record_;
  Stages& stages_;
  Corpus corpus_;
  std::vector<std::vector<coder::Coding>> coded_;  // per document, in input order
  std::size_t coded_count_ = 0;
};

}  // namespace

Json Stages::to_json() const {
  auto seconds = [](std::chrono::steady_clock::duration d) {
    return std::round(std::chrono::duration<double>(d).count() * 1000) / 1000;
  };
  return {{"documents_wall", seconds(documents)}, {"anonymize_thread", seconds(anonymize)},
          {"code_thread", seconds(code)}, {"export_wall", seconds(exported)}};
}

Result<Corpus> collect_documents(privsep::ReaderClient& reader, const coder::OfflineCoder* coder,
                                 const CollectOptions& options, const RecordFn& record, Stages& stages) {
  const auto start = std::chrono::steady_clock::now();
  Collector collector(coder, options, record, stages);
  const auto destination = options.destination;
  if (options.files.empty()) {
    auto scan = reader.scan();
    if (!scan) return scan.error();
    if (auto st = collector.refused(scan->refused); !st) return st.error();
    Progress progress(scan->accepted.size(), options.progress);
    Status read = reader.read_documents(scan->accepted.size(), destination, options.window,
                                        [&](std::size_t, privsep::DocumentReply&& r) {
                                          progress.advance(r.raw_bytes);
                                          return collector.add(std::move(r));
                                        });
    progress.finish();
    if (!read) return read.error();
  } else {
    std::set<std::string> seen_ids;
    for (const auto& file : options.files) {
      auto reply = reader.read_path(file, destination);
      if (!reply) return reply.error();
      // The same file named twice is read once.
      if (reply->document && !seen_ids.insert(reply->document->id).second) continue;
      if (auto st = collector.add(std::move(reply).value()); !st) return st.error();
    }
  }
  Corpus corpus = collector.take();
  stages.documents = std::chrono::steady_clock::now() - start;
  corpus.seconds = std::chrono::duration<double>(stages.documents).count();
  return corpus;
}

}  // namespace cqda::pipeline
