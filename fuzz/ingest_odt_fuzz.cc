// Fuzzes load_document on .odt input (normalization, parsing, segmentation).
#include "ingest_fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return cqda::fuzz::fuzz_load_document(cqda::DocumentFormat::kOdt, data, size);
}
