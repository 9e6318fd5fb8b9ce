#include "pipeline/collect.h"

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <thread>
#include <utility>

#include "pipeline/documents.h"
#include "pipeline/progress.h"

namespace cqda::pipeline {
namespace {

// A thread that takes items in order from a bounded queue. The queue's bound is what holds
// the stage before it back when this one falls behind. What `work` throws stops the thread:
// push() then refuses, and finish() rethrows it.
template <typename Item>
class WorkerThread {
 public:
  WorkerThread(std::size_t capacity, std::function<void(Item&&)> work)
      : capacity_(std::max<std::size_t>(capacity, 1)), work_(std::move(work)), thread_([this] { run(); }) {}
  ~WorkerThread() { join(); }
  WorkerThread(const WorkerThread&) = delete;
  WorkerThread& operator=(const WorkerThread&) = delete;

  // False once the work has failed: the caller stops, and finish() says why.
  bool push(Item&& item) {
    std::unique_lock lock(mutex_);
    space_.wait(lock, [&] { return queue_.size() < capacity_ || failure_; });
    if (failure_) return false;
    queue_.push_back(std::move(item));
    ready_.notify_one();
    return true;
  }

  // Waits for the queue to drain and the thread to end; rethrows what the work threw.
  void finish() {
    join();
    if (failure_) std::rethrow_exception(std::exchange(failure_, nullptr));
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

  void run() {
    try {
      for (;;) {
        std::optional<Item> item;
        {
          std::unique_lock lock(mutex_);
          ready_.wait(lock, [&] { return !queue_.empty() || closed_; });
          if (queue_.empty()) return;
          item.emplace(std::move(queue_.front()));
          queue_.pop_front();
          space_.notify_one();
        }
        work_(std::move(*item));
      }
    } catch (...) {
      std::lock_guard lock(mutex_);
      failure_ = std::current_exception();
      space_.notify_all();
    }
  }

  const std::size_t capacity_;
  std::function<void(Item&&)> work_;
  std::mutex mutex_;
  std::condition_variable ready_, space_;
  std::deque<Item> queue_;
  bool closed_ = false;
  std::exception_ptr failure_;
  std::thread thread_;  // last: started once everything it uses exists
};

// Thrown on the export thread when the writer fails, and on the coding thread when the export
// thread has stopped: the collector turns it into the writer's error.
struct ExportStopped {};

// A coded document on its way to the export writer: its codings are codings[0, count); the
// elements past them are spare (see OfflineCoder::code_document_into).
struct CodedDocument {
  Document document;
  std::vector<coder::Coding> codings;
  std::size_t count = 0;
};

// The export stage of a streamed run: each coded document's files are written and its
// codings appended, then the document and its codings are dropped.
class ExportThread {
 public:
  ExportThread(exporter::ExportWriter& writer, std::size_t capacity)
      : writer_(writer), worker_(capacity, [this](CodedDocument&& coded) { write(std::move(coded)); }) {}

  bool push(CodedDocument&& coded) { return worker_.push(std::move(coded)); }
  void finish() { worker_.finish(); }

  // A vector of codings written out, for the coding thread to write the next document's
  // codings over: their strings keep their memory, so a coding costs no allocation once the
  // run is under way. Empty when none is back yet.
  std::vector<coder::Coding> take_spare() {
    std::lock_guard lock(spare_mutex_);
    if (spare_.empty()) return {};
    std::vector<coder::Coding> out = std::move(spare_.back());
    spare_.pop_back();
    return out;
  }

 private:
  static constexpr std::size_t kSpares = 4;

  void write(CodedDocument&& coded) {
    const std::span<const coder::Coding> own(coded.codings.data(), coded.count);
    std::vector<const coder::Coding*> of_document;
    of_document.reserve(own.size());
    for (const auto& c : own) of_document.push_back(&c);
    if (!writer_.add_document(coded.document, of_document) || !writer_.add_codings(own)) throw ExportStopped{};
    std::lock_guard lock(spare_mutex_);
    if (spare_.size() < kSpares) spare_.push_back(std::move(coded.codings));
  }

