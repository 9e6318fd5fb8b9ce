// Name lists for finding people who are not on the roster: given names, surnames, and the
// names that are also ordinary words ("may", "will", "rose", "baker"), which count as names
// only with strong context. Lookups take the lowercase form of one token.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

namespace cqda::anonymize {

class Gazetteer {
 public:
  enum Flag : std::uint8_t { kGiven = 1, kSurname = 2, kAmbiguous = 4 };

  Gazetteer() = default;  // empty: only context rules and the roster find names

  // One entry per line (UTF-8; blank lines and lines starting with '#' are skipped).
  // Entries are stored lowercase; case in the lists does not matter.
  static Gazetteer from_lists(std::string_view given_names, std::string_view surnames,
                              std::string_view ambiguous);
  // The lists embedded from data/names/*.txt; an empty gazetteer when they are not there.
  static Gazetteer bundled();

  // Flags of a lowercase token, 0 when it is in no list.
  std::uint8_t lookup(std::string_view lowercase_token) const;
  bool empty() const { return flags_.empty(); }
  std::size_t size() const { return flags_.size(); }

 private:
  void add_list(std::string_view text, Flag flag);

  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, std::uint8_t, Hash, std::equal_to<>> flags_;
};

}  // namespace cqda::anonymize
