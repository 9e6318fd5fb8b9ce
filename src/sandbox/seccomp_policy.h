// The seccomp-bpf allow-list of each role, built with libseccomp. Default action: kill the
// process. The architecture is checked (a foreign-ABI or x32 syscall kills too). Every rule
// carries a one-line reason; `describe` prints the table that docs/ARCHITECTURE.md quotes.
//
// A build with sanitizers (CQDA_SANDBOX_RELAXED) adds the calls their runtimes make and
// says so in the lockdown report: never ship such a build.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "sandbox/role.h"

namespace cqda::sandbox {

// One argument comparison: (arg[index] & mask) == value.
struct ArgCheck {
  unsigned index = 0;
  std::uint64_t mask = 0;
  std::uint64_t value = 0;
  std::string text;  // "fd == channel", "prot has no PROT_EXEC"
};

struct SyscallRule {
  enum class Kind { kAllow, kErrno };
  std::string syscall;
  Kind kind = Kind::kAllow;
  int error = 0;  // errno for kErrno
  std::optional<ArgCheck> check;
  std::string reason;
  std::optional<ArgCheck> also;  // a second condition, both must hold
};

struct SeccompContext {
  int channel_fd = -1;  // the only fd sendmsg/recvmsg may use
  int own_pid = 0;      // the only process tgkill may signal (abort() reports itself)
  bool threads = false; // clone with thread flags only
  // Landlock ABI 3+ is enforced, so it refuses any open for writing or truncation (O_TRUNC
  // is invisible to seccomp inside openat2's struct): the reader may use openat2. Below
  // that, openat2 answers ENOSYS (the reader falls back to a component-by-component openat
  // walk) and openat is allowed only with read-only flags, which seccomp can see.
  bool openat2_confined = true;
};

// The rules of `role`, in the order they are listed in the docs.
std::vector<SyscallRule> seccomp_rules(Role role, const SeccompContext& context);

// Builds and loads the filter for the calling thread (and threads created later).
Status install_seccomp(Role role, const SeccompContext& context);

// Human-readable table of a role's rules: "allow  read  — why", one per line.
std::string describe_seccomp(Role role);

// True in a build whose filters are relaxed for sanitizer runtimes.
bool seccomp_relaxed();

}  // namespace cqda::sandbox
