#include <catch2/catch.hpp>

#include "policy/policy.h"
#include "resources/resources.h"
#include "support/test_support.h"

using namespace cqda;

namespace {

std::string default_text() { return std::string(resources::get("policy/default.json")); }

// The default policy with one JSON fragment replaced (plain text substitution).
std::string with(const std::string& from, const std::string& to) {
  std::string text = default_text();
  auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

}  // namespace

TEST_CASE("the bundled default policy is valid and safe", "[policy]") {
  policy::Policy p = policy::default_policy();
  CHECK(p.paths.include.size() == 7);
  CHECK(p.paths.document_types.size() == 7);
  CHECK(p.egress.endpoints.empty());
  CHECK(p.egress.token_budget == 0);
  CHECK_FALSE(p.egress.allow_raw_text);
  CHECK(p.exports.require_anonymized);
  CHECK(p.anonymization.apply_to.size() == 3);
  CHECK(p.anonymization.action_for(policy::EntityType::kPerson) == policy::Action::kPseudonymize);
  CHECK(p.anonymization.action_for(policy::EntityType::kEmail) == policy::Action::kRedact);
  CHECK(p.anonymization.detectors.size() == policy::all_entity_types().size());
  CHECK(p.sha256.size() == 64);
}

TEST_CASE("the example policy is valid and adds the case-number pattern", "[policy]") {
  auto p = policy::load_policy_file((test::source_dir() / "examples/policy.json").string());
  REQUIRE(p.ok());
  REQUIRE(p->anonymization.custom_patterns.size() == 1);
  CHECK(p->anonymization.custom_patterns[0].name == "case_number");
  CHECK(p->anonymization.custom_patterns[0].action == policy::Action::kRedact);
}

TEST_CASE("comments are allowed in policy files", "[policy]") {
  auto p = policy::load_policy_text("/* block */\n" + default_text() + "\n// trailing", "p.json");
  CHECK(p.ok());
}

TEST_CASE("an invalid policy lists every violation with its JSON pointer", "[policy]") {
  std::string text = default_text();
  auto replace = [&](const std::string& from, const std::string& to) {
    auto at = text.find(from);
    REQUIRE(at != std::string::npos);
    text.replace(at, from.size(), to);
  };
  replace("\"max_file_bytes\": 20971520", "\"max_file_bytes\": -5");
  replace("\"person\": \"pseudonymize\"", "\"person\": \"shred\"");
  replace("\"allow_raw_text\": false", "\"allow_raw_text\": \"no\"");
  replace("\"signing\": \"auto\"", "\"signing\": \"sometimes\", \"extra\": 1");
  auto p = policy::load_policy_text(text, "bad.json");
  REQUIRE_FALSE(p.ok());
  const std::string& m = p.error().message;
  CHECK_THAT(m, Catch::Contains("bad.json: the policy is invalid"));
  CHECK_THAT(m, Catch::Contains("/paths/max_file_bytes"));
  CHECK_THAT(m, Catch::Contains("/anonymization/actions/person"));
  CHECK_THAT(m, Catch::Contains("/egress/allow_raw_text"));
  CHECK_THAT(m, Catch::Contains("/audit/signing"));
  CHECK_THAT(m, Catch::Contains("/audit"));
}

TEST_CASE("policy rules that a schema cannot express are checked", "[policy]") {
  SECTION("an invalid RE2 custom pattern") {
    auto p = policy::load_policy_text(
        with("\"custom_patterns\": []", "\"custom_patterns\": [{\"name\": \"x\", \"pattern\": \"(unclosed\"}]"), "p");
    REQUIRE_FALSE(p.ok());
    CHECK_THAT(p.error().message, Catch::Contains("/anonymization/custom_patterns/0/pattern"));
    CHECK_THAT(p.error().message, Catch::Contains("RE2"));
  }
  SECTION("a pattern that matches the empty string") {
    auto p = policy::load_policy_text(
        with("\"custom_patterns\": []", "\"custom_patterns\": [{\"name\": \"x\", \"pattern\": \"a*\"}]"), "p");
    REQUIRE_FALSE(p.ok());
    CHECK_THAT(p.error().message, Catch::Contains("empty string"));
  }
  SECTION("exports required anonymized but export not in apply_to") {
    auto p = policy::load_policy_text(with("\"apply_to\": [\"llm\", \"mcp\", \"export\"]", "\"apply_to\": [\"llm\", \"mcp\"]"), "p");
    REQUIRE_FALSE(p.ok());
    CHECK_THAT(p.error().message, Catch::Contains("/anonymization/apply_to"));
  }
  SECTION("plain http to a public host") {
    auto p = policy::load_policy_text(
        with("\"endpoints\": []", "\"endpoints\": [{\"name\": \"x\", \"scheme\": \"http\", \"host\": \"api.example.com\", \"port\": 80}]"), "p");
    REQUIRE_FALSE(p.ok());
    CHECK_THAT(p.error().message, Catch::Contains("/egress/endpoints/0/scheme"));
  }
  SECTION("http to an explicitly allowed private host is accepted") {
    auto p = policy::load_policy_text(
        with("\"endpoints\": []",
             "\"endpoints\": [{\"name\": \"ollama\", \"scheme\": \"http\", \"host\": \"ollama\", \"port\": 11434, \"allow_private\": true}]"),
        "p");
    REQUIRE(p.ok());
    CHECK(p->egress.endpoints.at(0).allow_private);
  }
  SECTION("a malformed glob") {
    auto p = policy::load_policy_text(with("\"exclude\": []", "\"exclude\": [\"drafts/[abc\"]"), "p");
    REQUIRE_FALSE(p.ok());
    CHECK_THAT(p.error().message, Catch::Contains("/paths/exclude/0"));
  }
  SECTION("following symlinks cannot be switched on") {
    auto p = policy::load_policy_text(with("\"follow_symlinks\": false", "\"follow_symlinks\": true"), "p");
    REQUIRE_FALSE(p.ok());
    CHECK_THAT(p.error().message, Catch::Contains("/paths/follow_symlinks"));
  }
}

TEST_CASE("malformed policy text is refused with a clear message", "[policy]") {
  CHECK_THAT(policy::load_policy_text("{", "p.json").error().message, Catch::Contains("invalid JSON"));
  CHECK_THAT(policy::load_policy_text(std::string(100, '[') + std::string(100, ']'), "p.json").error().message,
             Catch::Contains("nests deeper"));
  CHECK_THAT(policy::load_policy_text("[]", "p.json").error().message, Catch::Contains("policy is invalid"));
  CHECK_THAT(policy::load_policy_file("/nonexistent/policy.json").error().message,
             Catch::Contains("cannot read the policy"));
}

TEST_CASE("the effective policy fills in defaults and validates again", "[policy]") {
  std::string minimal = R"({
    "version": 1,
    "paths": {"include": ["**/*.txt"]},
    "anonymization": {"detectors": ["email"], "actions": {}, "apply_to": ["llm", "mcp", "export"]},
    "egress": {"endpoints": [], "allow_raw_text": false},
    "export": {"formats": ["json"], "require_anonymized": true},
    "audit": {}
  })";
  auto p = policy::load_policy_text(minimal, "min.json");
  REQUIRE(p.ok());
  CHECK(p->paths.max_file_bytes == 20u << 20);
  CHECK(p->anonymization.action_for(policy::EntityType::kPhone) == policy::Action::kPseudonymize);
  CHECK(p->effective["paths"]["document_types"].size() == 7);
  // What `policy check` prints is itself a valid policy.
  auto again = policy::load_policy_text(p->effective.dump(), "effective.json");
  REQUIRE(again.ok());
  CHECK(again->effective == p->effective);
}
