// Arbitrary text through the anonymizer (free text and speaker labels) with a fixed roster,
// a small gazetteer and an in-memory vault. Checks: the output is valid UTF-8 in NFC, and
// no roster name survives as a whole word.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
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
    auto gazetteer = Gazetteer::from_lists("Joanna\nGrace\nWill\nJosé\n", "Kowalska\nBaker\n",
                                           "grace\nwill\nbaker\n");
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
  return 0;
}
