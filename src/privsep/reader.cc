#include "privsep/reader.h"

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "anonymize/path_pseudonyms.h"
#include "common/hash.h"
#include "common/utf8.h"
#include "ingest/load.h"
#include "sandbox/lockdown.h"

namespace cqda::privsep {
namespace {

constexpr int kReplyTimeoutMs = 300000;       // one document, parsed and anonymized
constexpr std::size_t kMaxRequestedPath = 4096;  // PATH_MAX

bool anonymized_for(const policy::Policy& policy, policy::Destination destination) {
  return policy.anonymization.apply_to.count(destination) > 0;
}

// "a/b.txt", 2 -> "a/b-2.txt" (the number goes before the extension of the last component).
std::string numbered_path(const std::string& path, int n) {
  std::size_t slash = path.rfind('/');
  std::size_t dot = path.rfind('.');
  std::size_t name = slash == std::string::npos ? 0 : slash + 1;
  if (dot == std::string::npos || dot <= name) dot = path.size();
  return path.substr(0, dot) + "-" + std::to_string(n) + path.substr(dot);
}

// Error messages from ingest name the real path; only the exported form may leave.
std::string scrub(std::string message, const std::string& real_path, const std::string& path) {
  if (real_path.empty()) return message;
  for (std::size_t at = message.find(real_path); at != std::string::npos;
       at = message.find(real_path, at + path.size())) {
    message.replace(at, real_path.size(), path);
  }
  return message;
}

struct Job {
  std::string real_path;  // relative to the input root; never leaves the reader
  std::string path;       // the form that may leave
  std::string id;
};

// The reader's request loop, with a pool of workers for documents. Replies to documents go
// out as they complete (any order, each with its request id); the supervisor orders them.
class ReaderService {
 public:
  ReaderService(const ReaderSetup& setup, ipc::Channel& channel)
      : setup_(setup), channel_(channel), pseudonyms_(*setup.roster, *setup.anonymizer) {}

  int run() {
    for (unsigned i = 0; i < std::max(1u, setup_.threads); ++i) workers_.emplace_back([this] { work(); });
    int code = loop();
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    for (auto& t : workers_) t.join();
    return code;
  }

 private:
  struct Task {
    std::uint32_t request_id;
    std::optional<Job> job;  // a scanned file; else `requested`
    std::string requested;
    policy::Destination destination;
  };

  int loop() {
    for (;;) {
      auto message = channel_.receive();
      if (!message) return channel_.closed() ? 0 : kChildProtocolError;
      const auto type = static_cast<MessageType>(message->type);
      switch (type) {
        case MessageType::kPing:
          if (!channel_.send(wire(MessageType::kPong), message->request_id, "")) return kChildProtocolError;
          break;
        case MessageType::kScan:
          if (!channel_.send(wire(MessageType::kScanResult), message->request_id, encode_scan_reply(scan())))
            return kChildProtocolError;
          break;
        case MessageType::kReadDocument: {
          auto request = decode_read_document(message->payload);
          if (!request || request->index >= jobs_.size()) return kChildProtocolError;
          enqueue({message->request_id, jobs_[request->index], "", request->destination});
          break;
        }
        case MessageType::kReadPath: {
          auto request = decode_read_path(message->payload);
          if (!request) return kChildProtocolError;
          enqueue({message->request_id, std::nullopt, std::move(request->path), request->destination});
          break;
        }
        case MessageType::kExportVault:
          drain();
          if (!channel_.send(wire(MessageType::kVault), message->request_id, setup_.vault->sealed()))
            return kChildProtocolError;
          break;
        default:
          return kChildProtocolError;  // the permit table let through a type this loop does not serve
      }
      std::lock_guard lock(mutex_);
      if (send_failed_) return kChildProtocolError;
    }
  }

