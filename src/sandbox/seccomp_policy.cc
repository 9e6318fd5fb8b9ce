#include "sandbox/seccomp_policy.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <seccomp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/mman.h>

#include <cstring>
#include <memory>

namespace cqda::sandbox {
namespace {

// Thread creation as glibc's pthread_create does it; any other clone (a new process, a new
// namespace) is refused because the mask includes those bits and the value does not.
constexpr std::uint64_t kThreadFlags =
    CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM;
constexpr std::uint64_t kCloneCheckedMask = kThreadFlags | CLONE_NEWNS | CLONE_NEWUSER | CLONE_NEWPID |
                                            CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP |
                                            CLONE_VFORK | CLONE_PARENT | CLONE_PTRACE;
constexpr std::uint64_t kLow32 = 0xffffffffull;
// Open flags that could change a file. O_TMPFILE is a bit of its own plus O_DIRECTORY (glibc's
// __O_TMPFILE includes O_DIRECTORY too), so only the bit of its own goes into the mask.
constexpr std::uint64_t kTmpfileBit = 020000000;
constexpr std::uint64_t kReadOnlyMask = O_ACCMODE | O_CREAT | O_TRUNC | O_APPEND | kTmpfileBit;

class RuleList {
 public:
  explicit RuleList(std::vector<SyscallRule>& rules) : rules_(rules) {}
  void allow(const char* name, const char* reason) {
    rules_.push_back({name, SyscallRule::Kind::kAllow, 0, std::nullopt, reason});
  }
  void allow_if(const char* name, ArgCheck check, const char* reason) {
    rules_.push_back({name, SyscallRule::Kind::kAllow, 0, std::move(check), reason});
  }
  void allow_if_both(const char* name, ArgCheck check, ArgCheck also, const char* reason) {
    rules_.push_back({name, SyscallRule::Kind::kAllow, 0, std::move(check), reason, std::move(also)});
  }
  void refuse(const char* name, int error, const char* reason) {
    rules_.push_back({name, SyscallRule::Kind::kErrno, error, std::nullopt, reason});
  }

