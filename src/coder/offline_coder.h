// The offline (rule-based) coder: applies each active code's keywords and RE2 patterns to
// every segment. A match codes the sentence that contains it; the quote is that sentence,
// verbatim, and the span is its code-point range in Document::text.
#pragma once

#include <re2/re2.h>
#include <re2/set.h>

#include <memory>
#include <vector>

#include "codebook/codebook.h"
#include "coder/coding.h"
#include "common/document.h"
#include "common/result.h"


namespace cqda::coder {

inline constexpr const char* kOfflineCoderName = "offline-rules";

class OfflineCoder {
 public:
  // Compiles every active code's rules. Fails only if a pattern does not compile, which a
  // validated codebook rules out; the error names the code.
  static Result<OfflineCoder> create(const codebook::Codebook& codebook);
  ~OfflineCoder();
  OfflineCoder(OfflineCoder&&) noexcept;
  OfflineCoder& operator=(OfflineCoder&&) noexcept;

  // Codings for one document, in segment order, then code order. At most one coding per
  // (sentence, code). Thread-safe: RE2 matching is const.
  std::vector<Coding> code_document(const Document& document) const;
  // The same codings, appended to `out` (a corpus's codings can then grow in one vector).
  void code_document(const Document& document, std::vector<Coding>& out) const;
  // The same codings written over out[used, used + n), growing `out` only when it is too short;
  // returns used + n. Elements past that are left as they were: a vector of codings reused
  // from document to document keeps their strings' memory, and every field of a coding
  // written here is set, so nothing of an earlier coding remains in it.
  std::size_t code_document_into(const Document& document, std::vector<Coding>& out, std::size_t used) const;

 private:
  struct Rule {
    std::string code_id;
    std::unique_ptr<RE2> regex;  // keywords and patterns of the code as one alternation
  };
  OfflineCoder() = default;
  std::vector<Rule> rules_;
  std::unique_ptr<RE2::Set> prefilter_;  // one pass finds which rules can match a segment
  int codebook_version_ = 0;
};

// [begin, end) byte range of the sentence around byte `at` in `text`: from after the
// previous sentence end (". ", "! ", "? ", or a line break) to the next one, trimmed.
std::pair<std::size_t, std::size_t> sentence_around(std::string_view text, std::size_t at);

}  // namespace cqda::coder
