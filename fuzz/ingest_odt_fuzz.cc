// Fuzzes load_document on .odt input (normalization, parsing, segmentation) and checks the
// Document invariants on success and the error shape on failure.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "ingest/document_check.h"
#include "ingest/load.h"

namespace {

// The default policy's file limits, with smaller archive bounds so the fuzzer explores
// instead of allocating.
cqda::policy::PathPolicy fuzz_paths() {
  cqda::policy::PathPolicy paths;
  paths.max_file_bytes = 1u << 20;
  paths.archive.max_entries = 200;
  paths.archive.max_uncompressed_bytes = 8u << 20;
  return paths;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const cqda::policy::PathPolicy paths = fuzz_paths();
  const std::string name = "input.odt";
  cqda::ingest::RawFile file{name, cqda::DocumentFormat::kOdt,
                             std::string(reinterpret_cast<const char*>(data), size)};
  cqda::Result<cqda::Document> document = cqda::ingest::load_document(file, paths);
  if (!document) {
    if (document.error().message.rfind(name + ": ", 0) != 0) std::abort();
  } else if (!cqda::ingest::check_document(*document)) {
    std::abort();
  }
  return 0;
}
