// `cqda serve`: the MCP server. The supervisor loads configuration and keys, has the reader
// load the corpus with the `mcp` destination's anonymization, and starts the broker, which
// speaks MCP to the client and asks the supervisor for every piece of data. Each data request
// is recorded in the session's signed run log. This release serves stdio only.
#pragma once

#include <cstdio>

#include "pipeline/run.h"

namespace cqda::pipeline {

struct ServeOptions : ProjectOptions {
  bool stdio = true;
};

// Returns an ExitCode; logs go to `err`, never to stdout (which belongs to MCP).
int serve(const ServeOptions& options, std::FILE* err);

}  // namespace cqda::pipeline
