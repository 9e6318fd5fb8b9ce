// Fuzzes what an LLM endpoint sends back once the HTTP framing is off: the chat response
// (OpenAI and Ollama shapes) and the answer inside it, parsed against a coding schema and
// verified against segment text. Any input must give codings or an Error, never a crash, and
// every coding kept must quote its segment verbatim.
#include <cstdint>
#include <string_view>

#include "codebook/codebook.h"
#include "common/document.h"
#include "common/utf8.h"
#include "llm/coding_prompt.h"

namespace {

struct Fixture {
  cqda::codebook::Codebook codebook;
  std::vector<cqda::Document> documents;
  cqda::llm::Settings settings;
  std::vector<cqda::llm::Batch> batches;
  cqda::llm::ChatRequest request;

  Fixture() {
    codebook = cqda::codebook::load_codebook_text(
                   R"({"name":"f","version":1,"categories":[{"id":"c","name":"C","codes":[
                       {"id":"workload","name":"W","definition":"d"},{"id":"pay","name":"P","definition":"d"}]}]})",
                   "fuzz-codebook.json")
                   .value();
    cqda::Document d;
    d.id = "doc";
    for (const char* text : {"We were short-staffed every night.", "Die Bezahlung war schlecht, sagte Żaneta."}) {
      cqda::Segment s;
      s.text = text;
      d.segments.push_back(s);
    }
    cqda::number_segments(d);
    cqda::render_document_text(d);
    documents.push_back(std::move(d));
    settings.backend = cqda::llm::Backend::kOpenAi;
    settings.base_url = "https://fuzz.example/v1";
    settings.model = "m";
    batches = cqda::llm::make_batches(documents, settings);
    request = cqda::llm::build_coding_request(settings, codebook, batches[0]);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const Fixture f;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  for (auto backend : {cqda::llm::Backend::kOpenAi, cqda::llm::Backend::kOllama})
    (void)cqda::llm::parse_chat_response(backend, text);
  auto proposals = cqda::llm::parse_answer(text, f.request.schema);
  if (!proposals) return 0;
  auto verified = cqda::llm::verify_codings(*proposals, f.batches[0], f.codebook, f.settings, f.request);
  for (const auto& c : verified.codings) {
    const auto& doc = f.documents[0];
    if (cqda::utf8::substr(doc.text, c.start, c.end - c.start) != c.quote) __builtin_trap();
  }
  return 0;
}
