// The demotion of a freshly forked child into its role, in the order DESIGN.md §4 and
// OpenSSH use: close every other fd; rlimits; PR_SET_DUMPABLE 0; PR_SET_NO_NEW_PRIVS;
// Landlock (best effort, reported); seccomp last. After lock_down returns the process can
// only do what its role's filter allows; on any failure the child must exit, never go on
// unconfined.
#pragma once

#include <sys/resource.h>

#include <string>
#include <vector>

#include "common/result.h"
#include "sandbox/landlock.h"
#include "sandbox/role.h"

namespace cqda::sandbox {

struct LockdownSpec {
  Role role = Role::kReader;
  int channel_fd = -1;         // the IPC socket to the supervisor; always kept
  std::vector<int> keep_fds;   // also kept (2 for last-gasp diagnostics, the input root, ...)
  int read_beneath_fd = -1;    // Landlock: read-only beneath this folder; -1 = no files
  bool threads = false;        // the role starts worker threads after lockdown
  rlim_t max_open_files = 64;
  // The role writes to a descriptor it was given that may be a regular file (the broker's
  // stdout when a client redirects it): no RLIMIT_FSIZE then.
  bool writes_given_files = false;
  int landlock_abi_limit = -1;  // tests stand in for older kernels; -1: what the kernel has
};

struct LockdownReport {
  Role role = Role::kReader;
  LandlockOutcome landlock;
  bool seccomp_relaxed = false;
  std::string summary() const;  // one line for the supervisor's log and the run log
};

Result<LockdownReport> lock_down(const LockdownSpec& spec);

// Closes every descriptor not in `keep` (close_range where the kernel has it).
Status close_other_fds(std::vector<int> keep);

}  // namespace cqda::sandbox
