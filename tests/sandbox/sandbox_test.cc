// Each role's real lockdown, then what the role must not do: the process must die of
// SIGSYS (seccomp) or get EACCES/EPERM (Landlock, or seccomp's errno answers), and what the
// role needs must still work (a filter that kills everything would pass the first half).
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <linux/openat2.h>
#include <poll.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <functional>
#include <string>
#include <thread>

#include "sandbox/landlock.h"
#include "sandbox/lockdown.h"
#include "sandbox/seccomp_policy.h"
#include "support/test_support.h"

using namespace cqda;
using sandbox::Role;

namespace {

struct Outcome {
  bool signaled = false;
  int signal = 0;
  int exit_code = -1;
};

// Descriptors a test's `prepare` made before lockdown, for its `attempt` to use.
std::vector<int> prepared;

// Forks; the child runs `prepare` (before lockdown: make sockets, return fds to keep), locks
// down as `role` (Landlock limited to `abi_limit` when >= 0, standing in for an older kernel)
// and runs `attempt`, whose return value becomes its exit status (by convention the errno of
// the refused call, 0 for success).
Outcome run_locked_down(Role role, int read_root_fd, const std::function<int(int channel)>& attempt,
                        int abi_limit = -1, const std::function<std::vector<int>()>& prepare = {}) {
  int pair[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    sandbox::LockdownSpec spec;
    spec.role = role;
    spec.channel_fd = pair[1];
    spec.keep_fds = {STDERR_FILENO};
    if (read_root_fd >= 0) spec.keep_fds.push_back(read_root_fd);
    spec.read_beneath_fd = read_root_fd;
    spec.threads = role != Role::kLlmCaller;
    spec.landlock_abi_limit = abi_limit;
    if (prepare) {
      prepared = prepare();
      spec.keep_fds.insert(spec.keep_fds.end(), prepared.begin(), prepared.end());
    }
    auto report = sandbox::lock_down(spec);
    if (!report) ::_exit(200);
    ::_exit(attempt(pair[1]));
  }
  ::close(pair[0]);
  ::close(pair[1]);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  Outcome outcome;
  if (WIFSIGNALED(status)) {
    outcome.signaled = true;
    outcome.signal = WTERMSIG(status);
  } else {
    outcome.exit_code = WEXITSTATUS(status);
  }
  return outcome;
}

void require_killed_by_seccomp(const Outcome& o) {
  INFO("signaled=" << o.signaled << " signal=" << o.signal << " exit=" << o.exit_code);
  REQUIRE(o.signaled);
  REQUIRE(o.signal == SIGSYS);
}

void require_refused(const Outcome& o, int error) {
  INFO("signaled=" << o.signaled << " signal=" << o.signal << " exit=" << o.exit_code);
  REQUIRE_FALSE(o.signaled);
  REQUIRE(o.exit_code == error);
}

int result_errno(long rc) { return rc < 0 ? errno : 0; }

long open2(int dir, const char* path, int flags, bool confined = true) {
  open_how how{};
  how.flags = static_cast<std::uint64_t>(flags | O_CLOEXEC);
  how.mode = flags & O_CREAT ? 0600 : 0;
  how.resolve = confined ? RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS : 0;
  return ::syscall(SYS_openat2, dir, path, &how, sizeof how);
}
// What a compromised reader would try: openat2 without the confining resolve flags.
long open2_unconfined(int dir, const char* path, int flags) { return open2(dir, path, flags, false); }

int try_socket(int) { return result_errno(::socket(AF_INET, SOCK_STREAM, 0)); }
int try_unix_socket(int) { return result_errno(::socket(AF_UNIX, SOCK_STREAM, 0)); }
int try_connect(int channel) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(9);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return result_errno(::connect(channel, reinterpret_cast<sockaddr*>(&addr), sizeof addr));
}
int try_execve(int) {
  char* argv[] = {const_cast<char*>("/bin/true"), nullptr};
  char* envp[] = {nullptr};
  return result_errno(::execve("/bin/true", argv, envp));
}
int try_ptrace(int) { return result_errno(::ptrace(PTRACE_TRACEME, 0, nullptr, nullptr)); }
int try_fork(int) {
  pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  return result_errno(pid);
}
int try_openat_passwd(int) { return result_errno(::openat(AT_FDCWD, "/etc/passwd", O_RDONLY | O_CLOEXEC)); }
int try_openat2_passwd(int) { return result_errno(open2_unconfined(AT_FDCWD, "/etc/passwd", O_RDONLY)); }
int try_exec_mapping(int) {
  void* p = ::mmap(nullptr, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? errno : 0;
}
// The x32 ABI shares the x86-64 entry point with bit 30 set on the number: getpid is allowed
// natively, so only the ABI check can kill this.
int try_x32_getpid(int) { return result_errno(::syscall(0x40000000L | SYS_getpid)); }
int try_x32_socket(int) { return result_errno(::syscall(0x40000000L | SYS_socket, AF_INET, SOCK_STREAM, 0)); }
// The i386 ABI through int 0x80: getpid is number 20 there.
int try_i386_getpid(int) {
  long rc = 20;
  asm volatile("int $0x80" : "+a"(rc) : : "memory");
  return rc < 0 ? static_cast<int>(-rc) : 0;
}

}  // namespace