  ScanReply scan() {
    ingest::ScanResult found = setup_.root->scan(setup_.policy->paths);
    const bool pseudonymize = anonymized_for(*setup_.policy, policy::Destination::kExport);
    auto leaving = [&](const std::string& real) { return pseudonymize ? pseudonyms_.pseudonymize(real) : real; };
    ScanReply reply;
    for (const auto& r : found.refused)
      reply.refused.push_back({leaving(r.relative_path), sha256_hex(r.relative_path), "",
                               std::string(ingest::refusal_reason_name(r.reason))});
    // Ids and exported paths must be unique: "a-b.txt" and "a_b.txt" share a slug, and two
    // rostered names can pseudonymize alike; inputs come sorted, so suffixes are stable.
    std::set<std::string> used_ids, used_paths;
    for (const auto& real : found.accepted) {
      Job job{real, leaving(real), ""};
      for (int n = 2; !used_paths.insert(job.path).second; ++n) job.path = numbered_path(leaving(real), n);
      job.id = document_id_for_path(job.path);
      for (int n = 2; !used_ids.insert(job.id).second; ++n) job.id = document_id_for_path(job.path) + "-" + std::to_string(n);
      reply.accepted.push_back({job.path, sha256_hex(real), job.id, ""});
      jobs_.push_back(std::move(job));
    }
    return reply;
  }

  void enqueue(Task task) {
    {
      std::lock_guard lock(mutex_);
      tasks_.push_back(std::move(task));
      ++in_flight_;
    }
    wake_.notify_one();
  }

  void drain() {
    std::unique_lock lock(mutex_);
    idle_.wait(lock, [&] { return in_flight_ == 0; });
  }

  void work() {
    for (;;) {
      Task task;
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [&] { return stopping_ || !tasks_.empty(); });
        if (tasks_.empty()) return;
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      DocumentReply reply = task.job ? read_scanned(*task.job, task.destination) : read_requested(task.requested, task.destination);
      bool sent = static_cast<bool>(channel_.send(wire(MessageType::kDocument), task.request_id, encode_document_reply(reply)));
      {
        std::lock_guard lock(mutex_);
        if (!sent) send_failed_ = true;
        --in_flight_;
      }
      idle_.notify_all();
    }
  }

  // A path from a user: refused before any syscall when it is not a plain relative path
  // the policy includes; then the kernel's confined open refuses symlinks and escapes.
  DocumentReply read_requested(const std::string& requested, policy::Destination destination) {
    DocumentReply reply;
    reply.status = DocumentStatus::kDenied;
    const bool pseudonymize = anonymized_for(*setup_.policy, destination);
    if (requested.find('\0') != std::string::npos) {
      reply.path = "(path with a NUL byte)";
      reply.error = "the path contains a NUL byte";
      return reply;
    }
    if (requested.size() > kMaxRequestedPath) {
      reply.path = "(path of " + std::to_string(requested.size()) + " bytes)";
      reply.error = "the path is longer than " + std::to_string(kMaxRequestedPath) + " bytes";
      return reply;
    }
    if (utf8::first_invalid_byte(requested)) {
      reply.path = "(path that is not UTF-8)";
      reply.error = "the path is not valid UTF-8";
      return reply;
    }
    reply.path = pseudonymize ? pseudonyms_.pseudonymize(requested) : requested;
    reply.path_sha256 = sha256_hex(requested);
    if (auto refusal = ingest::check_path(requested, setup_.policy->paths)) {
      reply.error = reply.path + ": " + std::string(ingest::refusal_reason_name(refusal->reason)) + " - " +
                    scrub(refusal->detail, requested, reply.path);
      return reply;
    }
    auto raw = setup_.root->read(requested, setup_.policy->paths);
    if (!raw) {
      reply.error = scrub(raw.error().message, requested, reply.path);
      return reply;
    }
    return finish(Job{requested, reply.path, document_id_for_path(reply.path)}, std::move(raw).value(), destination);
  }

  DocumentReply read_scanned(const Job& job, policy::Destination destination) {
    auto raw = setup_.root->read(job.real_path, setup_.policy->paths);
    if (!raw) {
      DocumentReply reply;
      reply.status = DocumentStatus::kSkipped;
      reply.path = job.path;
      reply.path_sha256 = sha256_hex(job.real_path);
      reply.error = scrub(raw.error().message, job.real_path, job.path);
      return reply;
    }
    return finish(job, std::move(raw).value(), destination);
  }

