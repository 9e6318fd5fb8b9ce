// Scoring for the anonymizer benchmark: recall per identifier type and the share of ordinary
// words kept, computed from a file's input, its output and the generator's truth.
// bench/js/metrics.mjs implements the same definitions for the JavaScript libraries; keep the
// two in step (docs/BENCHMARKS.md states them).
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace bench {

struct PlantedValue {
  std::string value;
  std::string group;  // truth type; persons split into person_rostered / person_unrostered
  long planted = 0;   // how many times the generator wrote it into this file
};

struct KeptContext {
  std::string context;  // "in May", "at 7.30", "£11.20 an hour"
  std::string word;     // the ordinary word or the kind of number ("May", "year", "money")
  long planted = 0;
};

struct FileCase {
  std::string path;
  std::string input;
  std::string output;
  std::vector<PlantedValue> identifiers;
  std::vector<KeptContext> kept;
};

// The groups that make up "direct identifiers" in the aims: contact details, ID and account
// numbers, and rostered names.
inline const std::set<std::string>& direct_groups() {
  static const std::set<std::string> groups = {"email", "phone", "iban", "payment_card",
                                               "national_id", "person_rostered"};
  return groups;
}

// ASCII letters and digits, '_' and every byte of a multi-byte UTF-8 sequence (letters such
// as "ü" must not end a name in the middle of a word).
inline bool word_byte(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' ||
         c >= 0x80;
}

// Occurrences of `needle` in `hay` (byte-exact, case-sensitive, non-overlapping) whose ends,
// where they are word bytes, are not glued to a word byte outside the match.
inline long count_bounded(std::string_view hay, std::string_view needle) {
  if (needle.empty()) return 0;
  const bool check_front = word_byte(static_cast<unsigned char>(needle.front()));
  const bool check_back = word_byte(static_cast<unsigned char>(needle.back()));
  long n = 0;
  std::size_t pos = hay.find(needle);
  while (pos != std::string_view::npos) {
    const std::size_t end = pos + needle.size();
    const bool front_ok = !check_front || pos == 0 || !word_byte(static_cast<unsigned char>(hay[pos - 1]));
    const bool back_ok = !check_back || end == hay.size() || !word_byte(static_cast<unsigned char>(hay[end]));
    if (front_ok && back_ok) {
      ++n;
      pos = hay.find(needle, end);
    } else {
      pos = hay.find(needle, pos + 1);
    }
  }
  return n;
}

struct Tally {
  long values = 0, values_removed = 0;
  long occurrences = 0, occurrences_removed = 0;
  void add(long in, long out) {
    ++values;
    if (out == 0) ++values_removed;
    occurrences += in;
    occurrences_removed += in - std::min(in, out);
  }
  void add(const Tally& other) {
    values += other.values;
    values_removed += other.values_removed;
    occurrences += other.occurrences;
    occurrences_removed += other.occurrences_removed;
  }
  nlohmann::json to_json() const {
    auto ratio = [](long a, long b) { return b == 0 ? 0.0 : static_cast<double>(a) / b; };
    return {{"values", values},
            {"values_removed", values_removed},
            {"recall", ratio(values_removed, values)},
            {"occurrences", occurrences},
            {"occurrences_removed", occurrences_removed},
            {"recall_occurrences", ratio(occurrences_removed, occurrences)}};
  }
};

// Scores every file and returns {"recall": {group: ...}, "recall_direct", "recall_all",
// "kept": {...}, "leak_examples": {group: [...]}, "truth_mismatches": n}.
inline nlohmann::json score(const std::vector<FileCase>& files) {
  std::map<std::string, Tally> by_group;
  std::map<std::string, std::vector<std::string>> leaks;
  long mismatches = 0;  // planted more often than found in the input: a generator bug
  long kept_in = 0, kept_out = 0;
  std::map<std::string, std::pair<long, long>> kept_by_word;
  std::map<std::string, std::vector<std::string>> lost_examples;

  for (const FileCase& f : files) {
    for (const PlantedValue& p : f.identifiers) {
      const long in = count_bounded(f.input, p.value);
      const long out = count_bounded(f.output, p.value);
      if (in < p.planted) ++mismatches;
      by_group[p.group].add(in, out);
      if (out > 0 && leaks[p.group].size() < 8) leaks[p.group].push_back(p.value + "  (" + f.path + ")");
    }
    for (const KeptContext& k : f.kept) {
      const long in = count_bounded(f.input, k.context);
      const long out = std::min(in, count_bounded(f.output, k.context));
      if (in < k.planted) ++mismatches;
      kept_in += in;
      kept_out += out;
      auto& w = kept_by_word[k.word];
      w.first += in;
      w.second += out;
      if (out < in && lost_examples[k.word].size() < 4) lost_examples[k.word].push_back(k.context + "  (" + f.path + ")");
    }
  }

  nlohmann::json recall = nlohmann::json::object();
  Tally direct, all;
  for (const auto& [group, tally] : by_group) {
    recall[group] = tally.to_json();
    all.add(tally);
    if (direct_groups().count(group)) direct.add(tally);
  }
  nlohmann::json words = nlohmann::json::object();
  for (const auto& [word, io] : kept_by_word) {
    words[word] = {{"occurrences", io.first},
                   {"kept", io.second},
                   {"share", io.first == 0 ? 0.0 : static_cast<double>(io.second) / io.first}};
  }
  return {{"recall", recall},
          {"recall_direct", direct.to_json()},
          {"recall_all", all.to_json()},
          {"kept", {{"occurrences", kept_in},
                    {"kept", kept_out},
                    {"share", kept_in == 0 ? 0.0 : static_cast<double>(kept_out) / kept_in},
                    {"by_word", words}}},
          {"leak_examples", leaks},
          {"lost_examples", lost_examples},
          {"truth_mismatches", mismatches}};
}

inline void print_summary(const nlohmann::json& r) {
  for (const auto& [group, t] : r["recall"].items()) {
    std::printf("  recall %-18s %.4f per value (%ld/%ld), %.4f per occurrence\n", group.c_str(),
                t["recall"].get<double>(), t["values_removed"].get<long>(), t["values"].get<long>(),
                t["recall_occurrences"].get<double>());
  }
  std::printf("  recall %-18s %.4f per value, %.4f per occurrence\n", "DIRECT",
              r["recall_direct"]["recall"].get<double>(),
              r["recall_direct"]["recall_occurrences"].get<double>());
  std::printf("  ordinary words kept: %.4f (%ld/%ld)\n", r["kept"]["share"].get<double>(),
              r["kept"]["kept"].get<long>(), r["kept"]["occurrences"].get<long>());
  if (r["truth_mismatches"].get<long>() != 0) {
    std::printf("  warning: %ld planted values occur less often in the input than truth.json says\n",
                r["truth_mismatches"].get<long>());
  }
}

}  // namespace bench
