// A sandboxed child process and the supervisor's handle on it. spawn() forks; the child
// arms PR_SET_PDEATHSIG (it never outlives the supervisor), runs `child_main` with its end
// of the channel and exits with what that returns; it never returns into the caller's code
// and never runs atexit handlers. The supervisor must be single-threaded when it spawns
// (fork copies only the calling thread; a lock held by another thread would stay held).
//
// The handle kills and reaps the child when destroyed. A child that ends abnormally is
// described in words ("the reader was killed by SIGSYS: ...") for the caller to report;
// there is no respawn.
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>

#include "common/fd.h"
#include "common/result.h"
#include "ipc/channel.h"
#include "sandbox/lockdown.h"

namespace cqda::privsep {

// Exit statuses a child uses (besides 0 = its channel was closed, work done).
inline constexpr int kChildProtocolError = 3;  // the supervisor sent something not permitted
inline constexpr int kChildLockdownFailed = 4;
inline constexpr int kChildInternalError = 70;

class ChildProcess {
 public:
  // `inbound`: what the child may send. `child_main` runs in the child with the channel fd.
  static Result<std::unique_ptr<ChildProcess>> spawn(std::string name, ipc::PermitTable inbound,
                                                     const std::function<int(UniqueFd channel)>& child_main);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;

  const std::string& name() const { return name_; }
  pid_t pid() const { return pid_; }
  ipc::Channel& channel() { return *channel_; }

  // Closes the channel and waits for the exit: ok when the child exited 0, else an error
  // describing how it ended.
  Status finish(int timeout_ms = 10000);
  // Ends the child at once (a protocol violation: fail closed) and reaps it.
  void kill();
  // After the channel failed: whether the child is gone, and how it ended, in words.
  std::string describe_end();

 private:
  ChildProcess(std::string name, pid_t pid, UniqueFd fd, ipc::PermitTable inbound);
  std::string describe_status(int status) const;
  bool reap(int timeout_ms);  // true when the child was reaped

  std::string name_;
  pid_t pid_ = -1;
  ipc::PermitTable inbound_;  // before channel_, which refers to it
  std::unique_ptr<ipc::Channel> channel_;
  bool reaped_ = false;
  int status_ = 0;
};

// In the child: the lockdown report goes to the supervisor as the first message.
Status send_ready(ipc::Channel& channel, const std::string& report);

// In the child: locks down as `spec` says, then opens the channel to the supervisor (which
// may send what `inbound` permits) and reports `ready`. On failure the child must exit with
// `exit_status` (a failed lockdown is also written to stderr, which still works then).
struct LockedDown {
  std::unique_ptr<ipc::Channel> channel;  // null on failure
  int exit_status = 0;
};
LockedDown lock_down_and_report(const sandbox::LockdownSpec& spec, UniqueFd channel_fd, const ipc::PermitTable& inbound);
// In the supervisor: waits for `ready` and returns the report text.
Result<std::string> await_ready(ChildProcess& child, int timeout_ms = 30000);

}  // namespace cqda::privsep