  DocumentReply finish(const Job& job, ingest::RawFile raw, policy::Destination destination) {
    DocumentReply reply;
    reply.path = job.path;
    reply.path_sha256 = sha256_hex(job.real_path);
    reply.raw_sha256 = sha256_hex(raw.bytes);
    reply.raw_bytes = raw.bytes.size();
    auto loaded = ingest::load_document(raw, setup_.policy->paths);
    if (!loaded) {
      reply.status = DocumentStatus::kSkipped;
      reply.error = scrub(loaded.error().message, job.real_path, job.path);
      return reply;
    }
    Document document = std::move(loaded).value();
    document.relative_path = job.path;
    document.id = job.id;
    number_segments(document);
    if (anonymized_for(*setup_.policy, destination)) {
      auto start = std::chrono::steady_clock::now();
      std::map<std::string, std::size_t> counts;
      anonymize::anonymize_document(document, *setup_.anonymizer, counts);
      for (const auto& [type, n] : counts) reply.anonymization_counts[type] = n;
      reply.anonymize_time = std::chrono::steady_clock::now() - start;
      reply.text_kind = TextKind::kAnonymized;
    } else {
      reply.text_kind = TextKind::kRaw;
    }
    reply.status = DocumentStatus::kOk;
    reply.document = std::move(document);
    return reply;
  }

  const ReaderSetup& setup_;
  ipc::Channel& channel_;
  anonymize::PathPseudonyms pseudonyms_;
  std::vector<Job> jobs_;
  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_, idle_;
  std::deque<Task> tasks_;
  std::size_t in_flight_ = 0;
  bool stopping_ = false;
  bool send_failed_ = false;
};

}  // namespace

int reader_main(const ReaderSetup& setup, UniqueFd channel_fd) {
  if (setup.drop_secrets) setup.drop_secrets();
  sandbox::LockdownSpec spec;
  spec.role = sandbox::Role::kReader;
  spec.channel_fd = channel_fd.get();
  spec.keep_fds = {STDERR_FILENO, setup.root->fd()};
  spec.read_beneath_fd = setup.root->fd();
  spec.threads = true;
  spec.max_open_files = 32 + 2 * setup.threads;
  spec.landlock_abi_limit = setup.landlock_abi_limit;
  auto locked = lock_down_and_report(spec, std::move(channel_fd), supervisor_to_reader());
  if (!locked.channel) return locked.exit_status;
  return ReaderService(setup, *locked.channel).run();
}

// ---- the supervisor's side --------------------------------------------------------------

Result<std::unique_ptr<ReaderClient>> ReaderClient::start(const ReaderSetup& setup) {
  auto child = ChildProcess::spawn("reader", reader_to_supervisor(setup.policy->paths),
                                   [&setup](UniqueFd fd) { return reader_main(setup, std::move(fd)); });
  if (!child) return child.error();
  return adopt(std::move(child).value(), *setup.policy);
}

Result<std::unique_ptr<ReaderClient>> ReaderClient::adopt(std::unique_ptr<ChildProcess> child, const policy::Policy& policy) {
  auto report = await_ready(*child);
  if (!report) return report.error();
  return std::unique_ptr<ReaderClient>(new ReaderClient(std::move(child), policy, std::move(report).value()));
}

Error ReaderClient::fail(const std::string& what) {
  child_->kill();
  return make_error(what + "; the reader was stopped (" + child_->describe_end() + ")");
}

Result<ipc::Message> ReaderClient::receive(MessageType expected) {
  auto message = child_->channel().receive(kReplyTimeoutMs);
  if (!message) {
    if (child_->channel().closed()) return make_error(child_->describe_end());
    return fail(message.error().message);
  }
  if (message->type != wire(expected)) return fail("the reader sent an unexpected message");
  return message;
}

