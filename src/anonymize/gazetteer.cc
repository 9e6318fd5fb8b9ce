#include "anonymize/gazetteer.h"

#include "anonymize/tokens.h"
#include "common/utf8.h"
#include "resources/resources.h"

namespace cqda::anonymize {

void Gazetteer::add_list(std::string_view text, Flag flag) {
  if (utf8::first_invalid_byte(text)) return;  // embedded or test data; never user input
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    if (line.empty() || line.front() == '#') continue;
    std::string key;
    lower_into(utf8::to_nfc(line), key);  // folded exactly as tokens are
    // The tokenizer compares apostrophes as ASCII ("O’Brien" == "O'Brien").
    fold_apostrophes(key);
    flags_[key] |= flag;
  }
}

Gazetteer Gazetteer::from_lists(std::string_view given_names, std::string_view surnames,
                                std::string_view ambiguous) {
  Gazetteer g;
  g.flags_.reserve(8192);
  g.add_list(given_names, kGiven);
  g.add_list(surnames, kSurname);
  g.add_list(ambiguous, kAmbiguous);
  return g;
}

Gazetteer Gazetteer::bundled() {
  return from_lists(resources::get("data/names/given-names.txt"),
                    resources::get("data/names/surnames.txt"),
                    resources::get("data/names/ambiguous.txt"));
}

std::uint8_t Gazetteer::lookup(std::string_view lowercase_token) const {
  auto it = flags_.find(lowercase_token);
  return it == flags_.end() ? 0 : it->second;
}

}  // namespace cqda::anonymize