  exporter::ExportWriter& writer_;
  std::mutex spare_mutex_;
  std::vector<std::vector<coder::Coding>> spare_;
  WorkerThread<CodedDocument> worker_;  // last: its thread uses the members above
};

// Coding runs on a thread of its own, so the main thread can take the next reply from the
// reader (and record it) while the previous document is coded: on a run of the offline coder
// these are the two largest costs in the supervisor. Documents are coded in the order they
// arrive, and each goes on to the export thread with its codings; only the counts stay.
class CodingThread {
 public:
  CodingThread(const coder::OfflineCoder& coder, std::size_t capacity, Stages& stages, exporter::ExportWriter& writer)
      : coder_(coder), stages_(stages), export_(writer, capacity),
        worker_(capacity, [this](Document&& document) { code(std::move(document)); }) {}
  CodingThread(const CodingThread&) = delete;
  CodingThread& operator=(const CodingThread&) = delete;

  bool push(Document&& document) { return worker_.push(std::move(document)); }

  // Waits for both threads to finish; rethrows what coding or exporting threw.
  void finish() {
    std::exception_ptr coding_failure;
    try {
      worker_.finish();
    } catch (...) {
      coding_failure = std::current_exception();
    }
    export_.finish();  // its failure first: it is why coding stopped
    if (coding_failure) std::rethrow_exception(coding_failure);
  }

  // After finish().
  void take(Corpus& corpus) {
    corpus.rejected_quotes = rejected_;
    corpus.document_count = coded_documents_;
    corpus.coding_count = coded_codings_;
  }

 private:
  void code(Document&& document) {
    const auto start = std::chrono::steady_clock::now();
    std::vector<coder::Coding> codings = export_.take_spare();
    const std::size_t count = code_document_into(coder_, document, codings, rejected_);
    stages_.code += std::chrono::steady_clock::now() - start;
    ++coded_documents_;
    coded_codings_ += count;
    if (!export_.push({std::move(document), std::move(codings), count})) throw ExportStopped{};
  }

  const coder::OfflineCoder& coder_;
  Stages& stages_;  // only `code`, only from the coding thread until it is joined
  std::size_t rejected_ = 0, coded_documents_ = 0, coded_codings_ = 0;  // the coding thread's until joined
  ExportThread export_;
  WorkerThread<Document> worker_;  // last: destroyed (joined) first, before the export thread it feeds
};

class Collector {
 public:
  Collector(const coder::OfflineCoder* coder, const CollectOptions& options, const RecordFn& record, Stages& stages)
      : options_(options), record_(record), stages_(stages) {
    // Two documents queued keep the coder busy; more would only hold memory, since the
    // reader's window already keeps documents coming.
    if (coder) coding_.emplace(*coder, 2, stages, *options.stream);
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
      corpus_.document_count = corpus_.documents.size();
    } else if (!coding_->push(std::move(*r.document))) {
      if (auto st = finish(); !st) return st;  // why coding stopped
      return make_error("coding stopped");
    }
    return Status::success();
  }

  Result<Corpus> take() {
    if (coding_) {
      if (auto st = finish(); !st) return st.error();
      coding_->take(corpus_);  // with a coder, every document went to it
    }
    return std::move(corpus_);
  }

 private:
  // Joins the coding (and export) threads. A failed export is the writer's error; what else
  // they threw goes on up.
  Status finish() {
    try {
      coding_->finish();
    } catch (const ExportStopped&) {
      const Status& failed = options_.stream->status();
      return failed ? make_error("the export stopped") : failed;
    }
    return Status::success();
  }

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
  if (coder && !options.stream) return make_error("collect_documents: a coder needs an export writer to hand its codings to");
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
  auto taken = collector.take();
  if (!taken) return taken.error();
  Corpus corpus = std::move(taken).value();
  stages.documents = std::chrono::steady_clock::now() - start;
  corpus.seconds = std::chrono::duration<double>(stages.documents).count();
  return corpus;
}

}  // namespace cqda::pipeline