Status ReaderClient::check_text_kind(const DocumentReply& reply, policy::Destination destination) {
  if (reply.status == DocumentStatus::kOk && reply.text_kind == TextKind::kRaw && anonymized_for(*policy_, destination))
    return fail("the reader sent raw text for a destination the policy anonymizes (" +
                std::string(policy::destination_name(destination)) + ")");
  return Status::success();
}

Result<ScanReply> ReaderClient::scan() {
  const std::uint32_t id = next_id_++;
  if (auto st = child_->channel().send(wire(MessageType::kScan), id, ""); !st) return fail(st.error().message);
  auto message = receive(MessageType::kScanResult);
  if (!message) return message.error();
  if (message->request_id != id) return fail("the reader answered a request it was not sent");
  auto reply = decode_scan_reply(message->payload);
  if (!reply) return fail(reply.error().message);
  scan_ = *reply;
  return reply;
}

Status ReaderClient::read_documents(std::size_t count, policy::Destination destination, std::size_t window,
                                    const std::function<Status(std::size_t, DocumentReply&&)>& consume) {
  if (count > scan_.accepted.size()) return make_error("read_documents: more documents than the scan accepted");
  std::map<std::uint32_t, std::size_t> outstanding;  // request id -> scan index
  std::map<std::size_t, DocumentReply> ready;
  std::size_t next_to_send = 0, next_to_consume = 0;
  auto send_next = [&]() -> Status {
    const std::uint32_t id = next_id_++;
    const ReadDocumentRequest request{static_cast<std::uint32_t>(next_to_send), destination};
    if (auto st = child_->channel().send(wire(MessageType::kReadDocument), id, encode_read_document(request)); !st)
      return fail(st.error().message);
    outstanding.emplace(id, next_to_send++);
    return Status::success();
  };
  while (next_to_consume < count) {
    while (next_to_send < count && outstanding.size() < std::max<std::size_t>(window, 1)) {
      if (auto st = send_next(); !st) return st;
    }
    auto message = receive(MessageType::kDocument);
    if (!message) return message.error();
    auto it = outstanding.find(message->request_id);
    if (it == outstanding.end()) return fail("the reader answered a request it was not sent");
    auto reply = decode_document_reply(message->payload);
    if (!reply) return fail(reply.error().message);
    const ScanEntry& entry = scan_.accepted[it->second];
    if (reply->path != entry.path || reply->path_sha256 != entry.path_sha256 ||
        (reply->document && reply->document->id != entry.document_id) || reply->status == DocumentStatus::kDenied)
      return fail("the reader answered for another file than the one requested");
    if (auto st = check_text_kind(*reply, destination); !st) return st;
    ready.emplace(it->second, std::move(reply).value());
    outstanding.erase(it);
    for (auto r = ready.find(next_to_consume); r != ready.end(); r = ready.find(next_to_consume)) {
      DocumentReply current = std::move(r->second);
      ready.erase(r);
      if (auto st = consume(next_to_consume++, std::move(current)); !st) return st;
    }
  }
  return Status::success();
}

Result<DocumentReply> ReaderClient::read_path(const std::string& path, policy::Destination destination) {
  const std::uint32_t id = next_id_++;
  if (auto st = child_->channel().send(wire(MessageType::kReadPath), id, encode_read_path({path, destination})); !st)
    return fail(st.error().message);
  auto message = receive(MessageType::kDocument);
  if (!message) return message.error();
  if (message->request_id != id) return fail("the reader answered a request it was not sent");
  auto reply = decode_document_reply(message->payload);
  if (!reply) return fail(reply.error().message);
  if (auto st = check_text_kind(*reply, destination); !st) return st.error();
  return reply;
}

Result<std::string> ReaderClient::export_vault() {
  const std::uint32_t id = next_id_++;
  if (auto st = child_->channel().send(wire(MessageType::kExportVault), id, ""); !st) return fail(st.error().message);
  auto message = receive(MessageType::kVault);
  if (!message) return message.error();
  if (message->request_id != id) return fail("the reader answered a request it was not sent");
  return std::move(message->payload);
}

Status ReaderClient::finish() { return child_->finish(); }

}  // namespace cqda::privsep
