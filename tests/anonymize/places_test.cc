// Places from the place list and street addresses; unknown words that context makes names;
// names learned in one document and replaced everywhere in it.
#include <catch2/catch.hpp>

#include "anonymize_test_support.h"
#include "common/utf8.h"
#include "resources/resources.h"

using namespace cqda::anonymize;
using namespace cqda::anonymize::testing;
using cqda::policy::Action;

namespace {

// The small test name lists, a small place list, and the bundled English words.
Gazetteer place_gazetteer() {
  return Gazetteer::from_lists(
      "Joanna\nMaria\nGrace\nHope\nWill\nFrank\nRose\nMay\n", "Kowalska\nSmith\nSantos\n",
      "may\nwill\nrose\ngrace\nhope\nfrank\nsmith\n",
      "Kraków\nKrakow\nSan Francisco\nRio de Janeiro\nSaint-Étienne\nKerala\nEnugu\nLagos\n"
      "Christmas\nBerlin\nSt. Albans\nNew York\n",
      cqda::resources::get("data/words/english.txt"));
}

struct PlaceFixture {
  explicit PlaceFixture(cqda::policy::AnonymizationPolicy p = policy_with(Action::kRedact),
                        const std::string& roster = kRosterCsv)
      : vault(Vault::in_memory(PseudonymKey::from_bytes(reinterpret_cast<const std::uint8_t*>(
            "0123456789abcdef0123456789abcdef")))),
        anonymizer(p, roster_of(roster), place_gazetteer(), vault) {}
  std::string run(const std::string& text) { return anonymizer.anonymize(text).text; }
  Vault vault;
  Anonymizer anonymizer;
};

cqda::Document document_of(std::vector<std::pair<std::string, std::string>> turns) {
  cqda::Document doc;
  doc.id = "doc";
  for (auto& [speaker, text] : turns) {
    cqda::Segment s;
    s.speaker = speaker;
    s.text = text;
    doc.segments.push_back(std::move(s));
  }
  cqda::number_segments(doc);
  cqda::render_document_text(doc);
  return doc;
}

}  // namespace

TEST_CASE("places from the place list, longest first, in their own capitalization") {
  PlaceFixture f;
  CHECK(f.run("I moved from Kraków to San Francisco in 2015.") == "I moved from [PLACE] to [PLACE] in 2015.");
  CHECK(f.run("then Krakow again") == "then [PLACE] again");
  CHECK(f.run("Rio de Janeiro and Saint-Étienne") == "[PLACE] and [PLACE]");
  CHECK(f.run("near St. Albans, not New York") == "near [PLACE], not [PLACE]");
  CHECK(f.run("Other carers from Kerala, we share a flat.") == "Other carers from [PLACE], we share a flat.");
  CHECK(f.run("Lagos-based agencies") == "[PLACE]-based agencies");
  // Lowercase is not a place name; San alone or a longer name that is not one stays.
  CHECK(f.run("kraków in lowercase") == "kraków in lowercase");
  CHECK(f.run("San") == "San");
  // Common words never are, even when a place has that name.
  CHECK(f.run("At Christmas we call home.") == "At Christmas we call home.");
  // A title or kinship word says it is a person.
  PlaceFixture pseudo(policy_with(Action::kPseudonymize));
  CHECK(pseudo.run("my son Enugu").rfind("my son Person-", 0) == 0);
  CHECK(pseudo.run("in Enugu").rfind("in Place-", 0) == 0);
  // The same place gets the same pseudonym everywhere.
  CHECK(pseudo.run("Berlin") == pseudo.run("Berlin"));
}

TEST_CASE("the roster comes before the place list, keep_words keep a place") {
  auto policy = policy_with(Action::kPseudonymize);
  policy.names.keep_words = {"Berlin"};
  PlaceFixture f(policy, "name,aliases,type,pseudonym\nEnugu,,place,Place-HOME\n");
  CHECK(f.run("born in Enugu") == "born in Place-HOME");
  CHECK(f.run("a flat in Berlin") == "a flat in Berlin");
}

TEST_CASE("places are not detected when the policy turns places or the gazetteer off") {
  auto no_places = policy_with(Action::kRedact);
  no_places.detectors.erase(cqda::policy::EntityType::kPlace);
  PlaceFixture f(no_places, "name,aliases,type\n");
  CHECK(f.run("from Kraków to 12 Mill Lane") == "from Kraków to 12 Mill Lane");
  auto no_gazetteer = policy_with(Action::kRedact);
  no_gazetteer.names.gazetteer = false;
  PlaceFixture g(no_gazetteer, "name,aliases,type\n");
  CHECK(g.run("from Kraków") == "from Kraków");
}

