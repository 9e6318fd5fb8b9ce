#include "anonymize/gazetteer.h"

#include <algorithm>

#include "anonymize/tokens.h"
#include "common/utf8.h"
#include "resources/resources.h"

namespace cqda::anonymize {

SortedList::SortedList(std::string_view text) {
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    entries_.push_back(line);
  }
  if (!std::is_sorted(entries_.begin(), entries_.end())) std::sort(entries_.begin(), entries_.end());
}

namespace {
constexpr std::size_t kBloomBits = std::size_t{1} << 20;
std::pair<std::size_t, std::size_t> bloom_probes(std::string_view word) {
  const std::uint64_t h = std::hash<std::string_view>{}(word);
  const std::uint64_t g = h * 0x9E3779B97F4A7C15ull;  // a second, independent-enough probe
  return {static_cast<std::size_t>(h & (kBloomBits - 1)), static_cast<std::size_t>((g >> 40) & (kBloomBits - 1))};
}
}  // namespace

bool SortedList::has_head(std::string_view word) const {
  if (head_bloom_.empty()) return false;
  const auto [a, b] = bloom_probes(word);
  if (!(head_bloom_[a >> 6] >> (a & 63) & 1) || !(head_bloom_[b >> 6] >> (b & 63) & 1)) return false;
  return heads_.count(word) > 0;
}

void SortedList::index_heads() {
  heads_.reserve(entries_.size());
  head_bloom_.assign(kBloomBits / 64, 0);
  for (std::string_view e : entries_) {
    std::size_t end = 0;
    while (end < e.size()) {
      const char c = e[end];
      if (c == ' ' || c == '-' || c == '\'' || c == '.') break;
      if (c == '\xE2' && e.substr(end, 3) == "\xE2\x80\x99") break;  // U+2019
      ++end;
    }
    heads_.insert(e.substr(0, end));
    const auto [a, b] = bloom_probes(e.substr(0, end));
    head_bloom_[a >> 6] |= std::uint64_t{1} << (a & 63);
    head_bloom_[b >> 6] |= std::uint64_t{1} << (b & 63);
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
  // point into the binary, so one copy serves every anonymizer.
  static const std::shared_ptr<const SortedList> places = [] {
    auto list = std::make_shared<SortedList>(resources::get("data/places/places.txt"));
    list->index_heads();
    return list;
  }();
  static const std::shared_ptr<const SortedList> english = [] {
    auto list = std::make_shared<SortedList>(resources::get("data/words/english.txt"));
    list->index_entries();
    return list;
  }();
  g.places_ = places;
  g.english_ = english;
  return g;
}

std::uint8_t Gazetteer::lookup(std::string_view lowercase_token) const {
  auto it = flags_.find(lowercase_token);
  return it == flags_.end() ? 0 : it->second;
}

}  // namespace cqda::anonymize
