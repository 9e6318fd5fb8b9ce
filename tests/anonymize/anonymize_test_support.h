// Shared fixtures for the anonymizer tests: a policy with every detector on, a small
// gazetteer built in the test (never the bundled lists), and an in-memory vault.
#pragma once

#include <string>

#include "anonymize/anonymizer.h"
#include "anonymize/entity.h"

namespace cqda::anonymize::testing {

inline policy::AnonymizationPolicy policy_with(policy::Action action) {
  using policy::EntityType;
  policy::AnonymizationPolicy p;
  for (EntityType t : {EntityType::kPerson, EntityType::kPlace, EntityType::kOrg, EntityType::kEmail,
                       EntityType::kPhone, EntityType::kUrl, EntityType::kIp, EntityType::kIban,
                       EntityType::kPaymentCard, EntityType::kNationalId, EntityType::kPostcode,
                       EntityType::kDateOfBirth, EntityType::kHandle, EntityType::kCustom}) {
    p.detectors.insert(t);
    p.actions[t] = action;
  }
  return p;
}

inline Gazetteer small_gazetteer() {
  return Gazetteer::from_lists(
      "# given names\nJoanna\nMaria\nGrace\nHope\nWill\nFrank\nRose\nMay\nJune\nApril\nBill\nMark\n"
      "José\nZoë\nŁukasz\nJack\nLily\nIvy\nFaith\nJoy\nSunny\nDawn\nAmber\nRuby\nPat\nSue\nArt\n"
      "Chase\nGuy\nIris\nSummer\nAugust\nTomasz\nAhmed\nPriya\nDavid\nJohn\nSarah\nAnne\nMarie\n"
      "Anne-Marie\nAmara\nChristian\n",
      "Kowalska\nKowalski\nSmith\nBaker\nCook\nWhite\nYoung\nOkafor\nMüller\nNguyễn\nSantos\n"
      "Hunter\nPage\nChase\nO'Brien\nPatel\n",
      "may\nwill\nrose\ngrace\nhope\nmark\nbill\nfrank\nsunny\njune\napril\naugust\njoy\nfaith\n"
      "summer\ndawn\namber\nruby\njack\npat\nsue\nart\nchase\nguy\nlily\nivy\niris\npage\nhunter\n"
      "baker\ncook\nsmith\nwhite\nyoung\nmaria\njohn\n");  // maria, john: rare dictionary words
}

inline Roster roster_of(const std::string& csv) {
  auto roster = parse_roster_csv(csv);
  if (!roster) throw std::runtime_error(roster.error().message);
  return std::move(*roster);
}

inline const char* kRosterCsv =
    "name,aliases,type,pseudonym\n"
    "Maria Santos,Mimi,person,\n"
    "Amara Okafor,,person,\n"
    "Tomasz Kowalski,Tom,person,\n"
    "Grace Baker,,person,\n"
    "St Anne's Care Home,St Anne's,place,\n"
    "Northgate Hospital NHS Trust,Northgate,org,\n"
    "Leeds,,place,\n";

// An anonymizer over its own in-memory vault.
struct Fixture {
  explicit Fixture(policy::AnonymizationPolicy p = policy_with(policy::Action::kRedact),
                   const std::string& roster_csv = kRosterCsv, bool with_gazetteer = true)
      : vault(Vault::in_memory(PseudonymKey::from_bytes(reinterpret_cast<const std::uint8_t*>(
            "0123456789abcdef0123456789abcdef")))),
        anonymizer(p, roster_of(roster_csv), with_gazetteer ? small_gazetteer() : Gazetteer(), vault) {}
  std::string run(const std::string& text) { return anonymizer.anonymize(text).text; }
  Vault vault;
  Anonymizer anonymizer;
};

}  // namespace cqda::anonymize::testing
