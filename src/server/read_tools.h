// The read-only research tools: list_documents, read_document (paged by segments),
// get_codebook and search_corpus, with their schemas, over a DataSource.
#pragma once

#include <cstdint>
#include <string>

#include "mcp/tools.h"
#include "server/data_source.h"

namespace cqda::server {

// `source` must outlive the registry's use.
void add_read_tools(mcp::ToolRegistry& registry, DataSource& source);

// read_document's structured result for `page` read from segment `offset`, as compact JSON
// text: what json_text writes for the same result made as a Json value, without the value.
std::string page_json_text(const DataSource::Page& page, std::uint64_t offset);

}  // namespace cqda::server
