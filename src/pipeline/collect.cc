#include "pipeline/collect.h"

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <utility>

#include "pipeline/documents.h"
#include "pipeline/progress.h"

namespace cqda::pipeline {
namespace {

// Coding runs on a thread of its own, so the main thread can take the next reply from the
// reader (and record it) while the previous document is coded: on a run of the offline coder
// these are the two largest costs in the supervisor. Documents are coded in the order they
// arrive and kept in that order. The queue is bounded: when coding falls behind, the main
// thread stops taking replies and the reader's window fills.
class CodingThread {
 public:
  CodingThread(const coder::OfflineCoder& coder, std::size_t capacity, Stages& stages)
      : coder_(coder), capacity_(std::max<std::size_t>(capacity, 1)), stages_(stages), thread_([this] { work(); }) {}
  ~CodingThread() { join(); }
  CodingThread(const CodingThread&) = delete;
  CodingThread& operator=(const CodingThread&) = delete;

  // False once coding has failed: the caller stops reading, and finish() says why.
  bool push(Document&& document) {
    std::unique_lock lock(mutex_);
    space_.wait(lock, [&] { return queue_.size() < capacity_ || failure_; });
    if (failure_) return false;
    queue_.push_back(std::move(document));
    ready_.notify_one();
    return true;
  }

  // Waits for the queue to drain and the thread to end; rethrows what coding threw.
  void finish() {
    join();
    if (failure_) std::rethrow_exception(std::exchange(failure_, nullptr));
  }

  // After finish(): the documents in arrival order, their codings and the rejected count.
  void take(Corpus& corpus) {
    corpus.documents = std::move(documents_);
    corpus.codings = std::move(codings_);
    corpus.rejected_quotes = rejected_;
  }

 private:
  void join() {
    {
      std::lock_guard lock(mutex_);
      closed_ = true;
      ready_.notify_one();
    }
    if (thread_.joinable()) thread_.join();
  }

  void work() {
    try {
      for (;;) {
        Document document;
        {
          std::unique_lock lock(mutex_);
          ready_.wait(lock, [&] { return !queue_.empty() || closed_; });
          if (queue_.empty()) return;
          document = std::move(queue_.front());
          queue_.pop_front();
          space_.notify_one();
        }
        const auto start = std::chrono::steady_clock::now();
        // Appended to one vector: it grows by doubling (a move of each coding about once in
        // all), and a vector that large gets huge pages, where a vector per document did not.
        rejected_ += code_document(coder_, document, codings_);
        stages_.code += std::chrono::steady_clock::now() - start;
        documents_.push_back(std::move(document));
      }
    } catch (...) {
      std::lock_guard lock(mutex_);
      failure_ = std::current_exception();
      space_.notify_all();
    }
  }

  const coder::OfflineCoder& coder_;
  const std::size_t capacity_;
  Stages& stages_;  // only `code`, only from this thread until it is joined
  std::mutex mutex_;
  std::condition_variable ready_, space_;
  std::deque<Document> queue_;
  bool closed_ = false;
  std::exception_ptr failure_;
  // Owned by the coding thread until it is joined.
  std::vector<Document> documents_;
  std::vector<coder::Coding> codings_;  // in arrival order
  std::size_t rejected_ = 0;
  std::thread thread_;  // last: started once everything it uses exists
};

class Collector {
 public:
  Collector(const coder::OfflineCoder* coder, const CollectOptions& options, const RecordFn& record, Stages& stages)
      : options_(options), record_(record), stages_(stages) {
    // Two documents queued keep the coder busy; more would only hold memory, since the
    // reader's window already keeps documents coming.
    if (coder) coding_.emplace(*coder, 2, stages);
  }

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
    if (!coding_) {
      corpus_.documents.push_back(std::move(*r.document));
    } else if (!coding_->push(std::move(*r.document))) {
      coding_->finish();  // rethrows why coding stopped
      return make_error("coding stopped");
    }
    return Status::success();
  }

  Corpus take() {
    if (coding_) {
      coding_->finish();
      coding_->take(corpus_);  // with a coder, every document went to it
    }
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

  const CollectOptions& options_;
  const RecordFn& record_;
  Stages& stages_;
  Corpus corpus_;
  std::optional<CodingThread> coding_;  // last: joined before the rest is destroyed
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
