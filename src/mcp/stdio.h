// The stdio transport: newline-delimited JSON-RPC on two descriptors, nothing but MCP on
// the output. Lines are accepted in order on the reading thread; requests run on a few
// worker threads so a notifications/cancelled can reach a long tool call while it runs.
// Returns at end of input once the requests received have been answered, or when the
// output is closed (the work in progress is then cancelled).
#pragma once

#include <cstddef>

#include "mcp/session.h"

namespace cqda::mcp {

struct StdioOptions {
  std::size_t max_line = 4u << 20;  // longer lines are answered with -32700 and skipped
  unsigned workers = 4;
};

// 0 on end of input or a closed output; non-zero if reading failed.
int serve_stdio(Session& session, int in_fd, int out_fd, const StdioOptions& options = {});

}  // namespace cqda::mcp
