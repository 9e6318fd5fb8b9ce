#include <catch2/catch.hpp>

#include "codebook/codebook.h"
#include "support/test_support.h"

using namespace cqda;

namespace {
const char* kSmall = R"J({
  "name": "Test", "version": 3,
  "categories": [
    {"id": "work", "name": "Work", "codes": [
      {"id": "workload", "name": "Workload", "definition": "Too much work.", "keywords": ["short-staffed"],
       "children": [{"id": "nights", "name": "Nights", "definition": "Night shifts.", "patterns": ["(?i)night shifts?"]}]},
      {"id": "pay", "name": "Pay", "definition": "Wages.", "status": "retired"}
    ]},
    {"id": "life", "name": "Life", "codes": [
      {"id": "family", "name": "Family", "definition": "Family ties."}
    ]}
  ]
})J";
}

TEST_CASE("a hierarchical codebook loads with paths and depths", "[codebook]") {
  auto book = codebook::load_codebook_text(kSmall, "small.json");
  REQUIRE(book.ok());
  CHECK(book->version == 3);
  REQUIRE(book->codes.size() == 4);
  const auto* nights = book->find("nights");
  REQUIRE(nights);
  CHECK(nights->parent_id == "workload");
  CHECK(nights->depth == 1);
  CHECK(book->path_of(*nights) == "Work > Workload > Nights");
  CHECK(book->find("pay")->retired);
  CHECK(book->find("missing") == nullptr);
}

TEST_CASE("the example codebook is valid", "[codebook]") {
  auto book = codebook::load_codebook_file((test::source_dir() / "examples/codebook.json").string());
  REQUIRE(book.ok());
  CHECK(book->codes.size() >= 12);
  CHECK(book->categories.size() >= 3);
}

TEST_CASE("an invalid codebook lists every violation", "[codebook]") {
  std::string text = R"J({
    "name": "", "version": 0,
    "categories": [
      {"id": "Bad Id", "name": "X", "codes": [
        {"id": "dup", "name": "A", "definition": "a", "patterns": ["(?<=lookbehind)"]},
        {"id": "dup", "name": "B"}
      ]}
    ]
  })J";
  auto book = codebook::load_codebook_text(text, "bad.json");
  REQUIRE_FALSE(book.ok());
  const std::string& m = book.error().message;
  CHECK_THAT(m, Catch::Contains("/name"));
  CHECK_THAT(m, Catch::Contains("/version"));
  CHECK_THAT(m, Catch::Contains("/categories/0/id"));
  CHECK_THAT(m, Catch::Contains("/categories/0/codes/1"));  // missing definition
}

TEST_CASE("duplicate ids and bad RE2 patterns are violations", "[codebook]") {
  std::string text = R"J({"name": "x", "version": 1, "categories": [
      {"id": "c", "name": "C", "codes": [
        {"id": "dup", "name": "A", "definition": "a", "patterns": ["(?<=x)y"]},
        {"id": "dup", "name": "B", "definition": "b", "children": [{"id": "c", "name": "D", "definition": "d"}]}
      ]}]})J";
  auto book = codebook::load_codebook_text(text, "bad.json");
  REQUIRE_FALSE(book.ok());
  const std::string& m = book.error().message;
  CHECK_THAT(m, Catch::Contains("/categories/0/codes/0/patterns/0: not a valid RE2 pattern"));
  CHECK_THAT(m, Catch::Contains("/categories/0/codes/1/id: duplicate id \"dup\""));
  CHECK_THAT(m, Catch::Contains("/categories/0/codes/1/children/0/id: duplicate id \"c\""));
  CHECK_THAT(m, Catch::Contains("3 violations"));
}
