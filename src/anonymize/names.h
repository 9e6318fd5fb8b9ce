// Finds person, place and organisation names in a line: first the roster (longest form
// first), then people who are not on the roster, from the gazetteer and from context.
//
// The rules, in order (docs/ANONYMIZATION.md explains each with examples):
//  * Roster forms of two words or more match in any case ("maria santos", "MARIA SANTOS").
//    One-word forms (a first name, a surname, a one-word alias) match only Capitalized or
//    ALL-CAPS tokens; if the word is also an ordinary word (ambiguous list, keep_words) it
//    must not start a sentence unless context makes it a name; if it is a common word
//    (months, weekdays, "The", "English", ...) it needs context.
//  * Context: a title before it ("Dr.", "Mrs", "Sister"), a kinship or relationship word
//    ("my sister Grace", "her friend Hope"), a verb of address ("called", "told", "talked
//    to"), the next word being an unambiguous name ("Rose Kowalski"), or a speaker label.
//  * Un-rostered: a Capitalized token that is a given name is a name, sentence-initial too;
//    a surname alone is a name when it is not sentence-initial; an ambiguous word needs
//    context; common words never are. After a title or a kinship word any Capitalized word
//    that is not a common word is a name. A name extends over the following Capitalized
//    words that are names or unknown words ("Joanna Kowalska").
//  * Unknown words (in neither the name lists, the place list nor the English word list):
//    one followed by ", the deputy" (an apposition naming a role or relation) is a name, and
//    two of them in a row ("Tendai Moyo") are one.
//  * Places from the place list ("Kraków", "San Francisco", "Kerala"), matched in their own
//    capitalization, longest first, unless a title or kinship word says it is a person; and
//    street addresses ("12 Hawthorn Street", "Lindenhofstraße 4").
//  * Names learned in a document: an unknown word found as a name by context (a title,
//    kinship word, apposition, a speaker label) is a name wherever it is capitalized in the
//    same document, before that point too (anonymize_document runs twice when it learns one).
// Titles and kinship words stay in the text; only the name is replaced.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "anonymize/bloom.h"
#include "anonymize/detection.h"
#include "anonymize/gazetteer.h"
#include "anonymize/roster.h"
#include "anonymize/tokens.h"

namespace cqda::anonymize {

// Names learned while anonymizing one document: lowercase word -> the canonical form of the
// name it was found in ("moyo" -> "tendai moyo"). Not shared between documents or threads.
struct LearnedNames {
  std::unordered_map<std::string, std::string> names;
  bool frozen = false;  // look up only; learn nothing new
};

struct NameOptions {
  bool persons = true;    // roster people and un-rostered names
  bool places = true;     // roster places, the place list and street addresses
  bool orgs = true;       // roster organisations
  bool gazetteer = true;  // un-rostered names from the gazetteer
  bool context = true;    // titles, kinship words, verbs of address, speaker labels
  std::vector<std::string> keep_words;  // ordinary words: names only with context
};

class NameFinder {
 public:
  NameFinder(const Roster& roster, const Gazetteer* gazetteer, NameOptions options);

  // Appends the names in `line` (tokens = tokenize(line)); offsets are `base` + bytes.
  // In speaker mode the line is a speaker label: every word that is not a role or common
  // word ("Interviewer", "P03") is taken as part of a name.
  // `learned` (optional) is consulted and, unless frozen, extended.
  void find(std::string_view line, const std::vector<Token>& tokens, std::size_t base,
            bool speaker, std::vector<Detection>& out, LearnedNames* learned = nullptr) const;

 private:
  struct PhraseToken {
    std::string text;  // lowercase word, or the punctuation (U+2019 folded to ')
    bool word = false;
    bool space_before = false;
  };
  struct Phrase {
    std::vector<PhraseToken> tokens;
    policy::EntityType type = policy::EntityType::kPerson;
    std::string canonical;
    std::size_t words = 0;  // word tokens in `tokens`
  };
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using WordSet = std::unordered_set<std::string, Hash, std::equal_to<>>;

  class LineContext;

  void add_phrase(std::string_view form, policy::EntityType type, std::string canonical);
  // The roster phrase matching at token i, or -1; [compound_begin, end_token) is the span.
  int match_roster(const LineContext& ctx, std::size_t i, std::size_t& compound_begin,
                   std::size_t& end_token) const;
  // `learnable`: found by context alone, so its unknown words are worth learning.
  bool find_unrostered(const LineContext& ctx, std::size_t i, std::size_t& end_token, bool& learnable,
                       const LearnedNames* learned) const;
  bool find_speaker(const LineContext& ctx, std::size_t i, std::size_t& end_token) const;
  bool find_place(const LineContext& ctx, std::size_t i, std::size_t& end_token) const;
  bool find_street(const LineContext& ctx, std::size_t i, std::size_t& end_token) const;
  // Not in the name lists, the place list, the English words or the common words.
  bool unknown_word(std::string_view lowercase) const;
  void learn(const LineContext& ctx, std::size_t begin, std::size_t end, const std::string& canonical,
             LearnedNames& learned) const;

  std::vector<Phrase> phrases_;
  std::unordered_map<std::string, std::vector<std::uint32_t>, Hash, std::equal_to<>> by_first_;
  // Cheap pre-checks before the hash lookup: first bytes and lengths of the first words, and
  // a Bloom filter over the ASCII first words (checked without building the lowercase form;
  // this runs for every word of the text).
  std::array<bool, 256> first_byte_{};
  std::size_t max_first_bytes_ = 0;
  BloomFilter first_bloom_{16};
  WordSet keep_words_;
  const Gazetteer* gazetteer_;
  NameOptions options_;
};

}  // namespace cqda::anonymize
