#include "mcp/stdio.h"

#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/json_text.h"

namespace cqda::mcp {
namespace {

// One line per message; writes from several threads never interleave.
class Output {
 public:
  explicit Output(int fd) : fd_(fd) {}
  void send(std::string text) {
    text.push_back('\n');
    std::lock_guard lock(mutex_);
    std::string_view rest = text;
    while (!broken_ && !rest.empty()) {
      ssize_t n = ::write(fd_, rest.data(), rest.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        broken_ = true;
        break;
      }
      rest.remove_prefix(static_cast<std::size_t>(n));
    }
  }
  bool broken() {
    std::lock_guard lock(mutex_);
    return broken_;
  }

 private:
  int fd_;
  std::mutex mutex_;
  bool broken_ = false;
};

class Workers {
 public:
  explicit Workers(unsigned n) {
    for (unsigned i = 0; i < std::max(1u, n); ++i) threads_.emplace_back([this] { loop(); });
  }
  ~Workers() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    ready_.notify_all();
    for (auto& t : threads_) t.join();
  }
  void submit(std::function<void()> job) {
    {
      std::lock_guard lock(mutex_);
      jobs_.push_back(std::move(job));
    }
    ready_.notify_one();
  }

 private:
  void loop() {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock lock(mutex_);
        ready_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
        if (jobs_.empty()) return;  // stopping, and every job has run
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      job();
    }
  }
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace

int serve_stdio(Session& session, int in_fd, int out_fd, const StdioOptions& options) {
  Output output(out_fd);
  Sender sender = [&output](const Json& message) {
    output.send(json_text(message));
  };
  int status = 0;
  {
    Workers workers(options.workers);
    auto too_long = [&] {
      output.send(make_error(nullptr, {ErrorCode::kParseError,
                                       "message longer than " + std::to_string(options.max_line) + " bytes", nullptr})
                      .dump());
    };
    auto take = [&](std::string_view line) {
      if (line.size() > options.max_line) return too_long();
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (line.find_first_not_of(" \t") == std::string_view::npos) return;
      // Until the session is initialized, messages run in order on this thread: a client
      // that writes initialize and its first requests at once must not see them overtake it.
      const bool in_order = session.state() == Session::State::kNew;
      auto work = std::make_shared<Session::Work>(session.accept(line, sender));
      if (!work->has_requests() || in_order) {
        if (auto out = work->run()) output.send(std::move(*out));
        return;
      }
      workers.submit([work, &output] {
        if (auto out = work->run()) output.send(std::move(*out));
      });
    };
    std::string buffer;
    bool discarding = false;  // inside a line that was too long
    char chunk[65536];
    for (;;) {
      if (output.broken()) break;
      ssize_t n = ::read(in_fd, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        if (n < 0) status = 1;
        break;
      }
      std::string_view data(chunk, static_cast<std::size_t>(n));
      for (std::size_t nl = data.find('\n'); nl != std::string_view::npos; nl = data.find('\n')) {
        if (discarding) {
          discarding = false;
        } else if (buffer.empty()) {
          take(data.substr(0, nl));
        } else {
          buffer.append(data.substr(0, nl));
          take(buffer);
        }
        buffer.clear();
        data.remove_prefix(nl + 1);
      }
      if (!discarding) buffer.append(data);
      if (buffer.size() > options.max_line) {
        too_long();
        buffer.clear();
        discarding = true;
      }
    }
    // End of input: no more requests, but those received are still answered (a client may
    // close its side and read on). A client that stopped reading has its work stopped.
    if (output.broken()) session.cancel_all();
  }
  return status;
}

}  // namespace cqda::mcp
