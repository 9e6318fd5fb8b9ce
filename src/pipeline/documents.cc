#include "pipeline/documents.h"

#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "common/hash.h"
#include "common/utf8.h"
#include "ingest/load.h"

namespace cqda::pipeline {
namespace {

// Error messages from the reader name the real path; only `path` may leave.
std::string scrub(std::string message, const DocumentJob& job) {
  for (std::size_t at = message.find(job.real_path); at != std::string::npos;
       at = message.find(job.real_path, at + job.path.size())) {
    message.replace(at, job.real_path.size(), job.path);
  }
  return message;
}

}  // namespace

bool quote_matches(const coder::Coding& coding, const Segment& s) {
  if (coding.segment_id != s.id) return false;
  if (coding.end <= coding.start || coding.start < s.start || coding.end > s.start + s.length) return false;
  return utf8::substr(s.text, coding.start - s.start, coding.end - coding.start) == coding.quote;
}

DocumentResult process_document(const DocumentContext& context, const DocumentJob& job) {
  DocumentResult result;
  auto raw = context.root->read(job.real_path, *context.paths);
  if (!raw) {
    result.error = scrub(raw.error().message, job);
    return result;
  }
  result.raw_sha256 = sha256_hex(raw->bytes);
  result.raw_bytes = raw->bytes.size();
  auto loaded = ingest::load_document(*raw, *context.paths);
  if (!loaded) {
    result.error = scrub(loaded.error().message, job);
    return result;
  }
  Document document = std::move(loaded).value();
  document.relative_path = job.path;
  document.id = job.id;
  number_segments(document);

  auto start = std::chrono::steady_clock::now();
  if (context.anonymizer) anonymize::anonymize_document(document, *context.anonymizer, result.anonymization_counts);
  auto coded = std::chrono::steady_clock::now();
  result.anonymize_time = coded - start;

  std::unordered_map<std::string_view, const Segment*> segments;
  for (const auto& s : document.segments) segments.emplace(s.id, &s);
  for (auto& coding : context.coder->code_document(document)) {
    auto it = segments.find(coding.segment_id);
    if (it != segments.end() && quote_matches(coding, *it->second)) {
      result.codings.push_back(std::move(coding));
    } else {
      ++result.rejected_quotes;
    }
  }
  result.code_time = std::chrono::steady_clock::now() - coded;
  result.document = std::move(document);
  return result;
}

void process_documents(const DocumentContext& context, const std::vector<DocumentJob>& jobs, unsigned threads,
                       const std::function<void(const DocumentJob&, DocumentResult&&)>& consume) {
  if (threads <= 1 || jobs.size() <= 1) {
    for (const auto& job : jobs) consume(job, process_document(context, job));
    return;
  }
  std::vector<std::optional<DocumentResult>> results(jobs.size());
  std::exception_ptr failure;
  std::mutex mutex;
  std::condition_variable ready;
  std::atomic<std::size_t> next{0};
  std::atomic<bool> stop{false};
  // Workers stay at most `window` jobs ahead of the consumer, which bounds memory.
  const std::size_t window = 4 * threads;
  std::size_t consumed = 0;
  auto worker = [&] {
    for (;;) {
      std::size_t i = next.fetch_add(1);
      if (i >= jobs.size() || stop) return;
      {
        std::unique_lock lock(mutex);
        ready.wait(lock, [&] { return i < consumed + window || stop; });
        if (stop) return;
      }
      try {
        DocumentResult r = process_document(context, jobs[i]);
        std::lock_guard lock(mutex);
        results[i] = std::move(r);
      } catch (...) {
        std::lock_guard lock(mutex);
        if (!failure) failure = std::current_exception();
        stop = true;
      }
      ready.notify_all();
    }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t) pool.emplace_back(worker);
  auto join = [&] {
    stop = true;
    ready.notify_all();
    for (auto& th : pool) th.join();
  };
  try {
    for (std::size_t i = 0; i < jobs.size(); ++i) {
      DocumentResult r;
      {
        std::unique_lock lock(mutex);
        ready.wait(lock, [&] { return results[i].has_value() || failure; });
        if (failure) break;
        r = std::move(*results[i]);
        results[i].reset();
        consumed = i + 1;
      }
      ready.notify_all();
      consume(jobs[i], std::move(r));
    }
  } catch (...) {
    join();
    throw;
  }
  join();
  if (failure) std::rethrow_exception(failure);
}

}  // namespace cqda::pipeline
