#include "anonymize/anonymizer.h"

#include <re2/re2.h>
#include <utf8proc.h>

#include <algorithm>

#include "anonymize/entity.h"
#include "anonymize/tokens.h"
#include "common/utf8.h"

namespace cqda::anonymize {
namespace {

using policy::Action;
using policy::EntityType;

NameOptions name_options(const policy::AnonymizationPolicy& policy) {
  NameOptions o;
  o.persons = policy.detectors.count(EntityType::kPerson) > 0;
  o.places = policy.detectors.count(EntityType::kPlace) > 0;
  o.orgs = policy.detectors.count(EntityType::kOrg) > 0;
  o.gazetteer = policy.names.gazetteer;
  o.context = policy.names.context;
  o.keep_words = policy.names.keep_words;
  return o;
}

// Valid UTF-8: the input itself, or a copy with every ill-formed byte replaced by U+FFFD.
std::string_view valid_utf8(std::string_view text, std::string& storage) {
  if (!utf8::first_invalid_byte(text)) return text;
  storage.clear();
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t start = pos;
    const char32_t cp = utf8::decode(text, pos);
    if (cp == 0xFFFD && pos == start + 1 && static_cast<unsigned char>(text[start]) >= 0x80) {
      storage += "\uFFFD";
    } else {
      storage.append(text.substr(start, pos - start));
    }
  }
  return storage;
}

bool starts_with_combining(std::string_view text, std::size_t pos) {
  if (pos >= text.size() || static_cast<unsigned char>(text[pos]) < 0x80) return false;
  const char32_t cp = utf8::decode(text, pos);
  return utf8proc_get_property(static_cast<utf8proc_int32_t>(cp))->combining_class != 0 ||
         utf8proc_category(static_cast<utf8proc_int32_t>(cp)) == UTF8PROC_CATEGORY_MC;
}

struct Ranked {
  Detection d;
  std::size_t rank = 0;  // position in the winner order (lower = stronger)
};

// Resolves one group of mutually overlapping detections: the longest wins, ties by
// priority then position; a loser that sticks out of the winners is absorbed into the
// winner it overlaps, so no fragment of it stays in clear text.
void resolve_group(std::vector<Detection>& group, std::vector<Detection>& out) {
  std::stable_sort(group.begin(), group.end(), [](const Detection& a, const Detection& b) {
    if (a.length() != b.length()) return a.length() > b.length();
    if (a.priority != b.priority) return a.priority < b.priority;
    return a.begin < b.begin;
  });
  std::vector<Ranked> winners;
  std::vector<Detection> losers;
  for (std::size_t i = 0; i < group.size(); ++i) {
    const Detection& d = group[i];
    const bool clash = std::any_of(winners.begin(), winners.end(), [&](const Ranked& w) {
      return d.begin < w.d.end && w.d.begin < d.end;
    });
    if (clash) losers.push_back(d);
    else winners.push_back({d, i});
  }
  for (const Detection& l : losers) {
    std::sort(winners.begin(), winners.end(), [](const Ranked& a, const Ranked& b) { return a.d.begin < b.d.begin; });
    std::size_t covered = l.begin;
    for (const Ranked& w : winners)
      if (w.d.begin <= covered && w.d.end > covered) covered = w.d.end;
    if (covered >= l.end) continue;
    // Extend the strongest winner it overlaps, then merge winners that now overlap.
    Ranked* best = nullptr;
    for (Ranked& w : winners)
      if (l.begin < w.d.end && w.d.begin < l.end && (!best || w.rank < best->rank)) best = &w;
    if (!best) continue;
    best->d.begin = std::min(best->d.begin, l.begin);
    best->d.end = std::max(best->d.end, l.end);
    std::sort(winners.begin(), winners.end(), [](const Ranked& a, const Ranked& b) { return a.d.begin < b.d.begin; });
    std::vector<Ranked> merged;
    for (Ranked& w : winners) {
      if (!merged.empty() && w.d.begin < merged.back().d.end) {
        Ranked& m = merged.back();
        const std::size_t b = std::min(m.d.begin, w.d.begin), e = std::max(m.d.end, w.d.end);
        if (w.rank < m.rank) m = w;
        m.d.begin = b;
        m.d.end = e;
      } else {
        merged.push_back(w);
      }
    }
    winners = std::move(merged);
  }
  for (Ranked& w : winners) out.push_back(std::move(w.d));
}

std::vector<Detection> resolve_overlaps(std::vector<Detection>& all) {
  std::sort(all.begin(), all.end(), [](const Detection& a, const Detection& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end > b.end;
  });
  std::vector<Detection> out;
  out.reserve(all.size());
  std::size_t i = 0;
  while (i < all.size()) {
    std::size_t j = i + 1, end = all[i].end;
    while (j < all.size() && all[j].begin < end) {
      end = std::max(end, all[j].end);
      ++j;
    }
    if (j == i + 1) {
      out.push_back(std::move(all[i]));
    } else {
      std::vector<Detection> group(std::make_move_iterator(all.begin() + static_cast<long>(i)),
                                   std::make_move_iterator(all.begin() + static_cast<long>(j)));
      resolve_group(group, out);
    }
    i = j;
  }
  std::sort(out.begin(), out.end(), [](const Detection& a, const Detection& b) { return a.begin < b.begin; });
  return out;
}

const RE2& voice_tag_pattern() {
  static const RE2 re(R"(<v(?:\.[^\s>]*)?[ \t]+([^>\n]{1,200})>)");
  return re;
}

}  // namespace

