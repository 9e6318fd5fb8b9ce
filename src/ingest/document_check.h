// The invariants every Document from load_document satisfies, as one checkable function, so
// tests, fuzz targets and the pipeline's later stages can assert them instead of assuming.
#pragma once

#include "common/document.h"
#include "common/result.h"

namespace cqda::ingest {

// Checks: at least one segment; text is valid UTF-8; every segment has text, its index and id
// follow number_segments, and utf8::substr(text, start, length) == segment.text.
Status check_document(const Document& document);

}  // namespace cqda::ingest
