// Actions, counts, custom patterns, overlaps, UTF-8/NFC and whole documents.
#include <catch2/catch.hpp>

#include "anonymize_test_support.h"
#include "common/utf8.h"

using namespace cqda::anonymize;
using namespace cqda::anonymize::testing;
using cqda::policy::Action;
using cqda::policy::EntityType;

TEST_CASE("pseudonym formats") {
  Fixture f(policy_with(Action::kPseudonymize));
  const std::string out = f.run(
      "Maria Santos (maria@example.org, +44 20 7946 0958, @maria_cares) lives at St Anne's Care Home, "
      "works for Northgate and was born on 12 March 1984; IP 10.1.2.3, M14 5AB, "
      "https://example.org/x, card 4111 1111 1111 1111, IBAN GB82WEST12345698765432, SSN 123-45-6789.");
  CAPTURE(out);
  const std::pair<const char*, const char*> expected[] = {
      {"Person-", "Maria"}, {"person-", "maria@"}, {"[PHONE-", "7946"}, {"@user-", "maria_cares"},
      {"Place-", "Anne"}, {"Org-", "Northgate"}, {"[DOB-", "1984"}, {"[IP-", "10.1.2.3"},
      {"[POSTCODE-", "M14"}, {"[URL-", "example.org/x"}, {"[CARD-", "4111"}, {"[IBAN-", "WEST"},
      {"[NATIONAL-ID-", "6789"}};
  for (auto [prefix, original] : expected) {
    CAPTURE(prefix);
    CHECK(out.find(prefix) != std::string::npos);
    CHECK(out.find(original) == std::string::npos);
  }
  CHECK(out.find("@example.invalid") != std::string::npos);
}

TEST_CASE("actions: redact, generalize, keep") {
  const std::string text = "Maria was born on 12 March 1984 in Leeds, M14 5AB, from 192.168.1.20 (maria@example.org).";
  Fixture redact(policy_with(Action::kRedact));
  CHECK(redact.run(text) == "[PERSON] was born on [DOB] in [PLACE], [POSTCODE], from [IP] ([EMAIL]).");
  Fixture general(policy_with(Action::kGeneralize));
  CHECK(general.run(text) == "[PERSON] was born on 1984 in [PLACE], M14 \u2026, from 192.168.x.x ([EMAIL]).");
  CHECK(general.run("PLZ 80331 and 10115 Berlin") == "PLZ 803\u2026 and 10\u2026 Berlin");
  auto keep_policy = policy_with(Action::kKeep);
  Fixture keep(keep_policy);
  auto kept = keep.anonymizer.anonymize(text);
  CHECK(kept.text == text);
  CHECK(kept.counts.empty());
  // Mixed: the action is per type.
  auto mixed = policy_with(Action::kRedact);
  mixed.actions[EntityType::kPlace] = Action::kKeep;
  mixed.actions.erase(EntityType::kEmail);  // no entry: pseudonymize
  Fixture m(mixed);
  const std::string out = m.run(text);
  CHECK(out.find("in Leeds,") != std::string::npos);
  CHECK(out.find("@example.invalid") != std::string::npos);
}

TEST_CASE("counts per entity type") {
  Fixture f(policy_with(Action::kRedact));
  auto r = f.anonymizer.anonymize("Maria and Joanna mailed a@b.org and c@d.org from Leeds.");
  CHECK(r.counts == std::map<std::string, std::size_t>{{"person", 2}, {"email", 2}, {"place", 1}});
}

TEST_CASE("custom patterns") {
  auto p = policy_with(Action::kRedact);
  p.custom_patterns.push_back({"case_number", R"(\bCASE-\d{4,}\b)", Action::kRedact});
  p.custom_patterns.push_back({"ward", R"(\bWard [A-Z]\d\b)", Action::kPseudonymize});
  Fixture f(p);
  auto r = f.anonymizer.anonymize("See CASE-20231 and CASE-7 on Ward B4.");
  CHECK(r.text.find("See [CASE_NUMBER] and CASE-7 on [WARD-") == 0);
  CHECK(r.counts.at("custom:case_number") == 1);
  CHECK(r.counts.at("custom:ward") == 1);

  auto bad = policy_with(Action::kRedact);
  bad.custom_patterns.push_back({"broken", "(unclosed", Action::kRedact});
  CHECK_FALSE(check_custom_patterns(bad).ok());
  Fixture g(bad);
  CHECK_FALSE(g.anonymizer.status().ok());
}

TEST_CASE("overlaps: the longer detection wins and nothing is left half-replaced") {
  auto p = policy_with(Action::kRedact);
  p.custom_patterns.push_back({"code", R"(santos@exa)", Action::kRedact});
  Fixture f(p);
  // The e-mail contains a custom match: one replacement, no fragment of either.
  CHECK(f.run("mail maria.santos@example.org now") == "mail [EMAIL] now");
  // A custom match that sticks out of the e-mail is absorbed.
  auto q = policy_with(Action::kRedact);
  q.custom_patterns.push_back({"code", R"(org now)", Action::kRedact});
  Fixture g(q);
  CHECK(g.run("mail maria.santos@example.org now!") == "mail [EMAIL]!");
}

TEST_CASE("UTF-8 in, valid NFC out") {
  Fixture f(policy_with(Action::kRedact), "name,aliases,type\nZoë Nguyễn,,person\nŁukasz Müller,,person\n");
  CHECK(f.run("Zoë and Nguyễn met ŁUKASZ MÜLLER and Müller") == "[PERSON] and [PERSON] met [PERSON] and [PERSON]");
  // A combining mark after a replaced name must not leave non-NFC text.
  const std::string out = f.run("Zoë\u0301 ok");
  CHECK_FALSE(cqda::utf8::first_invalid_byte(out).has_value());
  CHECK(out == cqda::utf8::to_nfc(out));
  // Invalid bytes become U+FFFD; names around them are still found.
  const std::string bad = f.run(std::string("Zoë \xff\xfe Müller"));
  CHECK_FALSE(cqda::utf8::first_invalid_byte(bad).has_value());
  CHECK(bad.find("Zoë") == std::string::npos);
}

TEST_CASE("anonymize_document re-renders with correct offsets") {
  Fixture f(policy_with(Action::kRedact));
  cqda::Document doc;
  doc.id = "interviews-p01-txt";
  doc.segments.resize(2);
  doc.segments[0].speaker = "Interviewer";
  doc.segments[0].text = "Hello Maria, how is Leeds?";
  doc.segments[1].speaker = "MARIA";
  doc.segments[1].text = "Fine. Email me at maria@example.org.";
  cqda::number_segments(doc);
  cqda::render_document_text(doc);
  std::map<std::string, std::size_t> counts{{"person", 1}};
  anonymize_document(doc, f.anonymizer, counts);
  CHECK(doc.segments[0].text == "Hello [PERSON], how is [PLACE]?");
  CHECK(doc.segments[1].speaker == "[PERSON]");
  CHECK(doc.text == "Interviewer: Hello [PERSON], how is [PLACE]?\n\n[PERSON]: Fine. Email me at [EMAIL].");
  for (const auto& s : doc.segments)
    CHECK(cqda::utf8::substr(doc.text, s.start, s.length) == s.text);
  CHECK(counts == std::map<std::string, std::size_t>{{"person", 3}, {"place", 1}, {"email", 1}});
}