 private:
  std::vector<SyscallRule>& rules_;
};

// A 32-bit argument (an fd, a pid) equals `value`; the upper half of the register is ignored.
ArgCheck arg_is(unsigned index, int value, std::string text) {
  return {index, kLow32, static_cast<std::uint64_t>(static_cast<std::uint32_t>(value)), std::move(text)};
}

// What every role needs to run C++ at all: memory, locks, time, its channel, its exit.
void add_base(RuleList& r, const SeccompContext& c, bool client_sockets = false) {
  r.allow("brk", "malloc grows the heap");
  r.allow_if("mmap", {2, PROT_EXEC, 0, "prot without PROT_EXEC"}, "malloc maps large blocks; never executable");
  r.allow_if("mprotect", {2, PROT_EXEC, 0, "prot without PROT_EXEC"}, "glibc guard pages; never executable");
  r.allow("munmap", "free large blocks");
  r.allow("mremap", "realloc of large blocks");
  r.allow("madvise", "malloc returns memory to the kernel");
  r.allow("futex", "mutexes and condition variables");
  r.allow("clock_gettime", "timing of stages (vDSO fallback)");
  r.allow("getpid", "abort() finds its own process");
  r.allow("gettid", "abort() finds its own thread");
  r.allow_if("tgkill", arg_is(0, c.own_pid, "pid == own pid"), "abort() signals only this process");
  r.allow("rt_sigprocmask", "abort() and thread start mask signals");
  r.allow("rt_sigreturn", "return from a signal handler");
  r.allow("restart_syscall", "resume a call interrupted by a stop signal");
  r.allow("getrandom", "hash seeds and libsodium's CSPRNG");
  if (!client_sockets) {
    r.allow_if("sendmsg", arg_is(0, c.channel_fd, "fd == channel"), "IPC to the supervisor, only on the channel");
    r.allow_if("recvmsg", arg_is(0, c.channel_fd, "fd == channel"), "IPC from the supervisor, only on the channel");
  }
  r.allow("poll", "wait for the channel with a timeout");
  r.allow("ppoll", "wait for the channel with a timeout");
  r.allow("close", "release descriptors it holds");
  r.allow("exit", "a thread ends");
  r.allow("exit_group", "the process ends");
  r.refuse("open", EACCES, "library probes of files fail softly");
  r.refuse("statx", ENOSYS, "glibc falls back to fstat/newfstatat");
  r.refuse("clone3", ENOSYS, "glibc falls back to clone, whose flags a filter can check");
  if (c.threads) {
    r.allow_if("clone", {0, kCloneCheckedMask, kThreadFlags, "thread flags only, no namespaces"},
               "start worker threads; never a new process");
    r.allow("set_robust_list", "a new thread registers its futex list");
    r.allow("rseq", "a new thread registers restartable sequences");
  }
}

void add_reader(RuleList& r, const SeccompContext& c) {
  add_base(r, c);
  if (c.openat2_confined) {
    r.allow("openat2", "open input files beneath the root (RESOLVE_BENEATH, no symlinks); Landlock refuses writes");
    r.refuse("openat", EACCES, "library probes of files fail softly; the reader opens with openat2 only");
  } else {
    r.refuse("openat2", ENOSYS, "Landlock below ABI 3 cannot refuse O_TRUNC: fall back to openat");
    r.allow_if("openat", {2, kReadOnlyMask, 0, "flags read-only: no write, create, truncate, append, tmpfile"},
               "open input files one component at a time (O_NOFOLLOW), read-only");
  }
  r.allow("read", "read input files");
  r.allow("getdents64", "list input folders");
  r.allow("newfstatat", "check an entry's type without following symlinks (AT_SYMLINK_NOFOLLOW)");
  // No write at all: not even stderr, which would be a way out for raw text (container logs).
}

// glibc's fstat is newfstatat(fd, "", AT_EMPTY_PATH), which seccomp cannot tell from a stat
// of any path: refused, so stdio falls back to its default buffer size.
void refuse_stat(RuleList& r) {
  r.refuse("newfstatat", EACCES, "stat of paths is not needed; stdio works without fstat");
  r.refuse("openat", EACCES, "library probes of files fail softly");
}

void add_llm_caller(RuleList& r, const SeccompContext& c) {
  add_base(r, c);
  refuse_stat(r);
  r.allow("read", "read responses from the connected sockets it was handed");
  r.allow("write", "send requests on the connected sockets it was handed, diagnostics on stderr");
  r.allow_if("sendto", {4, ~0ull, 0, "no destination address"}, "send on a connected socket only");
  r.allow_if("recvfrom", {4, ~0ull, 0, "no source address buffer"}, "receive on a connected socket");
  r.allow("shutdown", "end a request's connection");
}

void add_broker(RuleList& r, const SeccompContext& c) {
  add_base(r, c, true);
  refuse_stat(r);
  // Asio reads and writes sockets with recvmsg/sendmsg. The broker holds no socket but its
  // channel, the listener and accepted clients, and makes none (no socket, connect): an fd
  // it sent the supervisor would be refused and closed there.
  r.allow("sendmsg", "IPC to the supervisor; answers to clients (Asio)");
  r.allow("recvmsg", "IPC from the supervisor; client requests (Asio)");
  r.allow_if("getsockopt", arg_is(1, SOL_SOCKET, "level == SOL_SOCKET"), "check the listener (SO_ACCEPTCONN) and socket errors");
  r.allow_if_both("setsockopt", arg_is(1, IPPROTO_TCP, "level == IPPROTO_TCP"), arg_is(2, TCP_NODELAY, "optname == TCP_NODELAY"),
                  "TCP_NODELAY on client connections (no other option: TCP_ULP and the like stay out of reach)");
  r.allow("eventfd2", "the event loop's wake-up descriptor");
  r.allow("timerfd_create", "the event loop's timer descriptor");
  r.allow("accept4", "accept clients on the listening socket made before lockdown");
  r.allow("accept", "accept clients (Asio calls accept, then sets flags)");
  r.allow("read", "read client requests (stdio or accepted sockets)");
  r.allow("write", "answer clients; diagnostics on stderr");
  r.allow("shutdown", "end a client connection");
  r.allow("epoll_create1", "the event loop's reactor");
  r.allow("epoll_ctl", "register client sockets with the reactor");
  r.allow("epoll_wait", "wait for client sockets");
  r.allow("epoll_pwait", "wait for client sockets");
  r.allow("timerfd_settime", "request timeouts of the reactor");
  r.allow_if("ioctl", {1, kLow32, FIONBIO, "request == FIONBIO"}, "make accepted sockets non-blocking");
  r.allow_if("fcntl", {1, kLow32, F_GETFL, "cmd == F_GETFL"}, "read descriptor flags");
  r.allow_if("fcntl", {1, kLow32, F_SETFL, "cmd == F_SETFL"}, "set O_NONBLOCK");
  r.allow("getsockname", "log the address a client reached");
  r.allow("getpeername", "log the client address");
}

// Sanitizer runtimes read /proc, query limits and the terminal.
void add_relaxed(RuleList& r) {
  r.allow("sched_getaffinity", "sanitizer runtime (relaxed build)");
  r.allow("getrusage", "sanitizer runtime (relaxed build)");
  r.allow("ioctl", "sanitizer runtime (relaxed build)");
  r.allow("write", "sanitizer reports (relaxed build)");
  r.allow("readlink", "sanitizer symbolizer (relaxed build)");
  r.allow("sigaltstack", "sanitizer runtime (relaxed build)");
  r.allow("rt_sigaction", "sanitizer runtime (relaxed build)");
  r.allow("prctl", "sanitizer runtime (relaxed build)");
  r.allow("getpid", "sanitizer runtime (relaxed build)");
}

struct FilterDeleter {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};

Error seccomp_error(const std::string& what, int rc) {
  return make_error("seccomp: " + what + ": " + std::strerror(-rc));
}

}  // namespace

bool seccomp_relaxed() {
#ifdef CQDA_SANDBOX_RELAXED
  return true;
#else
  return false;
#endif
}

std::vector<SyscallRule> seccomp_rules(Role role, const SeccompContext& context) {
  std::vector<SyscallRule> rules;
  RuleList list(rules);
  switch (role) {
    case Role::kReader: add_reader(list, context); break;
    case Role::kLlmCaller: add_llm_caller(list, context); break;
    case Role::kBroker: add_broker(list, context); break;
  }
  if (seccomp_relaxed()) add_relaxed(list);
  return rules;
}

Status install_seccomp(Role role, const SeccompContext& context) {
  std::unique_ptr<void, FilterDeleter> ctx(seccomp_init(SCMP_ACT_KILL_PROCESS));
  if (!ctx) return make_error("seccomp_init failed");
  // A syscall of another ABI (i386 via int 0x80, x32) kills as well.
  if (int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS); rc < 0)
    return seccomp_error("bad-architecture action", rc);
  for (const SyscallRule& rule : seccomp_rules(role, context)) {
    int nr = seccomp_syscall_resolve_name(rule.syscall.c_str());
    if (nr == __NR_SCMP_ERROR) return make_error("seccomp: unknown syscall " + rule.syscall);
    std::uint32_t action = rule.kind == SyscallRule::Kind::kAllow ? SCMP_ACT_ALLOW : SCMP_ACT_ERRNO(rule.error);
    int rc = rule.also    ? seccomp_rule_add(ctx.get(), action, nr, 2,
                                             SCMP_CMP(rule.check->index, SCMP_CMP_MASKED_EQ, rule.check->mask,
                                                      rule.check->value),
                                             SCMP_CMP(rule.also->index, SCMP_CMP_MASKED_EQ, rule.also->mask,
                                                      rule.also->value))
             : rule.check ? seccomp_rule_add(ctx.get(), action, nr, 1,
                                             SCMP_CMP(rule.check->index, SCMP_CMP_MASKED_EQ, rule.check->mask,
                                                      rule.check->value))
                          : seccomp_rule_add(ctx.get(), action, nr, 0);
    // Only a relaxed build adds an unconditional allow next to a conditional one (EEXIST).
    if (rc < 0 && !(rc == -EEXIST && seccomp_relaxed())) return seccomp_error("rule for " + rule.syscall, rc);
  }
  if (int rc = seccomp_load(ctx.get()); rc < 0) return seccomp_error("load", rc);
  return Status::success();
}

std::string describe_seccomp(Role role) {
  SeccompContext context{3, 1, role == Role::kReader || role == Role::kBroker, true};
  std::string out;
  for (const SyscallRule& rule : seccomp_rules(role, context)) {
    std::string action = rule.kind == SyscallRule::Kind::kAllow ? "allow" : std::string("errno ") + strerrorname_np(rule.error);
    out += action + "  " + rule.syscall;
    if (rule.check) out += " (" + rule.check->text + (rule.also ? ", " + rule.also->text : "") + ")";
    out += "  - " + rule.reason + "\n";
  }
  out += "default: kill the process (also for any other architecture or the x32 ABI)\n";
  return out;
}

}  // namespace cqda::sandbox
