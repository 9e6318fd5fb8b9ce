#include "anonymize/gazetteer.h"

#include <algorithm>

#include "anonymize/tokens.h"
#include "common/utf8.h"
#include "resources/resources.h"

namespace cqda::anonymize {

namespace {

// Calls `f` with each entry of a list: one per line, surrounding blanks trimmed, blank lines
// and lines starting with '#' skipped.
template <typename F>
void each_entry(std::string_view text, F f) {
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    if (line.empty() || line.front() == '#') continue;
    f(line);
  }
}

std::uint64_t hash_of(std::string_view word) { return std::hash<std::string_view>{}(word); }

}  // namespace

SortedList::SortedList(std::string_view text) {
  each_entry(text, [&](std::string_view entry) { entries_.push_back(entry); });
  if (!std::is_sorted(entries_.begin(), entries_.end())) std::sort(entries_.begin(), entries_.end());
}

bool SortedList::has_head(std::string_view word) const {
  return head_bloom_ && head_bloom_->maybe(hash_of(word)) && heads_.count(word) > 0;
}

void SortedList::index_heads() {
  heads_.reserve(entries_.size());
  head_bloom_.emplace(20);
  for (std::string_view e : entries_) {
    std::size_t end = 0;
    while (end < e.size()) {
      const char c = e[end];
      if (c == ' ' || c == '-' || c == '\'' || c == '.') break;
      if (c == '\xE2' && e.substr(end, 3) == "\xE2\x80\x99") break;  // U+2019
      ++end;
    }
    heads_.insert(e.substr(0, end));
    head_bloom_->add(hash_of(e.substr(0, end)));
  }
}

void SortedList::index_entries() { all_.insert(entries_.begin(), entries_.end()); }

bool SortedList::contains(std::string_view entry) const {
  if (!all_.empty()) return all_.count(entry) > 0;
  return std::binary_search(entries_.begin(), entries_.end(), entry);
}

bool SortedList::has_prefix(std::string_view prefix) const {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), prefix);
  return it != entries_.end() && it->substr(0, prefix.size()) == prefix;
}

void Gazetteer::add_list(std::string_view text, Flag flag) {
  if (utf8::first_invalid_byte(text)) return;  // embedded or test data; never user input
  each_entry(text, [&](std::string_view line) {
    std::string key;
    lower_into(utf8::to_nfc(line), key);  // folded exactly as tokens are
    // The tokenizer compares apostrophes as ASCII ("O’Brien" == "O'Brien").
    fold_apostrophes(key);
    flags_[key] |= flag;
  });
}

Gazetteer Gazetteer::from_lists(std::string_view given_names, std::string_view surnames,
                                std::string_view ambiguous, std::string_view places,
                                std::string_view english) {
  Gazetteer g;
  g.flags_.reserve(8192);
  g.add_list(given_names, kGiven);
  g.add_list(surnames, kSurname);
  g.add_list(ambiguous, kAmbiguous);
  if (!places.empty() && !utf8::first_invalid_byte(places)) {
    g.places_text_ = std::make_shared<const std::string>(utf8::to_nfc(places));
    auto list = std::make_shared<SortedList>(*g.places_text_);
    list->index_heads();
    g.places_ = std::move(list);
  }
  if (!english.empty() && !utf8::first_invalid_byte(english)) {
    g.english_text_ = std::make_shared<const std::string>(english);
    auto list = std::make_shared<SortedList>(*g.english_text_);
    list->index_entries();
    g.english_ = std::move(list);
  }
  return g;
}

Gazetteer Gazetteer::bundled() {
  Gazetteer g = from_lists(resources::get("data/names/given-names.txt"),
                           resources::get("data/names/surnames.txt"),
                           resources::get("data/names/ambiguous.txt"));
  // The embedded lists are NFC and sorted already (scripts/make-place-lists.mjs); the views
  // point into the binary, so one copy serves every anonymizer. Never destroyed: a quarter of
  // a million entries need not be freed one by one as the process exits.
  static const auto* const places = new std::shared_ptr<const SortedList>([] {
    auto list = std::make_shared<SortedList>(resources::get("data/places/places.txt"));
    list->index_heads();
    return list;
  }());
  static const auto* const english = new std::shared_ptr<const SortedList>([] {
    auto list = std::make_shared<SortedList>(resources::get("data/words/english.txt"));
    list->index_entries();
    return list;
  }());
  g.places_ = *places;
  g.english_ = *english;
  return g;
}

std::uint8_t Gazetteer::lookup(std::string_view lowercase_token) const {
  auto it = flags_.find(lowercase_token);
  return it == flags_.end() ? 0 : it->second;
}

}  // namespace cqda::anonymize
