// The entry point the pipeline calls for each file the reader read: bytes in, Document out.
#pragma once

#include "common/document.h"
#include "common/result.h"
#include "ingest/input_root.h"
#include "policy/policy.h"

namespace cqda::ingest {

// Validates and normalizes the text (text_normalize.h; docx/odt: their XML), parses it by
// `file.format`, segments it and fills every Document field: id (document_id_for_path),
// relative_path, format, sha256 and raw_bytes (of the bytes as read), segments with stable
// ids and code-point offsets, and the rendered text.
// Errors start with the relative path: "interviews/p01.txt: invalid UTF-8 at byte offset 17".
// A file with no text (0 bytes, only whitespace, no open-ended answers) is an error ("empty
// file"), as is a file larger than policy.max_file_bytes (checked again here because a RawFile
// can arrive over IPC).
Result<Document> load_document(const RawFile& file, const policy::PathPolicy& policy);

}  // namespace cqda::ingest
