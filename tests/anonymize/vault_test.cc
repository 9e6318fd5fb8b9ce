// The vault: stable pseudonyms, encryption at rest, refusal of wrong keys and tampering.
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "anonymize_test_support.h"
#include "support/test_support.h"

using namespace cqda::anonymize;
using namespace cqda::anonymize::testing;
using cqda::policy::Action;

namespace {
const std::string kText = "Maria Santos wrote to joanna.k@example.org from +44 20 7946 0958; Joanna agreed.";

std::string anonymize_with(Vault& vault) {
  Anonymizer a(policy_with(Action::kPseudonymize), roster_of(kRosterCsv), small_gazetteer(), vault);
  return a.anonymize(kText).text;
}
}  // namespace

TEST_CASE("vault key file: created 0600 once, then read back") {
  cqda::test::TempDir dir;
  const auto path = dir / "vault.key";
  auto first = load_or_create_vault_key(path);
  REQUIRE(first.ok());
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(st.st_size == 32);
  auto second = load_or_create_vault_key(path);
  REQUIRE(second.ok());
  CHECK(*first == *second);
  // A hex secret (as in /run/secrets) is accepted; anything else is refused.
  cqda::test::write_text(dir / "hex.key", std::string(64, 'a') + "\n");
  CHECK(load_or_create_vault_key(dir / "hex.key").ok());
  cqda::test::write_text(dir / "short.key", "secret");
  auto bad = load_or_create_vault_key(dir / "short.key");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message.find("short.key") != std::string::npos);
}

TEST_CASE("pseudonyms are stable across anonymizers sharing a vault and across reopen") {
  cqda::test::TempDir dir;
  const auto key = *load_or_create_vault_key(dir / "vault.key");
  std::string first, again;
  {
    auto vault = Vault::open(dir / "pseudonyms.vault", key);
    REQUIRE(vault.ok());
    first = anonymize_with(*vault);
    again = anonymize_with(*vault);
    CHECK(vault->modified());
    REQUIRE(vault->save().ok());
    CHECK_FALSE(vault->modified());
  }
  CHECK(first == again);
  CHECK(first.find("Maria") == std::string::npos);
  CHECK(first.find("joanna") == std::string::npos);
  CHECK(first.find("7946") == std::string::npos);
  struct stat st {};
  REQUIRE(::stat((dir / "pseudonyms.vault").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);

  auto reopened = Vault::open(dir / "pseudonyms.vault", key);
  REQUIRE(reopened.ok());
  CHECK(reopened->size() > 0);
  CHECK(anonymize_with(*reopened) == first);
  CHECK_FALSE(reopened->modified());  // nothing new was seen
}

TEST_CASE("the vault file holds no original in clear text") {
  cqda::test::TempDir dir;
  const auto key = *load_or_create_vault_key(dir / "vault.key");
  auto vault = Vault::open(dir / "pseudonyms.vault", key);
  REQUIRE(vault.ok());
  const std::string out = anonymize_with(*vault);
  REQUIRE(vault->save().ok());
  const std::string bytes = cqda::test::slurp(dir / "pseudonyms.vault");
  for (const char* original : {"Maria", "maria", "santos", "joanna", "example.org", "7946", "Person-"}) {
    CAPTURE(original);
    CHECK(bytes.find(original) == std::string::npos);
  }
  // The map re-identifies.
  const std::size_t at = out.find("Person-");
  REQUIRE(at != std::string::npos);
  auto who = vault->reidentify(out.substr(at, 11));
  REQUIRE(who);
  CHECK(who->type_key == "person");
  CHECK(who->canonical == "maria santos");
}

TEST_CASE("a wrong vault key or a tampered vault is an error, never replaced") {
  cqda::test::TempDir dir;
  const auto key = *load_or_create_vault_key(dir / "vault.key");
  {
    auto vault = Vault::open(dir / "pseudonyms.vault", key);
    REQUIRE(vault.ok());
    anonymize_with(*vault);
    REQUIRE(vault->save().ok());
  }
  const std::string original = cqda::test::slurp(dir / "pseudonyms.vault");
  auto wrong = Vault::open(dir / "pseudonyms.vault", VaultKey::random());
  REQUIRE_FALSE(wrong.ok());
  CHECK(wrong.error().message.find("wrong vault key") != std::string::npos);
  CHECK(cqda::test::slurp(dir / "pseudonyms.vault") == original);

  std::string tampered = original;
  tampered[tampered.size() / 2] ^= 0x01;
  cqda::test::write_text(dir / "pseudonyms.vault", tampered);
  CHECK_FALSE(Vault::open(dir / "pseudonyms.vault", key).ok());
  cqda::test::write_text(dir / "pseudonyms.vault", original.substr(0, 20));
  CHECK_FALSE(Vault::open(dir / "pseudonyms.vault", key).ok());
}

TEST_CASE("different vaults give different pseudonyms; a fixed key gives fixed ones") {
  Vault a = Vault::in_memory(), b = Vault::in_memory();
  CHECK(anonymize_with(a) != anonymize_with(b));
  const auto k = PseudonymKey::random();
  Vault c = Vault::in_memory(k), d = Vault::in_memory(k);
  CHECK(anonymize_with(c) == anonymize_with(d));
}

TEST_CASE("collisions extend the code") {
  Vault vault = Vault::in_memory();
  // A format with one code character: 32 values, so 200 originals must collide and grow.
  PseudonymFormat tiny{"P-", "", false, 1};
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    const std::string p = vault.pseudonym("person", "name " + std::to_string(i), tiny);
    CHECK(seen.insert(p).second);
    CHECK(vault.pseudonym("person", "name " + std::to_string(i), tiny) == p);
  }
  CHECK(vault.size() == 200);
}

TEST_CASE("Crockford base32 alphabet and HMAC domain separation") {
  const auto key = PseudonymKey::random();
  const auto person = pseudonym_mac(key, "person", "maria");
  const auto place = pseudonym_mac(key, "place", "maria");
  CHECK(person != place);
  const std::string code = crockford_base32(person, 51);
  CHECK(code.size() == 51);
  CHECK(code.find_first_of("ILOU") == std::string::npos);
}

TEST_CASE("a vault handed back sealed extends its base only if it kept every mapping and the key") {
  cqda::test::TempDir dir;
  const auto key = *load_or_create_vault_key(dir / "vault.key");
  auto base = Vault::open(dir / "pseudonyms.vault", key);
  REQUIRE(base.ok());
  const PseudonymFormat format{"Person-", "", false, 4};
  const std::string maria = base->pseudonym("person", "maria santos", format);

  // What an honest reader returns: the same mappings plus new ones.
  auto grown = Vault::from_sealed(base->sealed(), key, base->path());
  REQUIRE(grown.ok());
  CHECK(grown->pseudonym("person", "maria santos", format) == maria);
  grown->pseudonym("person", "james whitfield", format);
  CHECK(grown->extends(*base));
  CHECK_FALSE(base->extends(*grown));  // the base lacks the new mapping

  // A mapping rewritten, or a vault with another pseudonym key, does not.
  auto rewritten = Vault::from_sealed(base->sealed(), key, base->path());
  REQUIRE(rewritten.ok());
  rewritten->assign("person", "someone else", maria);
  CHECK_FALSE(rewritten->extends(*base));
  auto other = Vault::open(dir / "other.vault", key);  // a fresh random pseudonym key
  REQUIRE(other.ok());
  CHECK_FALSE(other->extends(*base));
  // A sealed vault under another vault key does not even open.
  CHECK_FALSE(Vault::from_sealed(base->sealed(), VaultKey::random(), base->path()).ok());
}
