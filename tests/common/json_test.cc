// Schema validation shared across threads, as the MCP server's tools use it.
#include <catch2/catch.hpp>

#include <atomic>
#include <iterator>
#include <limits>
#include <random>
#include <string_view>
#include <thread>
#include <vector>

#include "common/json.h"

using namespace cqda;

TEST_CASE("a schema validator is shared safely by threads", "[json]") {
  const SchemaValidator validator(Json::parse(R"({"type":"object","properties":{
    "a":{"type":"string","pattern":"^[a-z]+$"},"b":{"type":"string","pattern":"^[0-9]+$"},
    "c":{"type":"array","items":{"type":"string","pattern":"^x"}}}})"));
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 300; ++i) {
        const bool good = (i + t) % 2 == 0;
        Json instance = {{"a", good ? "abc" : "ABC"}, {"b", "123"}, {"c", {"x1", "x2"}}};
        if (validator.validate(instance).empty() != good) ++wrong;
      }
    });
  for (auto& t : threads) t.join();
  CHECK(wrong == 0);
}

namespace {

// Instances near a schema's shape: every kind of value, with the keys it names and others.
Json near_instance(std::mt19937& rng, int depth) {
  static const char* kKeys[] = {"id", "text", "start", "length", "speaker", "document", "segments", "extra", "n"};
  switch (rng() % (depth > 3 ? 7 : 9)) {
    case 0: return nullptr;
    case 1: return rng() % 2 == 0;
    case 2: return static_cast<int>(rng() % 7) - 3;
    case 3: return static_cast<std::uint64_t>(rng() % 1000);
    case 4: return (rng() % 2 ? 2.0 : 2.5);
    case 5: {
      static const char* kStrings[] = {"abc", "", "a", "\xc3\xa9t\xc3\xa9", "\xe6\x97\xa5\xe6\x9c\xac", "abcd", "ab\xf0\x9f\x98\x80"};
      return kStrings[rng() % std::size(kStrings)];
    }
    case 6: {
      static const char* kStrings[] = {"x-1", "Not An Id", "red", "blue", "x-1-long-enough", "ok\n"};
      if (rng() % 8 == 0) return std::string("a\0b", 3);  // valijson counts its length up to the NUL
      return kStrings[rng() % std::size(kStrings)];
    }
    case 7: {
      Json a = Json::array();
      for (unsigned i = rng() % 4; i > 0; --i) a.push_back(near_instance(rng, depth + 1));
      return a;
    }
    default: {
      Json o = Json::object();
      for (unsigned i = rng() % 6; i > 0; --i) o[kKeys[rng() % std::size(kKeys)]] = near_instance(rng, depth + 1);
      return o;
    }
  }
}

}  // namespace

