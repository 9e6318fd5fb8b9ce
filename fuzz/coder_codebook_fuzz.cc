// Fuzzes the codebook loader and the offline coder built from whatever codebook loads.
#include <cstdint>
#include <string_view>

#include "codebook/codebook.h"
#include "coder/offline_coder.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto book = cqda::codebook::load_codebook_text(text, "fuzz.json");
  if (!book.ok()) return 0;
  for (const auto& code : book->codes) (void)book->path_of(code);
  auto coder = cqda::coder::OfflineCoder::create(*book);
  if (!coder.ok()) return 0;
  cqda::Document document;
  document.id = "d";
  cqda::Segment segment;
  segment.text = "We were short-staffed on the night shift. Pay is low!";
  document.segments.push_back(segment);
  cqda::number_segments(document);
  cqda::render_document_text(document);
  (void)coder->code_document(document);
  return 0;
}