TEST_CASE("street addresses") {
  PlaceFixture f(policy_with(Action::kRedact), "name,aliases,type\n");
  CHECK(f.run("she lives at 12 Mill Lane now") == "she lives at [PLACE] now");
  CHECK(f.run("my flat on Lindenhofstraße 4 was cold") == "my flat on [PLACE] was cold");
  CHECK(f.run("the office in Mariahilfergasse") == "the office in [PLACE]");
  CHECK(f.run("we walked down Acacia Avenue") == "we walked down [PLACE]");
  CHECK(f.run("45a Okonkwo Road") == "[PLACE]");
  CHECK(f.run("at 7 Harbour Close") == "at [PLACE]");
  // Generic names without a number, and street-type words that are ordinary words, stay.
  CHECK(f.run("the shops on the High Street") == "the shops on the High Street");
  CHECK(f.run("The Supreme Court ruled") == "The Supreme Court ruled");
  CHECK(f.run("Glenn Close said") == "Glenn Close said");     // Close needs a house number
  CHECK(f.run("Harbour Close is quiet") == "Harbour Close is quiet");
  // A person named like a street: a title, or a given name first.
  CHECK(f.run("Mrs Sarah Lane came").find("[PLACE]") == std::string::npos);
  CHECK(f.run("then Maria Lane came") == "then [PERSON] Lane came");
  // A rostered street keeps its roster pseudonym; the number stays.
  PlaceFixture r(policy_with(Action::kPseudonymize), "name,aliases,type,pseudonym\nHawthorn Street,,place,Place-HAWT\n");
  CHECK(r.run("at 14 Hawthorn Street") == "at 14 Place-HAWT");
}

TEST_CASE("unknown words that context makes names") {
  PlaceFixture f;
  // An apposition naming a role.
  CHECK(f.run("Siobhan, the deputy, called him Jim.") == "[PERSON], the deputy, called him Jim.");
  CHECK(f.run("We met Oisín, our new cook.") == "We met [PERSON], our new cook.");
  // Two unknown Capitalized words in a row.
  CHECK(f.run("on the printer: Tendai Moyo, date of birth") == "on the printer: [PERSON], date of birth");
  // An unknown word before a known surname.
  CHECK(f.run("Chipo Kowalska came") == "[PERSON] came");
  // Ordinary words stay: they are English words, or the pattern is not there.
  for (const char* text : {"Finally, the manager said no.", "Honestly, the deputy was kind.",
                           "Tendai said nothing.", "Universal Credit is slow.", "Home Office rules",
                           "Care Quality Commission", "OK, the deputy left.", "ZQXV, our adviser, said so."}) {
    CAPTURE(text);
    CHECK(f.run(text) == text);
  }
}

TEST_CASE("without the English word list unknown words are never names") {
  // With the gazetteer off there is no word list: every word would look unknown.
  auto policy = policy_with(Action::kRedact);
  policy.names.gazetteer = false;
  PlaceFixture f(policy, "name,aliases,type\n");
  CHECK(f.run("Siobhan, the deputy, left.") == "Siobhan, the deputy, left.");
  CHECK(f.run("Tendai Moyo came.") == "Tendai Moyo came.");
}

TEST_CASE("names learned in a document are replaced everywhere in it") {
  PlaceFixture f(policy_with(Action::kPseudonymize));
  auto doc = document_of({{"", "Bea asks me when I am coming home."},
                          {"", "I send money to my daughter Bea every month."},
                          {"", "Tendai Moyo started on Monday. Moyo was nervous, and Tendai too."},
                          {"OISIN", "Oisin here."}});
  std::map<std::string, std::size_t> counts;
  anonymize_document(doc, f.anonymizer, counts);
  const std::string bea = f.run("my daughter Bea").substr(std::string("my daughter ").size());
  REQUIRE(bea.rfind("Person-", 0) == 0);
  // Learned from the second segment, replaced in the first too, with the same pseudonym.
  CHECK(doc.segments[0].text == bea + " asks me when I am coming home.");
  CHECK(doc.segments[1].text == "I send money to my daughter " + bea + " every month.");
  // The parts of a learned two-word name are keyed by the whole name.
  const std::string tendai = f.run("Tendai Moyo came").substr(0, bea.size());
  CHECK(doc.segments[2].text == tendai + " started on Monday. " + tendai + " was nervous, and " + tendai + " too.");
  // A speaker label teaches its name to the text.
  CHECK(doc.segments[3].speaker.rfind("Person-", 0) == 0);
  CHECK(doc.segments[3].text == doc.segments[3].speaker + " here.");
  CHECK(counts["person"] == 7);  // Bea 2, Tendai Moyo 3, OISIN 1, Oisin 1
  // Nothing is learned across documents: in another document, "Bea asks" is not a name.
  auto other = document_of({{"", "Bea asks me"}});
  anonymize_document(other, f.anonymizer, counts);
  CHECK(other.segments[0].text == "Bea asks me");
  // English words, British spellings too, are never unknown: a title-case heading teaches nothing.
  auto heading = document_of({{"", "Favourite Colour Survey"}, {"", "Colour matters to us."}});
  anonymize_document(heading, f.anonymizer, counts);
  CHECK(heading.segments[0].text == "Favourite Colour Survey");
  CHECK(heading.segments[1].text == "Colour matters to us.");
  // Ordinary and gazetteer words are never learned: "Grace period" stays after "my sister Grace".
  auto doc2 = document_of({{"", "my sister Grace came"}, {"", "Grace period is over"}});
  anonymize_document(doc2, f.anonymizer, counts);
  CHECK(doc2.segments[1].text == "Grace period is over");
}

