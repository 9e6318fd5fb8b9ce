// The sandboxed process roles (DESIGN.md §4). The supervisor is not a role: it is never
// locked down, because it alone writes outputs, signs the log and makes egress connections.
#pragma once

#include <string_view>

namespace cqda::sandbox {

enum class Role {
  kReader,     // input root read-only; parses, segments, anonymizes; no network, no writes
  kLlmCaller,  // no files, no socket()/connect()/DNS; uses sockets the supervisor connected
  kBroker,     // client-facing; no input root, no outbound connections
};

std::string_view role_name(Role role);

}  // namespace cqda::sandbox
