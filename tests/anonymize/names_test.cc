// Roster matching, un-rostered names from the gazetteer and context, and the ordinary
// words that must survive.
#include <catch2/catch.hpp>

#include "anonymize_test_support.h"

using namespace cqda::anonymize;
using namespace cqda::anonymize::testing;
using cqda::policy::Action;

namespace {
Fixture& pseudo() {
  static Fixture f(policy_with(Action::kPseudonymize));
  return f;
}
std::string p(const std::string& text) { return pseudo().run(text); }
std::string pseudonym_of(const std::string& name) { return p(name); }
}  // namespace

TEST_CASE("roster CSV parsing") {
  auto r = parse_roster_csv("\xEF\xBB\xBFname,type,aliases\r\n\"Okafor, Amara\",person,\"Dr O;\"\"Ama\"\"\"\r\n\r\nLeeds,place,\n");
  REQUIRE(r.ok());
  REQUIRE(r->entries.size() == 2);
  CHECK(r->entries[0].name == "Okafor, Amara");
  CHECK(r->entries[0].aliases == std::vector<std::string>{"Dr O", "\"Ama\""});
  CHECK(r->entries[1].type == cqda::policy::EntityType::kPlace);
  CHECK(r->entries[1].line == 4);

  auto bad_type = parse_roster_csv("name,aliases,type\nMaria,,persn\n");
  REQUIRE_FALSE(bad_type.ok());
  CHECK(bad_type.error().message == "roster line 2: unknown type 'persn' (expected person, place or org)");
  auto no_header = parse_roster_csv("Maria,,person\n");
  REQUIRE_FALSE(no_header.ok());
  CHECK(no_header.error().message.find("roster line 1") == 0);
  auto fields = parse_roster_csv("name,aliases,type\nMaria,x\n");
  REQUIRE_FALSE(fields.ok());
  CHECK(fields.error().message.find("roster line 2: 2 fields") == 0);
  auto quote = parse_roster_csv("name,aliases,type\n\"Maria,,person\n");
  REQUIRE_FALSE(quote.ok());
  CHECK(quote.error().message.find("roster line 2") == 0);
  auto twice = parse_roster_csv("name,aliases,type\nMaria,,person\nAnna,maria,person\n");
  REQUIRE_FALSE(twice.ok());
  CHECK(twice.error().message.find("roster line 3") == 0);
}

TEST_CASE("every form of a rostered person gets the same pseudonym") {
  const std::string id = pseudonym_of("Maria Santos");
  REQUIRE(id.rfind("Person-", 0) == 0);
  CHECK(p("I met Maria Santos.") == "I met " + id + ".");
  CHECK(p("Maria said so.") == id + " said so.");
  CHECK(p("ask Santos") == "ask " + id);
  CHECK(p("Mimi laughed") == id + " laughed");
  CHECK(p("MARIA SANTOS:") == id + ":");
  CHECK(p("MARIA:") == id + ":");
  CHECK(p("maria santos") == id);
  CHECK(p("Maria's car and Santos' house") == id + "'s car and " + id + "' house");
  CHECK(p("Maria\u2019s car") == id + "\u2019s car");
  CHECK(p("Mrs Santos and Mrs. Santos") == "Mrs " + id + " and Mrs. " + id);
  const std::string okafor = pseudonym_of("Amara Okafor");
  CHECK(okafor != id);
  CHECK(p("Dr. Okafor and Dr Okafor") == "Dr. " + okafor + " and Dr " + okafor);
  CHECK(p("Sister Okafor, Nurse Okafor") == "Sister " + okafor + ", Nurse " + okafor);
}

TEST_CASE("longest roster form first, lower-case first names stay") {
  const std::string id = pseudonym_of("Maria Santos");
  CHECK(p("Maria Santos") == id);  // one replacement, not two
  CHECK(pseudo().anonymizer.anonymize("Maria Santos").counts.at("person") == 1);
  CHECK(p("santos means saints") == "santos means saints");
  const std::string compound = p("Maria-Luisa came and 45-Maria left");
  CHECK(compound.find("Maria") == std::string::npos);  // the compound is replaced whole
  CHECK(compound.find("45-" + id + " left") != std::string::npos);
}

