#include "privsep/child.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "privsep/protocol.h"

namespace cqda::privsep {
namespace {

std::string signal_text(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  std::string out = abbrev ? std::string("SIG") + abbrev : "signal " + std::to_string(sig);
  if (sig == SIGSYS) out += " (it made a system call its seccomp filter forbids)";
  return out;
}

}  // namespace

Result<std::unique_ptr<ChildProcess>> ChildProcess::spawn(std::string name, ipc::PermitTable inbound,
                                                          const std::function<int(UniqueFd)>& child_main) {
  auto pair = ipc::Channel::socketpair();
  if (!pair) return pair.error();
  auto [parent_end, child_end] = std::move(pair).value();
  // A stuck child must not hang the supervisor in send(): a bounded wait, then an error.
  const timeval send_timeout{30, 0};
  ::setsockopt(parent_end.get(), SOL_SOCKET, SO_SNDTIMEO, &send_timeout, sizeof send_timeout);
  // With SIGCHLD ignored (inherited from whatever started us), children are reaped by the
  // kernel and their exit status is lost: the supervisor must see how each one ended.
  struct sigaction chld {};
  if (::sigaction(SIGCHLD, nullptr, &chld) == 0 && chld.sa_handler == SIG_IGN) ::signal(SIGCHLD, SIG_DFL);
  const pid_t supervisor = ::getpid();
  std::fflush(nullptr);  // buffered output must not be written twice
  pid_t pid = ::fork();
  if (pid < 0) return make_error("fork (" + name + "): " + std::strerror(errno));
  if (pid == 0) {
    parent_end.reset();
    // Die with the supervisor; if it is already gone, do not start.
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != supervisor) ::_exit(kChildInternalError);
    int code = kChildInternalError;
    try {
      code = child_main(std::move(child_end));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "cqda %s: internal error: %s\n", name.c_str(), e.what());
    } catch (...) {
      std::fprintf(stderr, "cqda %s: internal error\n", name.c_str());
    }
    ::_exit(code);
  }
  return std::unique_ptr<ChildProcess>(new ChildProcess(std::move(name), pid, std::move(parent_end), std::move(inbound)));
}

ChildProcess::ChildProcess(std::string name, pid_t pid, UniqueFd fd, ipc::PermitTable inbound)
    : name_(std::move(name)),
      pid_(pid),
      inbound_(std::move(inbound)),
      channel_(std::make_unique<ipc::Channel>(std::move(fd), inbound_, name_)) {}

ChildProcess::~ChildProcess() { kill(); }

bool ChildProcess::reap(int timeout_ms) {
  if (reaped_) return true;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    pid_t r = ::waitpid(pid_, &status_, WNOHANG);
    if (r == pid_) {
      reaped_ = true;
      return true;
    }
    if (r < 0 && errno == ECHILD) {  // reaped elsewhere: how it ended is unknown, never "fine"
      reaped_ = true;
      status_ = -1;
      return true;
    }
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

void ChildProcess::kill() {
  if (reaped_ || pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  reap(60000);
}

std::string ChildProcess::describe_status(int status) const {
  if (status != -1 && WIFEXITED(status)) {
    int code = WEXITSTATUS(status);
    if (code == 0) return "the " + name_ + " exited normally";
    std::string why = code == kChildProtocolError     ? " (it received a message it does not permit)"
                      : code == kChildLockdownFailed ? " (its lockdown failed)"
                                                      : "";
    return "the " + name_ + " exited with status " + std::to_string(code) + why;
  }
  if (status == -1) return "the " + name_ + " ended, but its exit status was lost";
  if (WIFSIGNALED(status)) return "the " + name_ + " was killed by " + signal_text(WTERMSIG(status));
  return "the " + name_ + " ended in an unknown way";
}

std::string ChildProcess::describe_end() {
  if (!reap(2000)) {
    kill();
    return "the " + name_ + " stopped answering and was killed";
  }
  return describe_status(status_);
}

Status ChildProcess::finish(int timeout_ms) {
  channel_.reset();  // EOF for the child: its loop ends
  if (!reap(timeout_ms)) {
    kill();
    return make_error("the " + name_ + " did not exit after its channel closed and was killed");
  }
  if (status_ != -1 && WIFEXITED(status_) && WEXITSTATUS(status_) == 0) return Status::success();
  return make_error(describe_status(status_));
}

Status send_ready(ipc::Channel& channel, const std::string& report) {
  return channel.send(wire(MessageType::kReady), 0, report);
}

LockedDown lock_down_and_report(const sandbox::LockdownSpec& spec, UniqueFd channel_fd, const ipc::PermitTable& inbound) {
  auto report = sandbox::lock_down(spec);
  if (!report) {
    std::fprintf(stderr, "cqda %s: lockdown failed: %s\n", std::string(sandbox::role_name(spec.role)).c_str(),
                 report.error().message.c_str());
    return {nullptr, kChildLockdownFailed};
  }
  auto channel = std::make_unique<ipc::Channel>(std::move(channel_fd), inbound, "supervisor");
  if (!send_ready(*channel, report->summary())) return {nullptr, kChildProtocolError};
  return {std::move(channel), 0};
}

Result<std::string> await_ready(ChildProcess& child, int timeout_ms) {
  auto message = child.channel().receive(timeout_ms);
  if (!message) {
    std::string why = message.error().message;
    child.kill();
    return make_error("the " + child.name() + " did not start: " + why + "; " + child.describe_end());
  }
  if (message->type != wire(MessageType::kReady)) {
    child.kill();
    return make_error("the " + child.name() + " sent something else before its lockdown report");
  }
  return std::move(message->payload);
}

}  // namespace cqda::privsep
