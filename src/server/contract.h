// The service contract of cqda's MCP server as Markdown (docs/MCP.md): every tool with its
// input and output schema, annotations and failures; the resources and templates; the
// prompts and their arguments — generated from the definitions the server serves, so the
// document cannot drift from the code (`cqda mcp describe`; a test compares the file).
#pragma once

#include <string>

namespace cqda::server {

std::string service_contract_markdown();

}  // namespace cqda::server
