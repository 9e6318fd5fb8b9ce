// The read-only research tools: list_documents, read_document (paged by segments),
// get_codebook and search_corpus, with their schemas, over a DataSource.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "mcp/tools.h"
#include "server/data_source.h"

namespace cqda::server {

// `source` must outlive the registry's use.
void add_read_tools(mcp::ToolRegistry& registry, DataSource& source);

// read_document's defaults and bounds: segments per page when the arguments name no limit,
// and at most.
inline constexpr std::uint64_t kDefaultPage = 50;
inline constexpr std::uint64_t kMaxPage = 500;

// read_document's structured result for `segments` of `document` read from segment `offset`,
// as compact JSON text: what json_text writes for the same result made as a Json value,
// without the value.
std::string page_json_text(const DocumentSummary& document, std::span<const Segment> segments, std::uint64_t offset);
inline std::string page_json_text(const DataSource::Page& page, std::uint64_t offset) {
  return page_json_text(page.document, page.segments, offset);
}

// read_document's whole result: the page as text (one line per segment: [id] speaker: text)
// and as structured content, framed as mcp::written_result_text frames it.
std::string page_result_text(const DocumentSummary& document, std::span<const Segment> segments, std::uint64_t offset);

// page_result_text for the first of `segments` whose result takes at most `max_bytes`: all of
// them when it fits, else the count halved until it does (next_offset then continues after
// the last one sent). nullopt when not even the first segment's result fits.
std::optional<std::string> page_result_within(const DocumentSummary& document, std::span<const Segment> segments,
                                              std::uint64_t offset, std::size_t max_bytes);

}  // namespace cqda::server