// After the last segment that teaches a name, segments are not anonymized a second time:
// the result must be what two whole passes give (the second knowing every learned name).
TEST_CASE("a document is anonymized as by two whole passes") {
  PlaceFixture f(policy_with(Action::kPseudonymize));
  const std::vector<std::pair<std::string, std::string>> turns = {
      {"", "Bea asks me when I am coming home."},
      {"", "I send money to my daughter Bea every month."},
      {"", "Tendai Moyo started on Monday."},
      {"", "Moyo was nervous, and Tendai too. Bea called."},
      {"INTERVIEWER", "And Bea? Call me on 07700 900123."},
      {"", "Nothing here to learn, Tendai said."}};
  for (std::size_t cut = 1; cut <= turns.size(); ++cut) {
    std::vector<std::pair<std::string, std::string>> part(turns.begin(), turns.begin() + static_cast<long>(cut));
    auto doc = document_of(part);
    std::map<std::string, std::size_t> counts;
    anonymize_document(doc, f.anonymizer, counts);
    // Two whole passes, by hand.
    LearnedNames learned;
    for (const auto& [speaker, text] : part) {
      if (!speaker.empty()) f.anonymizer.anonymize_speaker(speaker, &learned);
      f.anonymizer.anonymize(text, &learned);
    }
    learned.frozen = true;
    std::map<std::string, std::size_t> expected_counts;
    CAPTURE(cut);
    for (std::size_t i = 0; i < part.size(); ++i) {
      if (!part[i].first.empty()) {
        auto speaker = f.anonymizer.anonymize_speaker(part[i].first, &learned);
        CHECK(doc.segments[i].speaker == speaker.text);
        for (const auto& [type, n] : speaker.counts) expected_counts[type] += n;
      }
      auto text = f.anonymizer.anonymize(part[i].second, &learned);
      CHECK(doc.segments[i].text == text.text);
      for (const auto& [type, n] : text.counts) expected_counts[type] += n;
    }
    CHECK(counts == expected_counts);
  }
}

TEST_CASE("the bundled place and word lists") {
  const Gazetteer g = Gazetteer::bundled();
  REQUIRE(g.has_places());
  REQUIRE(g.has_english());
  for (const char* place : {"San Francisco", "Kraków", "Krakow", "Kerala", "Enugu", "Lagos", "Accra", "Dubai",
                            "Leeds", "Málaga", "Rio de Janeiro"}) {
    CAPTURE(place);
    CHECK(g.is_place(place));
  }
  // Dropped: ordinary English words, names from the name lists, all-English phrases.
  for (const char* word : {"Reading", "Bath", "Mobile", "Nice", "Maria", "Santos", "The Valley", "Business Bay"}) {
    CAPTURE(word);
    CHECK_FALSE(g.is_place(word));
  }
  CHECK(g.place_prefix("San Fran"));
  CHECK(g.is_english("finally"));
  CHECK_FALSE(g.is_english("siobhan"));
  CHECK_FALSE(g.is_english("Paris"));
}

TEST_CASE("SortedList looks up exact entries and prefixes") {
  const std::string text = "b\n# comment\n\na\nab\nc\r\n";
  SortedList list(text);
  CHECK(list.size() == 4);
  CHECK(list.contains("a"));
  CHECK(list.contains("ab"));
  CHECK(list.contains("c"));
  CHECK_FALSE(list.contains("# comment"));
  CHECK_FALSE(list.contains("abc"));
  CHECK(list.has_prefix("a"));
  CHECK_FALSE(list.has_prefix("d"));
  CHECK(SortedList().empty());
}