TEST_CASE("places and organisations, any case, on word boundaries") {
  Fixture f(policy_with(Action::kRedact));
  CHECK(f.run("She lives at St Anne's Care Home.") == "She lives at [PLACE].");
  CHECK(f.run("st anne's care home, ST. ANNE'S") == "[PLACE], [PLACE]");
  CHECK(f.run("Northgate Hospital NHS Trust and Northgate") == "[ORG] and [ORG]");
  CHECK(f.run("moved to leeds; Leeds United") == "moved to [PLACE]; [PLACE] United");
  CHECK(f.run("Northgates and Leedsy") == "Northgates and Leedsy");
}

TEST_CASE("roster ambiguity: a part shared by two people, an ordinary-word surname") {
  const char* csv = "name,aliases,type\nMaria Santos,,person\nMaria Lopez,,person\nGrace Baker,,person\n";
  Fixture f(policy_with(Action::kPseudonymize), csv);
  const std::string santos = f.run("Maria Santos"), lopez = f.run("Maria Lopez"), maria = f.run("Maria");
  CHECK(maria.rfind("Person-", 0) == 0);
  CHECK(maria != santos);
  CHECK(maria != lopez);
  const std::string baker = f.run("Grace Baker");
  CHECK(f.run("I asked Baker") == "I asked " + baker);
  CHECK(f.run("Baker said") == "Baker said");          // sentence-initial ordinary word
  CHECK(f.run("a baker and a cook") == "a baker and a cook");
  CHECK(f.run("Grace period") == "Grace period");
  CHECK(f.run("my sister Grace") == "my sister " + baker);
}

TEST_CASE("a rostered name with a rare dictionary sense is replaced at a sentence start") {
  Fixture f(policy_with(Action::kPseudonymize), "name,aliases,type\nMaria Santos,,person\nJohn Adeyemi,,person\n");
  const std::string maria = f.run("Maria Santos"), john = f.run("John Adeyemi");
  CHECK(f.run("Maria explained the rota.") == maria + " explained the rota.");
  CHECK(f.run("Maria. Five years.") == maria + ". Five years.");
  CHECK(f.run("John's case is a classic.") == john + "'s case is a classic.");
}

TEST_CASE("a name with a Turkish dotless i matches its all-caps speaker label") {
  Fixture f(policy_with(Action::kPseudonymize), "name,aliases,type\nHızır Yılmaz,,person\n");
  const std::string full = f.run("Hızır Yılmaz");
  CHECK(full.rfind("Person-", 0) == 0);
  CHECK(f.run("I asked Hızır.") == "I asked " + full + ".");
  CHECK(f.anonymizer.anonymize_speaker("HIZIR").text == full);
}

TEST_CASE("gazetteer names with a dotless i are found") {
  Vault vault = Vault::in_memory();
  Anonymizer a(policy_with(Action::kRedact), Roster{}, Gazetteer::from_lists("Çablı\nArın\n", "", ""), vault);
  CHECK(a.anonymize("I told Çablı and Arın.").text == "I told [PERSON] and [PERSON].");
}

TEST_CASE("roster-chosen pseudonyms") {
  Fixture f(policy_with(Action::kPseudonymize), "name,aliases,type,pseudonym\nMaria Santos,Mimi,person,Ana\n");
  CHECK(f.run("Maria and Mimi and Maria Santos") == "Ana and Ana and Ana");
  auto who = f.vault.reidentify("Ana");
  REQUIRE(who);
  CHECK(who->canonical == "maria santos");
}

