// The research tools that change or summarize the project: update_codebook, code_segment,
// remove_coding, list_codings, auto_code (progress, cancellable), add_memo, list_memos,
// code_frequencies, export_project and verify_run_log. Each validates its arguments by
// schema here; the supervisor checks them again and keeps the state.
#pragma once

#include "mcp/tools.h"
#include "server/data_source.h"

namespace cqda::server {

// `source` must outlive the registry's use.
void add_project_tools(mcp::ToolRegistry& registry, DataSource& source);

}  // namespace cqda::server