TEST_CASE("the quick form of a schema accepts exactly what valijson accepts", "[json]") {
  const char* schemas[] = {
      R"({"type":"object","required":["document","segments"],"properties":{
          "document":{"type":"object","required":["id"],"properties":{"id":{"type":"string","pattern":"^[a-z0-9-]+$"},"n":{"type":"integer","minimum":0}}},
          "segments":{"type":"array","items":{"type":"object","required":["id","text","start","length"],"properties":{
            "id":{"type":"string"},"speaker":{"type":"string"},"text":{"type":"string"},"start":{"type":"integer"},"length":{"type":"integer","maximum":2}}}}}})",
      R"({"type":"object","additionalProperties":false,"properties":{"id":{"type":"string"},"n":{"type":"number","minimum":-1,"maximum":2}}})",
      R"({"type":"object","additionalProperties":{"type":"array","items":{"type":["integer","null"]}}})",
      R"({"type":"array","items":{"type":"object","properties":{"extra":{"type":"boolean"},"text":{"type":"null"}},"additionalProperties":{"type":"integer"}}})",
      R"({"description":"anything at all"})",
      R"({"$schema":"http://json-schema.org/draft-07/schema#","type":"object","required":["id"],
          "definitions":{"id":{"type":"string","pattern":"^[a-z0-9-]+$","maxLength":4},"word":{"type":"string","enum":["red","blue"]}},
          "properties":{"id":{"$ref":"#/definitions/id"},"text":{"type":"string","minLength":2,"maxLength":3},
            "n":{"$ref":"#/definitions/word","description":"a colour"},
            "segments":{"type":"array","minItems":1,"maxItems":2,"items":{"$ref":"#/definitions/id"}}}})",
      R"({"type":"array","items":{"type":"string","minLength":1,"maxLength":2}})",
  };
  std::mt19937 rng(99);
  for (const char* text : schemas) {
    const SchemaValidator validator(Json::parse(text));
    INFO(text);
    for (int i = 0; i < 4000; ++i) {
      Json instance = near_instance(rng, 0);
      if (i % 4 == 0 && std::string_view(text).find("document") != std::string_view::npos)  // often the right shape
        instance = Json::parse(R"({"document":{"id":"a-1","n":3},"segments":[{"id":"s","text":"t","start":0,"length":1}]})");
      const auto quick = validator.validate(instance);
      const auto slow = validator.validate(nlohmann::json::parse(instance.dump()));
      INFO(instance.dump());
      REQUIRE(quick.empty() == slow.empty());
      if (!quick.empty()) CHECK(quick.front().pointer == slow.front().pointer);
    }
  }
  // valijson reads an unsigned integer above INT64_MAX as a negative one.
  const SchemaValidator bounded(Json::parse(R"({"type":"integer","minimum":0})"));
  REQUIRE(bounded.has_quick_form());
  CHECK(bounded.validate(Json(std::numeric_limits<std::uint64_t>::max())).empty() ==
        bounded.validate(nlohmann::json(std::numeric_limits<std::uint64_t>::max())).empty());
  CHECK(SchemaValidator(Json::parse(schemas[0])).has_quick_form());
  CHECK_FALSE(SchemaValidator(Json::parse(schemas[2])).has_quick_form());  // a list of types
  CHECK(SchemaValidator(Json::parse(schemas[5])).has_quick_form());
  CHECK(SchemaValidator(Json::parse(schemas[6])).has_quick_form());
  // What stays with valijson: a $ref beside other keywords, a reference cycle, an enum of
  // numbers, keywords the quick form does not know.
  CHECK_FALSE(SchemaValidator(Json::parse(R"({"definitions":{"a":{"type":"string"}},"properties":{"x":{"$ref":"#/definitions/a","type":"string"}}})")).has_quick_form());
  CHECK_FALSE(SchemaValidator(Json::parse(R"({"definitions":{"a":{"properties":{"x":{"$ref":"#/definitions/a"}}}},"properties":{"y":{"$ref":"#/definitions/a"}}})")).has_quick_form());
  CHECK_FALSE(SchemaValidator(Json::parse(R"({"enum":[1,2]})")).has_quick_form());
  CHECK_FALSE(SchemaValidator(Json::parse(R"({"type":"string","format":"uri"})")).has_quick_form());
  // Lengths are counted alike on both paths, a NUL or invalid UTF-8 (an overlong NUL) included.
  const SchemaValidator short_text(Json::parse(R"({"type":"string","maxLength":2})"));
  REQUIRE(short_text.has_quick_form());
  const std::string with_nul("a\0bcdef", 7);
  CHECK_FALSE(short_text.validate(Json(with_nul)).empty());
  CHECK_FALSE(short_text.validate(nlohmann::json(with_nul)).empty());
  const SchemaValidator two(Json::parse(R"({"type":"string","minLength":2})"));
  const std::string overlong("\xc0\x80\xc0\x80", 4);
  CHECK(two.validate(Json(overlong)).empty() == two.validate(nlohmann::json(overlong)).empty());
  // Definitions that each use the previous one twice would compile to a million nodes: the
  // quick form gives up instead, and valijson (which shares them) decides.
  Json doubling = Json::parse(R"({"definitions":{"d0":{"type":"string"}}})");
  for (int i = 1; i <= 20; ++i) {
    const std::string ref = "#/definitions/d" + std::to_string(i - 1);
    doubling["definitions"]["d" + std::to_string(i)] = {{"properties", {{"a", {{"$ref", ref}}}, {"b", {{"$ref", ref}}}}}};
  }
  doubling["properties"]["x"] = {{"$ref", "#/definitions/d20"}};
  const SchemaValidator deep(doubling);
  CHECK_FALSE(deep.has_quick_form());
  CHECK(deep.validate(Json::parse(R"({"x":{"a":{"a":{}}}})")).empty());
  // A $ref valijson would read differently (%-escapes, a trailing slash) has no quick form.
  CHECK_FALSE(SchemaValidator(Json::parse(R"({"definitions":{"a-b":{"type":"string"}},"properties":{"x":{"$ref":"#/definitions/a%2Db"}}})")).has_quick_form());
  CHECK_FALSE(short_text.validate(Json("\xc3\xa9t\xc3\xa9")).empty());
  CHECK(short_text.validate(Json("\xc3\xa9\xc3\xa9")).empty());
}

TEST_CASE("string lengths count every character, U+0000 included, with or without a quick form", "[json]") {
  // valijson stops counting at a NUL: "\u0000" and a megabyte after it would pass any
  // maxLength. Lengths are checked by cqda's own pass instead.
  const std::string nul_then_long = std::string(1, '\0') + std::string(5000, 'a');
  const std::string nul_then_three = std::string(1, '\0') + "abc";
  for (const char* text : {R"({"type":"object","properties":{"q":{"type":"string","minLength":3,"maxLength":100}}})",
                           // a list of types: no quick form, valijson and the second pass alone
                           R"({"type":["object","null"],"properties":{"q":{"type":"string","minLength":3,"maxLength":100}}})",
                           R"({"type":"object","properties":{"q":{"$ref":"#/definitions/q"}},
                               "definitions":{"q":{"type":"string","minLength":3,"maxLength":100}}})"}) {
    INFO(text);
    const SchemaValidator validator(Json::parse(text));
    auto too_long = validator.validate(Json{{"q", nul_then_long}});
    REQUIRE(too_long.size() == 1);
    CHECK(too_long[0].pointer == "/q");
    CHECK(too_long[0].message == "String should be no more than 100 characters");
    CHECK(validator.validate(Json{{"q", nul_then_three}}).empty());  // four characters
    auto too_short = validator.validate(Json{{"q", std::string("a\0", 2)}});
    REQUIRE(too_short.size() == 1);
    CHECK(too_short[0].message == "String should be no fewer than 3 characters");
    CHECK(validator.validate(Json{{"q", "\xc3\xa9t\xc3\xa9"}}).empty());  // three characters, five bytes
    CHECK(validator.validate(Json{{"q", std::string(101, 'x')}}).size() == 1);
    CHECK(validator.validate(Json{{"q", std::string(100, 'x')}}).empty());
  }
}

TEST_CASE("a string check where the second pass cannot reach it is refused with the schema", "[json]") {
  CHECK_THROWS_AS(SchemaValidator(Json::parse(R"({"anyOf":[{"type":"string","maxLength":3},{"type":"integer"}]})")),
                  std::logic_error);
  CHECK_THROWS_AS(SchemaValidator(Json::parse(R"({"oneOf":[{"$ref":"#/definitions/s"}],"definitions":{"s":{"pattern":"a"}}})")),
                  std::logic_error);
  CHECK_THROWS_AS(SchemaValidator(Json::parse(R"({"type":"array","items":[{"type":"string","minLength":1}]})")),
                  std::logic_error);
  CHECK_THROWS_AS(SchemaValidator(Json::parse(R"({"$ref":"#/definitions/s","maxLength":3,"definitions":{"s":{"type":"string"}}})")),
                  std::logic_error);  // beside a $ref: draft 7 ignores it
  CHECK_THROWS_AS(SchemaValidator(Json::parse(R"({"type":"string","maxLength":"100"})")), std::logic_error);
  CHECK_THROWS_AS(SchemaValidator(Json::parse(R"({"type":"string","maxLength":-1})")), std::logic_error);
  // Combinators without string checks, as tool schemas use them, stay fine.
  CHECK_NOTHROW(SchemaValidator(Json::parse(
      R"({"type":"object","properties":{"q":{"type":"string","maxLength":9}},"anyOf":[{"required":["q"]},{"required":["p"]}]})")));
}

TEST_CASE("lengths written as C++ integers, and names and values that look like keywords", "[json]") {
  // Built in C++ (as the model-answer schemas are): the bound is a signed integer.
  const SchemaValidator built(Json{{"type", "object"},
                                   {"properties", {{"rationale", {{"type", "string"}, {"maxLength", 5}}}}}});
  const std::string nul_then_long = std::string(1, '\0') + std::string(100, 'a');
  CHECK(built.validate(Json{{"rationale", nul_then_long}}).size() == 1);
  CHECK(built.validate(Json{{"rationale", "abcde"}}).empty());
  // A property named like a keyword is a name; an enum value like a schema is data.
  const SchemaValidator named(Json::parse(R"({"type":"object","properties":{
      "maxLength":{"type":"integer"},
      "pattern":{"type":"string","maxLength":2},
      "shape":{"enum":[{"pattern":"x"}]}}})"));
  CHECK(named.validate(Json::parse(R"({"maxLength":7,"pattern":"ab","shape":{"pattern":"x"}})")).empty());
  CHECK(named.validate(Json::parse(R"({"pattern":"abc"})")).size() == 1);
  CHECK(named.validate(Json::parse(R"({"shape":{"pattern":"y"}})")).size() == 1);
}
