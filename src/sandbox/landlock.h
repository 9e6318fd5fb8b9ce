// Landlock (Linux 5.13+): an unprivileged process restricts its own file system and network
// access. Best effort by design: the ABI is detected at run time, rights the kernel does not
// know are masked off, and what was applied is reported so the caller can log it (a kernel
// without Landlock leaves seccomp and openat2 as the only walls, and the report says so).
#pragma once

#include <string>

#include "common/result.h"

namespace cqda::sandbox {

// The highest Landlock ABI the running kernel supports; 0 when it has none (or it is
// disabled at boot).
int landlock_abi();

struct LandlockRules {
  // -1: no file system access at all. Else a directory fd beneath which files may be read
  // and folders listed, and nothing else (no write, create, remove, execute, truncate, ioctl).
  int read_beneath_fd = -1;
  // Kernel ABI 4+: no TCP bind() or connect() at all.
  bool deny_tcp = true;
  // Kernel ABI 6+: no signals to, and no abstract unix sockets of, processes outside the domain.
  bool scope_signals_and_abstract_sockets = true;
  // Use at most this ABI (tests stand in for older kernels); -1: what the kernel has.
  int abi_limit = -1;
};

struct LandlockOutcome {
  int abi = 0;
  std::string applied;  // e.g. "ABI 7: fs read-only beneath the input root; tcp bind/connect denied; scoped"
  bool enforced = false;
};

// Restricts the calling thread and every thread or process it creates afterwards. Requires
// no_new_privs to be set already. Fails only when the kernel has Landlock and refuses the
// rules (a bug); on a kernel without it returns enforced = false.
Result<LandlockOutcome> apply_landlock(const LandlockRules& rules);

}  // namespace cqda::sandbox
