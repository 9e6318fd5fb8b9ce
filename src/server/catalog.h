// cqda's MCP offering over a DataSource: the research tools, the resources (each document,
// the codebook, the latest report) and the prompts (deductive coding, inductive coding,
// thematic summary) with completion of their arguments.
#pragma once

#include <memory>
#include <string>

#include "mcp/catalog.h"
#include "server/data_source.h"

namespace cqda::server {

// `source` must outlive the catalog.
std::unique_ptr<mcp::Catalog> build_catalog(DataSource& source, const std::string& version);

// Every document as one text: its segments, with speakers, separated by blank lines.
std::string render_document(const DataSource::Page& page);

}  // namespace cqda::server
