// Splits one line of text into word and punctuation tokens for the name finder.
// A word is a maximal run of letters, combining marks and digits; every other non-space code
// point is a punctuation token of its own. "Maria’s" is Maria | ’ | s, "O'Brien" is
// O | ' | Brien, "Dr." is Dr | . — so possessive suffixes stay outside a name.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cqda::anonymize {

enum class Shape : std::uint8_t {
  kLower,        // "maria", "mcdonald"
  kCapitalized,  // "Maria", "McDonald", "Łukasz", a single capital "J"
  kAllCaps,      // "MARIA" (two letters or more, all upper case)
  kOther,        // contains a digit ("P03") or starts with a digit
};

struct Token {
  std::uint32_t begin = 0;  // bytes within the line
  std::uint32_t end = 0;
  bool word = false;
  bool space_before = false;  // whitespace between the previous token and this one
  Shape shape = Shape::kOther;
  char32_t punct = 0;         // the code point of a punctuation token
};

void tokenize(std::string_view line, std::vector<Token>& tokens);

// Lowercase form of a word for lookups, with U+2019 folded to '\''.
void lower_into(std::string_view word, std::string& out);

// Replaces every U+2019 (right single quotation mark) with '\''.
void fold_apostrophes(std::string& s);

}  // namespace cqda::anonymize
