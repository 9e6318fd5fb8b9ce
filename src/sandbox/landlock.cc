#include "sandbox/landlock.h"

#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <algorithm>
#include <cstring>

#include "common/fd.h"

namespace cqda::sandbox {
namespace {

// The kernel's ABI, spelled out here because Debian 12's headers stop at ABI 2.
constexpr std::uint32_t kCreateRulesetVersion = 1u << 0;
constexpr int kRulePathBeneath = 1;

constexpr std::uint64_t kFsReadFile = 1ull << 2;
constexpr std::uint64_t kFsReadDir = 1ull << 3;
constexpr std::uint64_t kFsAbi1 = (1ull << 13) - 1;  // execute .. make_sym
constexpr std::uint64_t kFsRefer = 1ull << 13;       // ABI 2
constexpr std::uint64_t kFsTruncate = 1ull << 14;    // ABI 3
constexpr std::uint64_t kFsIoctlDev = 1ull << 15;    // ABI 5
constexpr std::uint64_t kNetBindTcp = 1ull << 0;     // ABI 4
constexpr std::uint64_t kNetConnectTcp = 1ull << 1;  // ABI 4
constexpr std::uint64_t kScopeAbstractUnixSocket = 1ull << 0;  // ABI 6
constexpr std::uint64_t kScopeSignal = 1ull << 1;              // ABI 6

struct RulesetAttr {
  std::uint64_t handled_access_fs = 0;
  std::uint64_t handled_access_net = 0;
  std::uint64_t scoped = 0;
};

struct __attribute__((packed)) PathBeneathAttr {
  std::uint64_t allowed_access = 0;
  std::int32_t parent_fd = -1;
};

std::uint64_t fs_rights(int abi) {
  std::uint64_t rights = kFsAbi1;
  if (abi >= 2) rights |= kFsRefer;
  if (abi >= 3) rights |= kFsTruncate;
  if (abi >= 5) rights |= kFsIoctlDev;
  return rights;
}

// The attribute size the kernel of this ABI knows: older kernels refuse unknown non-zero
// fields, and copy_struct_from_user accepts a shorter struct.
std::size_t attr_size(int abi) {
  if (abi >= 6) return sizeof(RulesetAttr);
  if (abi >= 4) return offsetof(RulesetAttr, scoped);
  return offsetof(RulesetAttr, handled_access_net);
}

Error landlock_error(const char* call, int err) {
  return make_error(std::string(call) + ": " + std::strerror(err));
}

}  // namespace

int landlock_abi() {
  long abi = ::syscall(SYS_landlock_create_ruleset, nullptr, 0, kCreateRulesetVersion);
  return abi < 0 ? 0 : static_cast<int>(abi);
}

Result<LandlockOutcome> apply_landlock(const LandlockRules& rules) {
  LandlockOutcome outcome;
  outcome.abi = landlock_abi();
  if (rules.abi_limit >= 0) outcome.abi = std::min(outcome.abi, rules.abi_limit);
  if (outcome.abi <= 0) {
    outcome.applied = "not available in this kernel: file system and network limits rest on seccomp alone";
    return outcome;
  }
  RulesetAttr attr;
  attr.handled_access_fs = fs_rights(outcome.abi);
  std::string applied = "ABI " + std::to_string(outcome.abi) + ": ";
  applied += rules.read_beneath_fd >= 0 ? "file system read-only beneath one folder" : "no file system access";
  if (rules.deny_tcp) {
    if (outcome.abi >= 4) {
      attr.handled_access_net = kNetBindTcp | kNetConnectTcp;
      applied += "; TCP bind/connect denied";
    } else {
      applied += "; no network rules in this ABI (seccomp denies socket/connect)";
    }
  }
  if (rules.scope_signals_and_abstract_sockets) {
    if (outcome.abi >= 6) {
      attr.scoped = kScopeAbstractUnixSocket | kScopeSignal;
      applied += "; signals and abstract sockets scoped";
    } else {
      applied += "; no scoping in this ABI";
    }
  }
  long ruleset = ::syscall(SYS_landlock_create_ruleset, &attr, attr_size(outcome.abi), 0);
  if (ruleset < 0) return landlock_error("landlock_create_ruleset", errno);
  UniqueFd ruleset_fd(static_cast<int>(ruleset));
  if (rules.read_beneath_fd >= 0) {
    PathBeneathAttr beneath;
    beneath.allowed_access = kFsReadFile | kFsReadDir;
    beneath.parent_fd = rules.read_beneath_fd;
    if (::syscall(SYS_landlock_add_rule, ruleset_fd.get(), kRulePathBeneath, &beneath, 0) != 0)
      return landlock_error("landlock_add_rule", errno);
  }
  if (::syscall(SYS_landlock_restrict_self, ruleset_fd.get(), 0) != 0)
    return landlock_error("landlock_restrict_self", errno);
  outcome.enforced = true;
  outcome.applied = std::move(applied);
  return outcome;
}

}  // namespace cqda::sandbox
