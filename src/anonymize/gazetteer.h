// Lists for finding names that are not on the roster:
//  * given names, surnames, and the names that are also ordinary words ("may", "will",
//    "rose", "baker"), which count as names only with strong context — lookups take the
//    lowercase form of one token;
//  * place names in their own capitalization ("Kraków", "San Francisco") — lookups take the
//    exact text;
//  * lowercase English words, to tell ordinary words from unknown capitalized ones.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "anonymize/bloom.h"

namespace cqda::anonymize {

// One entry per line of a text that outlives the list, sorted by bytes for binary search.
class SortedList {
 public:
  SortedList() = default;
  explicit SortedList(std::string_view text);  // blank lines and '#' lines are skipped

  bool contains(std::string_view entry) const;
  // Some entry starts with `prefix`.
  bool has_prefix(std::string_view prefix) const;
  // The first words of the entries (up to a space, hyphen, apostrophe or dot), for a quick
  // "can an entry start here" before the binary search; index_heads() builds the set.
  void index_heads();
  // A hash set of every entry, so contains() costs one lookup instead of a binary search.
  void index_entries();
  bool has_head(std::string_view word) const;
  bool empty() const { return entries_.empty(); }
  std::size_t size() const { return entries_.size(); }

 private:
  std::vector<std::string_view> entries_;
  std::unordered_set<std::string_view> heads_;
  // In front of heads_ (2^20 bits): most words are no place's first word, and this answers
  // that from 128 KiB that stay in cache.
  std::optional<BloomFilter> head_bloom_;  // made by index_heads()
  std::unordered_set<std::string_view> all_;
};

class Gazetteer {
 public:
  enum Flag : std::uint8_t { kGiven = 1, kSurname = 2, kAmbiguous = 4 };

  Gazetteer() = default;  // empty: only context rules and the roster find names

  // One entry per line (UTF-8; blank lines and lines starting with '#' are skipped).
  // Entries are stored lowercase; case in the lists does not matter.
  // `places` (exact case) and `english` (lowercase words) are copied.
  static Gazetteer from_lists(std::string_view given_names, std::string_view surnames,
                              std::string_view ambiguous, std::string_view places = {},
                              std::string_view english = {});
  // The lists embedded from data/names/*.txt, data/places/places.txt and
  // data/words/english.txt (the last two shared by every copy); empty when they are not there.
  static Gazetteer bundled();

  // Flags of a lowercase token, 0 when it is in no list.
  std::uint8_t lookup(std::string_view lowercase_token) const;
  bool empty() const { return flags_.empty(); }
  std::size_t size() const { return flags_.size(); }

  // Places: the exact text ("San Francisco"); `place_prefix` says whether some place starts
  // with the given text.
  bool is_place(std::string_view text) const { return places_ && places_->contains(text); }
  bool place_prefix(std::string_view text) const { return places_ && places_->has_prefix(text); }
  // Some place's first word is `word` (one token of the text).
  bool place_head(std::string_view word) const { return places_ && places_->has_head(word); }
  bool has_places() const { return places_ && !places_->empty(); }
  // An ordinary English word (lowercase). Without the word list nothing is known to be one,
  // so rules that need it must check has_english() first.
  bool is_english(std::string_view lowercase) const { return english_ && english_->contains(lowercase); }
  bool has_english() const { return english_ && !english_->empty(); }

 private:
  void add_list(std::string_view text, Flag flag);

  // Owned copies of lists given to from_lists; the bundled lists are static.
  std::shared_ptr<const std::string> places_text_, english_text_;
  std::shared_ptr<const SortedList> places_, english_;

  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, std::uint8_t, Hash, std::equal_to<>> flags_;
};

}  // namespace cqda::anonymize