TEST_CASE("un-rostered names from the gazetteer") {
  Fixture f;
  CHECK(f.run("Joanna said it was fine.") == "[PERSON] said it was fine.");
  CHECK(f.run("I spoke to Joanna Kowalska yesterday") == "I spoke to [PERSON] yesterday");
  CHECK(f.run("then Joanna Wiśniewska came") == "then [PERSON] came");
  CHECK(f.run("and then Kowalska left") == "and then [PERSON] left");
  CHECK(f.run("We asked Anne-Marie and Sean O'Brien") == "We asked [PERSON] and Sean [PERSON]");
  CHECK(f.run("Zoë, José, Łukasz Müller and Nguyễn") == "[PERSON], [PERSON], [PERSON] and [PERSON]");
}

TEST_CASE("context makes a name: titles, kinship, verbs of address") {
  Fixture f;
  CHECK(f.run("Dr. Adeyemi was kind") == "Dr. [PERSON] was kind");
  CHECK(f.run("Mrs Wojcik and Prof. Lindqvist") == "Mrs [PERSON] and Prof. [PERSON]");
  CHECK(f.run("my sister Hope came") == "my sister [PERSON] came");
  CHECK(f.run("her husband Will works nights") == "her husband [PERSON] works nights");
  CHECK(f.run("my colleague Frank and I") == "my colleague [PERSON] and I");
  CHECK(f.run("I told Will about it") == "I told [PERSON] about it");
  CHECK(f.run("I talked to Rose yesterday") == "I talked to [PERSON] yesterday");
  CHECK(f.run("a friend called Joy") == "a friend called [PERSON]");
  CHECK(f.run("Rose Okafor said") == "[PERSON] said");
}

TEST_CASE("ordinary words are not names") {
  Fixture f;
  for (const char* text : {
           "We met in May and June.", "I will go.", "Will you come?", "She gave me a rose.",
           "Grace period ends in April.", "Hope is what keeps us going.", "They passed the Bill.",
           "Frank and honest, that was her.", "Mark my words.", "Sunny days in August.",
           "I am English.", "The NHS and COVID changed Christmas.", "On Monday I saw the GP.",
           "Joy is rare.", "Faith matters.", "Summer came early.", "Pat the dog.",
           "Young people need support.", "White bread.", "Chase the dream.",
           "I said no.", "The Interviewer asked."}) {
    CAPTURE(text);
    CHECK(f.run(text) == text);
  }
}

TEST_CASE("keep_words need context") {
  auto policy = policy_with(Action::kRedact);
  policy.names.keep_words = {"Joanna"};
  Fixture f(policy);
  CHECK(f.run("Joanna values matter") == "Joanna values matter");
  CHECK(f.run("as Joanna said") == "as Joanna said");
  CHECK(f.run("my friend Joanna said") == "my friend [PERSON] said");
}

TEST_CASE("without a gazetteer only the roster and context find names") {
  Fixture f(policy_with(Action::kRedact), kRosterCsv, false);
  CHECK(f.run("Joanna said") == "Joanna said");
  CHECK(f.run("Dr. Adeyemi said") == "Dr. [PERSON] said");
  CHECK(f.run("Maria said") == "[PERSON] said");
}

TEST_CASE("speaker labels") {
  Fixture f(policy_with(Action::kPseudonymize));
  const std::string maria = f.run("Maria Santos");
  CHECK(f.anonymizer.anonymize_speaker("MARIA").text == maria);
  CHECK(f.anonymizer.anonymize_speaker("Dr. Okafor").text == "Dr. " + f.run("Amara Okafor"));
  CHECK(f.anonymizer.anonymize_speaker("P03").text == "P03");
  CHECK(f.anonymizer.anonymize_speaker("Interviewer").text == "Interviewer");
  CHECK(f.anonymizer.anonymize_speaker("Participant 3").text == "Participant 3");
  CHECK(f.anonymizer.anonymize_speaker("Will").text.rfind("Person-", 0) == 0);
  CHECK(f.anonymizer.anonymize_speaker("Zebedee Quux").text.rfind("Person-", 0) == 0);
  // WebVTT voice tags inside text.
  CHECK(f.run("<v Maria Santos>Hello there") == "<v " + maria + ">Hello there");
  CHECK(f.run("<v.loud Will>Hi") == "<v.loud " + f.anonymizer.anonymize_speaker("Will").text + ">Hi");
}
