// `cqda serve`: the MCP server. The supervisor loads configuration and keys, has the reader
// load the corpus with the `mcp` destination's anonymization, and starts the broker, which
// speaks MCP to the client and asks the supervisor for every piece of data. Each data request
// is recorded in the session's signed run log. This release serves stdio only.
#pragma once

#include <cstdio>

#include "pipeline/run.h"

namespace cqda::pipeline {

struct ServeOptions : ProjectOptions {
  bool stdio = false;                  // MCP on stdin/stdout; else Streamable HTTP on `listen`
  std::string listen = "127.0.0.1:8765";
  std::optional<std::filesystem::path> tls_cert;    // else /run/secrets/tls_cert
  std::optional<std::filesystem::path> tls_key;     // else /run/secrets/tls_key
  // When neither of the above is given: a folder where a local CA and a server certificate
  // are made on first start (as `cqda certs` makes them) and reused after.
  std::optional<std::filesystem::path> tls_dir;
  bool plain_http = false;                          // HTTP without TLS: loopback only
  std::optional<std::filesystem::path> token_file;  // else /run/secrets/mcp_token, else generated
  std::vector<std::string> allowed_hosts;           // names clients use besides localhost/127.0.0.1/[::1]
  double rate_limit = 50;                           // requests per second per session (burst: twice that)
  llm::Settings llm;                                // auto_code's coder: offline unless a backend is set
  bool llm_backend_from_flag = false;
};

// Returns an ExitCode; logs go to `err`, never to stdout (which belongs to MCP).
int serve(const ServeOptions& options, std::FILE* err);

}  // namespace cqda::pipeline
