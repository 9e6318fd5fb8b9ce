#include "anonymize/path_pseudonyms.h"

#include <set>

#include "common/utf8.h"

namespace cqda::anonymize {
namespace {

// Words that name a kind of place or organisation rather than a particular one.
const std::set<std::string>& generic_words() {
  static const std::set<std::string> words = {
      "the", "st", "saint", "care", "home", "house", "hospital", "nhs", "trust", "street", "road", "lane",
      "city", "council", "university", "college", "school", "centre", "center", "clinic", "union", "agency",
      "ltd", "limited", "group", "services", "north", "south", "east", "west", "new", "old", "general"};
  return words;
}

// Splits on anything that is not a letter; returns lowercase words with their byte ranges.
template <typename Fn>
void for_each_word(std::string_view text, Fn fn) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t start = pos;
    char32_t cp = utf8::decode(text, pos);
    if (!utf8::is_letter(cp)) continue;
    std::size_t end = pos;
    while (end < text.size()) {
      std::size_t next = end;
      if (!utf8::is_letter(utf8::decode(text, next))) break;
      end = next;
    }
    fn(start, end);
    pos = end;
  }
}

std::string lowercase_pseudonym(const std::string& pseudonym) {
  std::string out;
  for (char c : utf8::to_lower(pseudonym)) {
    bool keep = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    out.push_back(keep ? c : '-');
  }
  return out;
}

}  // namespace

PathPseudonyms::PathPseudonyms(const Roster& roster, Anonymizer& anonymizer) {
  for (const auto& entry : roster.entries) {
    std::string pseudonym = lowercase_pseudonym(anonymizer.anonymize_speaker(entry.name).text);
    if (pseudonym.empty() || pseudonym == lowercase_pseudonym(entry.name)) continue;  // kept by policy
    std::vector<std::string> names = entry.aliases;
    names.push_back(entry.name);
    for (const auto& name : names) {
      bool first = true;
      for_each_word(name, [&](std::size_t b, std::size_t e) {
        std::string word = utf8::to_lower(name.substr(b, e - b));
        bool person = entry.type == policy::EntityType::kPerson;
        bool distinctive = person ? word.size() >= 2 : (first && word.size() >= 4 && !generic_words().count(word));
        if (distinctive) word_to_pseudonym_.emplace(word, pseudonym);
        if (!generic_words().count(word)) first = false;
      });
    }
  }
}

std::string PathPseudonyms::pseudonymize(std::string_view path) const {
  if (word_to_pseudonym_.empty()) return std::string(path);
  std::string out;
  std::size_t copied = 0;
  std::string last_pseudonym;  // of the previous replaced word
  for_each_word(path, [&](std::size_t b, std::size_t e) {
    auto it = word_to_pseudonym_.find(utf8::to_lower(path.substr(b, e - b)));
    if (it == word_to_pseudonym_.end()) return;
    std::string_view between = path.substr(copied, b - copied);
    // "james-whitfield" -> one pseudonym: drop the separator and the second copy.
    bool joins_previous = it->second == last_pseudonym && between.find_first_not_of("-_ ") == std::string_view::npos;
    if (!joins_previous) {
      out += between;
      out += it->second;
    }
    copied = e;
    last_pseudonym = it->second;
  });
  out += path.substr(copied);
  return out;
}

}  // namespace cqda::anonymize