Anonymizer::Anonymizer(const policy::AnonymizationPolicy& policy, Roster roster, Gazetteer gazetteer,
                       Vault& vault)
    : policy_(policy),
      roster_(std::move(roster)),
      gazetteer_(std::make_unique<Gazetteer>(std::move(gazetteer))),
      vault_(vault),
      detectors_(policy_),
      names_(roster_, gazetteer_.get(), name_options(policy_)) {
  for (const RosterEntry& e : roster_.entries)
    if (!e.pseudonym.empty()) vault_.assign(type_key(e.type), utf8::to_lower(e.name), e.pseudonym);
}

Anonymizer::~Anonymizer() = default;

std::string Anonymizer::replacement(const Detection& d, std::string_view original, AnonymizedText& result) {
  Action action;
  std::string key;
  std::string custom_name;
  if (d.type == EntityType::kCustom && d.custom_index >= 0) {
    const auto& pattern = policy_.custom_patterns[static_cast<std::size_t>(d.custom_index)];
    action = pattern.action;
    custom_name = pattern.name;
    key = "custom:" + pattern.name;
  } else {
    action = action_for(policy_, d.type);
    key = std::string(type_key(d.type));
  }
  auto tag = [&] {
    return d.type == EntityType::kCustom ? "[" + utf8::to_upper(custom_name) + "]" : std::string(type_tag(d.type));
  };
  std::string out;
  switch (action) {
    case Action::kKeep:
      return std::string(original);
    case Action::kRedact:
      out = tag();
      break;
    case Action::kGeneralize:
      out = d.generalized.empty() ? tag() : d.generalized;
      break;
    case Action::kPseudonymize:
      out = vault_.pseudonym(key, d.canonical, pseudonym_format(d.type, custom_name));
      break;
  }
  ++result.counts[key];
  return out;
}

AnonymizedText Anonymizer::anonymize(std::string_view text, LearnedNames* learned) {
  return run(text, false, learned);
}

AnonymizedText Anonymizer::anonymize_speaker(std::string_view label, LearnedNames* learned) {
  return run(label, true, learned);
}

