// Shared body of the per-format ingest fuzz targets: load_document on arbitrary bytes, then
// the Document invariants on success and the error shape ("<path>: ...") on failure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "ingest/document_check.h"
#include "ingest/load.h"

namespace cqda::fuzz {

// The default policy's file limits, with smaller archive bounds so the fuzzer explores
// instead of allocating.
inline const policy::PathPolicy& fuzz_paths() {
  static const policy::PathPolicy paths = [] {
    policy::PathPolicy p;
    p.max_file_bytes = 1u << 20;
    p.archive.max_entries = 200;
    p.archive.max_uncompressed_bytes = 8u << 20;
    return p;
  }();
  return paths;
}

inline int fuzz_load_document(DocumentFormat format, const std::uint8_t* data, std::size_t size) {
  const std::string name = "input." + std::string(format_name(format));
  ingest::RawFile file{name, format, std::string(reinterpret_cast<const char*>(data), size)};
  Result<Document> document = ingest::load_document(file, fuzz_paths());
  if (!document) {
    if (document.error().message.rfind(name + ": ", 0) != 0) std::abort();
  } else if (!ingest::check_document(*document)) {
    std::abort();
  }
  return 0;
}

}  // namespace cqda::fuzz
