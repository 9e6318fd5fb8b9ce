// Arbitrary text through the anonymizer (free text, speaker labels, and a document of one
// segment per line, which learns names across segments) with a fixed roster, a small
// gazetteer and an in-memory vault. Checks: the output is valid UTF-8 in NFC, no roster name
// survives as a whole word, and the document's offsets point at its segments.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>

#include <utf8proc.h>

#include "anonymize/anonymizer.h"
#include "common/utf8.h"

namespace {

using namespace cqda::anonymize;

constexpr std::string_view kRosterNames[] = {"Maria Santos", "Amara Okafor", "Zoë Nguyễn",
                                             "St Anne's Care Home"};

Anonymizer& anonymizer() {
  static Vault vault = Vault::in_memory(PseudonymKey::from_bytes(
      reinterpret_cast<const std::uint8_t*>("fuzzing-key-0123456789abcdef0123")));
  static Anonymizer instance = [] {
    cqda::policy::AnonymizationPolicy policy;
    for (auto type : {cqda::policy::EntityType::kPerson, cqda::policy::EntityType::kPlace,
                      cqda::policy::EntityType::kOrg, cqda::policy::EntityType::kEmail,
                      cqda::policy::EntityType::kPhone, cqda::policy::EntityType::kUrl,
                      cqda::policy::EntityType::kIp, cqda::policy::EntityType::kIban,
                      cqda::policy::EntityType::kPaymentCard, cqda::policy::EntityType::kNationalId,
                      cqda::policy::EntityType::kPostcode, cqda::policy::EntityType::kDateOfBirth,
                      cqda::policy::EntityType::kHandle})
      policy.detectors.insert(type);
    policy.actions[cqda::policy::EntityType::kDateOfBirth] = cqda::policy::Action::kGeneralize;
    policy.actions[cqda::policy::EntityType::kPostcode] = cqda::policy::Action::kGeneralize;
    policy.actions[cqda::policy::EntityType::kIp] = cqda::policy::Action::kGeneralize;
    policy.custom_patterns.push_back({"case", R"(\bCASE-\d+\b)", cqda::policy::Action::kRedact});
    auto roster = parse_roster_csv(
        "name,aliases,type\nMaria Santos,Mimi,person\nAmara Okafor,,person\nZoë Nguyễn,,person\n"
        "St Anne's Care Home,,place\n");
    if (!roster) std::abort();
    // Places and English words too: the place, street and unknown-word rules run.
    auto gazetteer = Gazetteer::from_lists("Joanna\nGrace\nWill\nJosé\n", "Kowalska\nBaker\n",
                                           "grace\nwill\nbaker\n",
                                           "Kraków\nSan Francisco\nRio de Janeiro\nSaint-Étienne\nNew York\n",
                                           "the\nmanager\nfinally\ndeputy\nsaid\nand\nour\nnew\n");
    return Anonymizer(policy, std::move(*roster), std::move(gazetteer), vault);
  }();
  return instance;
}

// Letters, digits and combining marks: what the tokenizer joins into one word.
bool word_char_at(std::string_view s, std::size_t pos) {
  if (pos >= s.size()) return false;
  const char32_t cp = cqda::utf8::decode(s, pos);
  const auto category = utf8proc_category(static_cast<utf8proc_int32_t>(cp));
  return cqda::utf8::is_letter(cp) || cqda::utf8::is_digit(cp) || category == UTF8PROC_CATEGORY_MN ||
         category == UTF8PROC_CATEGORY_MC || category == UTF8PROC_CATEGORY_ME ||
         category == UTF8PROC_CATEGORY_ND || category == UTF8PROC_CATEGORY_NL ||
         category == UTF8PROC_CATEGORY_NO;
}

bool word_char_before(std::string_view s, std::size_t pos) {
  if (pos == 0) return false;
  std::size_t k = pos - 1;
  while (k > 0 && (static_cast<unsigned char>(s[k]) & 0xC0) == 0x80) --k;
  return word_char_at(s, k);
}

void check(const std::string& out) {
  if (cqda::utf8::first_invalid_byte(out)) std::abort();
  if (cqda::utf8::to_nfc(out) != out) std::abort();
  for (std::string_view name : kRosterNames) {
    for (std::size_t at = out.find(name); at != std::string::npos; at = out.find(name, at + 1)) {
      if (!word_char_before(out, at) && !word_char_at(out, at + name.size())) {
        std::fprintf(stderr, "survived: [%s]\n", out.substr(at > 40 ? at - 40 : 0, 100).c_str());
        std::abort();
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 64 * 1024) return 0;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (cqda::utf8::first_invalid_byte(bytes)) return 0;
  const std::string text = cqda::utf8::to_nfc(bytes);
  check(anonymizer().anonymize(text).text);
  if (text.size() < 200) check(anonymizer().anonymize_speaker(text).text);

  // One segment per line; a line "LABEL: text" has a speaker.
  cqda::Document doc;
  doc.id = "fuzz";
  std::size_t start = 0;
  while (start <= text.size() && doc.segments.size() < 64) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    cqda::Segment segment;
    segment.text = text.substr(start, end - start);
    if (const std::size_t colon = segment.text.find(": "); colon != std::string::npos && colon < 40) {
      segment.speaker = segment.text.substr(0, colon);
      segment.text.erase(0, colon + 2);
    }
    if (!segment.text.empty()) doc.segments.push_back(std::move(segment));
    start = end + 1;
  }
  cqda::number_segments(doc);
  cqda::render_document_text(doc);
  std::map<std::string, std::size_t> counts;
  anonymize_document(doc, anonymizer(), counts);
  check(doc.text);
  for (const cqda::Segment& segment : doc.segments) {
    check(segment.text);
    check(segment.speaker);
    if (cqda::utf8::substr(doc.text, segment.start, segment.length) != segment.text) std::abort();
  }
  return 0;
}
