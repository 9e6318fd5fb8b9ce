#include "sandbox/lockdown.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <thread>

#include "common/hash.h"
#include "sandbox/seccomp_policy.h"

namespace cqda::sandbox {
namespace {

Error errno_error(const std::string& what, int err) { return make_error(what + ": " + std::strerror(err)); }

Status set_limit(int resource, rlim_t value, const char* name) {
  struct rlimit limit {value, value};
  if (::setrlimit(resource, &limit) != 0) return errno_error(std::string("setrlimit(") + name + ")", errno);
  return Status::success();
}

// Closes [first, last] without close_range, by listing /proc/self/fd (kernels before 5.9).
Status close_listed(const std::vector<int>& keep) {
  DIR* dir = ::opendir("/proc/self/fd");
  if (!dir) return errno_error("opendir(/proc/self/fd)", errno);
  std::vector<int> doomed;
  while (dirent* entry = ::readdir(dir)) {
    char* end = nullptr;
    long fd = std::strtol(entry->d_name, &end, 10);
    if (*end != '\0' || end == entry->d_name) continue;
    if (fd == ::dirfd(dir) || std::binary_search(keep.begin(), keep.end(), static_cast<int>(fd))) continue;
    doomed.push_back(static_cast<int>(fd));
  }
  ::closedir(dir);
  for (int fd : doomed) ::close(fd);
  return Status::success();
}

}  // namespace

Status close_other_fds(std::vector<int> keep) {
  std::sort(keep.begin(), keep.end());
  keep.erase(std::unique(keep.begin(), keep.end()), keep.end());
  unsigned first = 0;
  for (int fd : keep) {
    if (fd < 0) continue;
    if (static_cast<unsigned>(fd) > first) {
      if (::syscall(SYS_close_range, first, static_cast<unsigned>(fd) - 1, 0) != 0)
        return errno == ENOSYS ? close_listed(keep) : errno_error("close_range", errno);
    }
    first = static_cast<unsigned>(fd) + 1;
  }
  if (::syscall(SYS_close_range, first, UINT_MAX, 0) != 0)
    return errno == ENOSYS ? close_listed(keep) : errno_error("close_range", errno);
  return Status::success();
}

std::string LockdownReport::summary() const {
  std::string out = std::string(role_name(role)) + ": seccomp allow-list (default kill)";
  if (seccomp_relaxed) out += " RELAXED for sanitizers - not for production";
  out += "; landlock " + landlock.applied;
  return out;
}

Result<LockdownReport> lock_down(const LockdownSpec& spec) {
  LockdownReport report;
  report.role = spec.role;

  // 0. OpenSSL reads its configuration and picks its SHA-256 code at the first hash: done
  //    now, while files may still be opened, so that no role hashes for the first time
  //    under its filters.
  (void)sha256("");

  // 1. Only the descriptors the role was given survive.
  std::vector<int> keep = spec.keep_fds;
  keep.push_back(spec.channel_fd);
  if (auto st = close_other_fds(keep); !st) return st.error();

  // 2. Resource limits: no core dumps (they would hold anonymization keys and raw text),
  //    no file growth (a role writes no files, except the broker's stdout when that is one;
  //    SIGXFSZ ignored so a write fails instead of killing), few descriptors, and no new processes for single-threaded roles.
  ::signal(SIGXFSZ, SIG_IGN);
  if (auto st = set_limit(RLIMIT_CORE, 0, "RLIMIT_CORE"); !st) return st.error();
  if (!spec.writes_given_files) {
    if (auto st = set_limit(RLIMIT_FSIZE, 0, "RLIMIT_FSIZE"); !st) return st.error();
  }
  if (auto st = set_limit(RLIMIT_NOFILE, spec.max_open_files, "RLIMIT_NOFILE"); !st) return st.error();
  // RLIMIT_NPROC counts threads too, so a threaded role relies on its clone filter instead.
  if (!spec.threads) {
    if (auto st = set_limit(RLIMIT_NPROC, 0, "RLIMIT_NPROC"); !st) return st.error();
  }

  // glibc installs its thread-cancellation signal handlers at the first pthread_create; do
  // that now, so a threaded role needs no rt_sigaction after lockdown.
  if (spec.threads) std::thread([] {}).join();

  // 3. No ptrace attach by same-uid processes, no /proc/<pid>/mem, no core.
  if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) return errno_error("prctl(PR_SET_DUMPABLE)", errno);
  // 4. No privilege gain through execve of set-id files; required by Landlock and seccomp.
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return errno_error("prctl(PR_SET_NO_NEW_PRIVS)", errno);

  // 5. Landlock: the file system and TCP walls.
  LandlockRules rules;
  rules.read_beneath_fd = spec.read_beneath_fd;
  rules.abi_limit = spec.landlock_abi_limit;
  auto landlock = apply_landlock(rules);
  if (!landlock) return landlock.error();
  report.landlock = std::move(landlock).value();

  // 6. seccomp last: from here on only the role's allow-list.
  report.seccomp_relaxed = seccomp_relaxed();
  SeccompContext context{spec.channel_fd, static_cast<int>(::getpid()), spec.threads,
                         report.landlock.enforced && report.landlock.abi >= 3};
  if (auto st = install_seccomp(spec.role, context); !st) return st.error();
  return report;
}

std::string_view role_name(Role role) {
  switch (role) {
    case Role::kReader: return "reader";
    case Role::kLlmCaller: return "llm-caller";
    case Role::kBroker: return "broker";
  }
  return "unknown";
}

}  // namespace cqda::sandbox
