// The read-only research tools: list_documents, read_document (paged by segments),
// get_codebook and search_corpus, with their schemas, over a DataSource.
#pragma once

#include "mcp/tools.h"
#include "server/data_source.h"

namespace cqda::server {

// `source` must outlive the registry's use.
void add_read_tools(mcp::ToolRegistry& registry, DataSource& source);

}  // namespace cqda::server
