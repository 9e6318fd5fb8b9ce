// File names often carry a participant's name ("p04-james-whitfield.txt"). Paths, document
// ids and case-attribute keys leave the reader like any text, so they are pseudonymized too:
// a path word that is a word of a rostered person's name or alias, or the distinctive first
// word of a rostered place or organisation, becomes that entry's pseudonym (lowercase, as a
// file name would have it).
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "anonymize/anonymizer.h"
#include "anonymize/roster.h"

namespace cqda::anonymize {

class PathPseudonyms {
 public:
  // Asks `anonymizer` for each roster entry's pseudonym once, here.
  PathPseudonyms(const Roster& roster, Anonymizer& anonymizer);

  // "interviews/p04-james-whitfield.txt" -> "interviews/p04-person-ab12.txt". Words are runs
  // of letters; consecutive words mapping to the same pseudonym collapse into one.
  std::string pseudonymize(std::string_view relative_path) const;

 private:
  std::map<std::string, std::string> word_to_pseudonym_;  // lowercase word -> pseudonym
};

}  // namespace cqda::anonymize