AnonymizedText Anonymizer::run(std::string_view input, bool speaker, LearnedNames* learned) {
  std::string storage;
  const std::string_view text = valid_utf8(input, storage);
  AnonymizedText result;
  std::vector<Detection> found;
  detectors_.scan_custom(text, found);

  // Voice tags: the name inside "<v Maria Santos>" is a speaker label.
  std::vector<AnonymizedText> presets;
  if (!speaker && text.find("<v") != std::string_view::npos) {
    re2::StringPiece input_piece(text.data(), text.size()), name;
    while (RE2::FindAndConsume(&input_piece, voice_tag_pattern(), &name)) {
      AnonymizedText label = run(std::string_view(name.data(), name.size()), true, learned);
      if (label.counts.empty()) continue;
      Detection d;
      d.begin = static_cast<std::size_t>(name.data() - text.data());
      d.end = d.begin + name.size();
      d.priority = kPriorityVoiceTag;
      d.preset_index = static_cast<int>(presets.size());
      presets.push_back(std::move(label));
      found.push_back(std::move(d));
    }
  }

  thread_local std::vector<Token> tokens;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(start, end - start);
    if (!line.empty()) {
      tokenize(line, tokens);
      names_.find(line, tokens, start, speaker, found, learned);
      detectors_.scan_line(line, start, found);
    }
    start = end + 1;
  }
  if (found.empty()) {
    result.text = std::string(text);
    return result;
  }

  const std::vector<Detection> spans = resolve_overlaps(found);
  std::string out;
  out.reserve(text.size() + 16 * spans.size());
  std::size_t cursor = 0;
  bool renormalize = false;
  for (const Detection& d : spans) {
    out.append(text.substr(cursor, d.begin - cursor));
    const std::string_view original = text.substr(d.begin, d.end - d.begin);
    if (d.preset_index >= 0) {
      const AnonymizedText& preset = presets[static_cast<std::size_t>(d.preset_index)];
      out += preset.text;
      for (const auto& [key, n] : preset.counts) result.counts[key] += n;
    } else {
      out += replacement(d, original, result);
    }
    renormalize |= starts_with_combining(text, d.end);
    cursor = d.end;
  }
  out.append(text.substr(cursor));
  result.text = renormalize ? utf8::to_nfc(out) : std::move(out);
  return result;
}

void anonymize_document(Document& document, Anonymizer& anonymizer,
                        std::map<std::string, std::size_t>& counts) {
  LearnedNames learned;
  // Counts of the segments a second pass will not redo, and of those it will.
  std::map<std::string, std::size_t> settled, redone;
  std::vector<std::pair<std::string, std::string>> results(document.segments.size());  // text, speaker
  auto run_segment = [&](std::size_t i, std::map<std::string, std::size_t>& found) {
    const Segment& segment = document.segments[i];
    // Speaker first: a label ("TENDAI:") teaches the name to the turn's text.
    if (!segment.speaker.empty()) {
      AnonymizedText speaker = anonymizer.anonymize_speaker(segment.speaker, &learned);
      results[i].second = std::move(speaker.text);
      for (const auto& [key, n] : speaker.counts) found[key] += n;
    }
    AnonymizedText text = anonymizer.anonymize(segment.text, &learned);
    results[i].first = std::move(text.text);
    for (const auto& [key, n] : text.counts) found[key] += n;
  };
  // First pass. `redo` ends after the last segment that taught a name: a segment after it saw
  // every name the document teaches and learned none, so a second pass would give it the
  // same text (names are only ever added, never changed).
  std::size_t redo = 0;
  for (std::size_t i = 0; i < document.segments.size(); ++i) {
    const std::size_t known = learned.names.size();
    run_segment(i, settled);
    if (learned.names.size() != known) {
      redo = i + 1;
      settled.clear();  // this segment and all before it are redone
    }
  }
  if (redo > 0) {
    // A name learned late in the document may have been left earlier: run those again, knowing it.
    learned.frozen = true;
    for (std::size_t i = 0; i < redo; ++i) run_segment(i, redone);
  }
  for (const auto& [key, n] : redone) settled[key] += n;
  std::map<std::string, std::size_t>& found = settled;
  for (std::size_t i = 0; i < document.segments.size(); ++i) {
    Segment& segment = document.segments[i];
    segment.text = std::move(results[i].first);
    if (!segment.speaker.empty()) segment.speaker = std::move(results[i].second);
  }
  for (const auto& [key, n] : found) counts[key] += n;
  render_document_text(document);
}

}  // namespace cqda::anonymize
