// A coding: one code applied to a verbatim quote inside one segment of one document.
#pragma once

#include <cstddef>
#include <string>

namespace cqda::coder {

struct Coding {
  std::string document_id;
  std::string document_sha256;  // raw input bytes the coding was made on
  std::string segment_id;
  std::size_t start = 0;        // code points in the (anonymized) Document::text
  std::size_t end = 0;          // exclusive
  std::string quote;            // exactly Document::text[start, end)
  std::string code_id;
  int codebook_version = 0;
  std::string coder;            // a person's name, "offline-rules" or "llm:<model>"
  std::string memo;             // optional
  std::string rationale;        // why the rule or model applied the code
  std::string prompt_hash;      // LLM codings only
  std::string cache_key;        // LLM codings only

  bool operator==(const Coding&) const = default;
};

}  // namespace cqda::coder