TEST_CASE("the kernel has Landlock and the report says what was applied", "[sandbox]") {
  int abi = sandbox::landlock_abi();
  WARN("Landlock ABI " << abi);
  CHECK(abi >= 1);
}

TEST_CASE("every role's seccomp table gives a reason for each rule", "[sandbox]") {
  for (Role role : {Role::kReader, Role::kLlmCaller, Role::kBroker}) {
    auto rules = sandbox::seccomp_rules(role, {3, 1, true});
    REQUIRE_FALSE(rules.empty());
    for (const auto& rule : rules) {
      INFO(rule.syscall);
      CHECK_FALSE(rule.reason.empty());
      // No role may create sockets, connect, exec or trace: not even by accident.
      CHECK(rule.syscall != "socket");
      CHECK(rule.syscall != "connect");
      CHECK(rule.syscall != "execve");
      CHECK(rule.syscall != "execveat");
      CHECK(rule.syscall != "ptrace");
    }
    CHECK(sandbox::describe_seccomp(role).find("default: kill") != std::string::npos);
  }
}

TEST_CASE("reader: reads beneath its root and nothing else", "[sandbox][reader]") {
  test::TempDir dir;
  test::write_text(dir.path() / "input/interview.txt", "hello");
  test::write_text(dir.path() / "outside.txt", "secret");
  int root = ::open((dir.path() / "input").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  REQUIRE(root >= 0);

  SECTION("what it needs still works: openat2 + read beneath the root, threads") {
    auto outcome = run_locked_down(Role::kReader, root, [root](int) {
      long fd = open2(root, "interview.txt", O_RDONLY);
      if (fd < 0) return 100 + errno;
      char buf[8] = {};
      if (::read(static_cast<int>(fd), buf, sizeof buf) != 5 || std::string(buf) != "hello") return 99;
      int value = 0;
      std::thread([&] { value = 7; }).join();
      return value == 7 ? 0 : 98;
    });
    require_refused(outcome, 0);
  }
  SECTION("no sockets, no connect, no exec, no ptrace, no fork") {
    require_killed_by_seccomp(run_locked_down(Role::kReader, root, try_socket));
    require_killed_by_seccomp(run_locked_down(Role::kReader, root, try_unix_socket));
    require_killed_by_seccomp(run_locked_down(Role::kReader, root, try_connect));
    require_killed_by_seccomp(run_locked_down(Role::kReader, root, try_execve));
    require_killed_by_seccomp(run_locked_down(Role::kReader, root, try_ptrace));
    require_killed_by_seccomp(run_locked_down(Role::kReader, root, try_fork));
    require_killed_by_seccomp(run_locked_down(Role::kReader, root, try_exec_mapping));
  }
  SECTION("no writes: open for write is refused by Landlock, write() outside stderr kills") {
    require_refused(run_locked_down(Role::kReader, root, [root](int) { return result_errno(open2(root, "new.txt", O_WRONLY | O_CREAT)); }),
                    EACCES);
    require_refused(run_locked_down(Role::kReader, root, [root](int) { return result_errno(open2(root, "interview.txt", O_RDWR)); }),
                    EACCES);
    require_killed_by_seccomp(run_locked_down(Role::kReader, root, [](int channel) {
      return result_errno(::write(channel, "x", 1));
    }));
    // Not even stderr: it would be a way out for raw text (container logs).
    require_killed_by_seccomp(run_locked_down(Role::kReader, root, [](int) { return result_errno(::write(2, "x", 1)); }));
    // O_TRUNC rides inside openat2's struct, out of seccomp's sight: Landlock ABI 3+ refuses it.
    require_refused(run_locked_down(Role::kReader, root, [root](int) {
      return result_errno(open2_unconfined(root, "interview.txt", O_RDONLY | O_TRUNC));
    }), EACCES);
    require_killed_by_seccomp(run_locked_down(Role::kReader, root, [root](int) {
      return result_errno(::unlinkat(root, "interview.txt", 0));
    }));
    require_killed_by_seccomp(run_locked_down(Role::kReader, root, [root](int) {
      return result_errno(::ftruncate(root, 0));
    }));
    REQUIRE(test::slurp(dir.path() / "input/interview.txt") == "hello");
    REQUIRE_FALSE(std::filesystem::exists(dir.path() / "input/new.txt"));
  }
  SECTION("nothing outside the root: Landlock refuses openat2, seccomp answers openat") {
    require_refused(run_locked_down(Role::kReader, root, try_openat2_passwd), EACCES);
    require_refused(run_locked_down(Role::kReader, root, try_openat_passwd), EACCES);
    std::string outside = (dir.path() / "outside.txt").string();
    require_refused(run_locked_down(Role::kReader, root, [&](int) { return result_errno(open2_unconfined(AT_FDCWD, outside.c_str(), O_RDONLY)); }),
                    EACCES);
    require_refused(run_locked_down(Role::kReader, root, [root](int) { return result_errno(open2_unconfined(root, "../outside.txt", O_RDONLY)); }),
                    EACCES);
    require_refused(run_locked_down(Role::kReader, root, [root](int) { return result_errno(open2(root, "../outside.txt", O_RDONLY)); }),
                    EXDEV);
    require_refused(run_locked_down(Role::kReader, root, [root](int) { return result_errno(open2_unconfined(root, "new.txt", O_WRONLY | O_CREAT)); }),
                    EACCES);
  }
  SECTION("no executable memory, no signals to other processes") {
    require_killed_by_seccomp(run_locked_down(Role::kReader, root, [](int) {
      void* p = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      return result_errno(::mprotect(p, 4096, PROT_READ | PROT_EXEC));
    }));
    require_killed_by_seccomp(run_locked_down(Role::kReader, root, [](int) { return result_errno(::kill(::getppid(), 0)); }));
    require_killed_by_seccomp(run_locked_down(Role::kReader, root, [](int) {
      return result_errno(::syscall(SYS_tgkill, ::getppid(), ::getppid(), 0));
    }));
  }
  SECTION("other ABIs are killed: x32 and i386") {
    require_killed_by_seccomp(run_locked_down(Role::kReader, root, try_x32_getpid));
    require_killed_by_seccomp(run_locked_down(Role::kReader, root, try_x32_socket));
    require_killed_by_seccomp(run_locked_down(Role::kReader, root, try_i386_getpid));
  }
  ::close(root);
}

TEST_CASE("reader on an older kernel: read-only openat instead of openat2, so truncation stays impossible", "[sandbox][reader]") {
  test::TempDir dir;
  test::write_text(dir.path() / "input/interview.txt", "hello");
  int root = ::open((dir.path() / "input").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  REQUIRE(root >= 0);
  for (int abi : {2, 0}) {
    INFO("Landlock ABI limited to " << abi);
    // openat2 answers ENOSYS, so the reader's component walk takes over...
    require_refused(run_locked_down(Role::kReader, root, [root](int) { return result_errno(open2(root, "interview.txt", O_RDONLY)); }, abi),
                    ENOSYS);
    // ...and a read-only openat still reads.
    require_refused(run_locked_down(Role::kReader, root, [root](int) {
      int fd = ::openat(root, "interview.txt", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0) return 100 + errno;
      char buf[8] = {};
      return ::read(fd, buf, sizeof buf) == 5 ? 0 : 99;
    }, abi), 0);
    for (int flags : {O_RDONLY | O_TRUNC, O_WRONLY, O_RDWR, O_RDONLY | O_CREAT, O_WRONLY | O_APPEND}) {
      INFO("flags " << flags);
      require_killed_by_seccomp(run_locked_down(Role::kReader, root, [root, flags](int) {
        return result_errno(::openat(root, "interview.txt", flags | O_CLOEXEC, 0600));
      }, abi));
    }
    REQUIRE(test::slurp(dir.path() / "input/interview.txt") == "hello");
  }
  ::close(root);
}

TEST_CASE("llm caller: no files, no sockets of its own, no exec", "[sandbox][llm]") {
  SECTION("what it needs still works: write, send, read and recv on sockets it was handed") {
    auto prepare = [] {
      int sp[2];
      ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp);
      return std::vector<int>{sp[0], sp[1]};
    };
    auto outcome = run_locked_down(Role::kLlmCaller, -1, [](int) {
      const int a = prepared[0], b = prepared[1];
      char buf[8] = {};
      if (::send(a, "ping", 4, MSG_NOSIGNAL) != 4 || ::read(b, buf, sizeof buf) != 4) return 101;
      if (::write(b, "pong", 4) != 4 || ::recv(a, buf, sizeof buf, 0) != 4 || std::string(buf, 4) != "pong") return 102;
      pollfd p{a, POLLOUT, 0};
      if (::poll(&p, 1, 0) != 1) return 99;
      // A last-gasp diagnostic on stderr does not kill it (stdio's first use stats the fd).
      std::fprintf(stderr, "llm-caller test: stderr still works after lockdown\n");
      return 0;
    }, -1, prepare);
    require_refused(outcome, 0);
  }
  SECTION("files") {
    require_refused(run_locked_down(Role::kLlmCaller, -1, try_openat_passwd), EACCES);
    require_refused(run_locked_down(Role::kLlmCaller, -1, [](int) { return result_errno(::open("/etc/hosts", O_RDONLY)); }), EACCES);
    require_killed_by_seccomp(run_locked_down(Role::kLlmCaller, -1, try_openat2_passwd));
  }
  SECTION("network and processes") {
    require_killed_by_seccomp(run_locked_down(Role::kLlmCaller, -1, try_socket));
    require_killed_by_seccomp(run_locked_down(Role::kLlmCaller, -1, try_connect));
    require_killed_by_seccomp(run_locked_down(Role::kLlmCaller, -1, try_execve));
    require_killed_by_seccomp(run_locked_down(Role::kLlmCaller, -1, try_fork));
    require_killed_by_seccomp(run_locked_down(Role::kLlmCaller, -1, try_ptrace));
    require_killed_by_seccomp(run_locked_down(Role::kLlmCaller, -1, [](int) {
      return result_errno(::sendto(0, "x", 1, 0, reinterpret_cast<const sockaddr*>(&errno), 16));
    }));
  }
  SECTION("other ABIs") {
    require_killed_by_seccomp(run_locked_down(Role::kLlmCaller, -1, try_x32_socket));
    require_killed_by_seccomp(run_locked_down(Role::kLlmCaller, -1, try_i386_getpid));
  }
}

TEST_CASE("broker: no view of the input, no outbound connections, no exec", "[sandbox][broker]") {
  test::TempDir dir;
  test::write_text(dir.path() / "input/interview.txt", "raw words");
  const std::string inside = (dir.path() / "input/interview.txt").string();
  const std::string folder = (dir.path() / "input").string();
  SECTION("the input root: open, openat and openat2 all fail") {
    require_refused(run_locked_down(Role::kBroker, -1, [&](int) { return result_errno(::open(inside.c_str(), O_RDONLY)); }), EACCES);
    require_refused(run_locked_down(Role::kBroker, -1, [&](int) { return result_errno(::openat(AT_FDCWD, folder.c_str(), O_RDONLY | O_DIRECTORY)); }),
                    EACCES);
    require_killed_by_seccomp(run_locked_down(Role::kBroker, -1, [&](int) { return result_errno(open2_unconfined(AT_FDCWD, inside.c_str(), O_RDONLY)); }));
  }
  SECTION("what it needs still works: accept, epoll, read and write, threads") {
    auto prepare = [] {
      int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      socklen_t len = sizeof addr;
      ::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
      ::listen(listener, 4);
      ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
      int client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      ::connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
      return std::vector<int>{listener, client};
    };
    auto outcome = run_locked_down(Role::kBroker, -1, [](int) {
      const int listener = prepared[0], client = prepared[1];
      int served = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (served < 0) return 100 + errno;
      int ep = ::epoll_create1(EPOLL_CLOEXEC);
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.fd = served;
      if (ep < 0 || ::epoll_ctl(ep, EPOLL_CTL_ADD, served, &ev) != 0) return 101;
      if (::write(client, "GET", 3) != 3) return 102;
      epoll_event out{};
      if (::epoll_wait(ep, &out, 1, 2000) != 1) return 103;
      char buf[4] = {};
      if (::read(served, buf, sizeof buf) != 3 || ::write(served, "OK", 2) != 2) return 104;
      int value = 0;
      std::thread([&] { value = 1; }).join();
      return value == 1 ? 0 : 105;
    }, -1, prepare);
    require_refused(outcome, 0);
  }
  SECTION("connect, socket, exec") {
    require_killed_by_seccomp(run_locked_down(Role::kBroker, -1, try_connect));
    require_killed_by_seccomp(run_locked_down(Role::kBroker, -1, try_socket));
    require_killed_by_seccomp(run_locked_down(Role::kBroker, -1, try_execve));
    require_killed_by_seccomp(run_locked_down(Role::kBroker, -1, try_fork));
  }
  SECTION("other ABIs") {
    require_killed_by_seccomp(run_locked_down(Role::kBroker, -1, try_x32_getpid));
    require_killed_by_seccomp(run_locked_down(Role::kBroker, -1, try_i386_getpid));
  }
}
