#include "project/codebook_change.h"

#include <catch2/catch.hpp>

#include "common/hash.h"
#include "project/store.h"
#include "project_test_support.h"

namespace cqda::project {
namespace {

using Catch::Contains;
using cqda::test::TempDir;
using test::add_one;
using test::error_of;
using test::open_store;
using test::quote_coding;

const std::string kSegment = "I send money home every month, and I call my kids every night.";

std::string shown(const Json& change) {
  return change.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Json new_code(const std::string& id) {
  return {{"id", id}, {"name", "Name of " + id}, {"definition", "What " + id + " means."}};
}

// Applies a change that must succeed and returns its version row.
CodebookVersion apply(Store& store, const Json& change) {
  auto version = store.change_codebook(change, "ana");
  INFO(shown(change) << "\n" << error_of(version));
  REQUIRE(version.ok());
  return *version;
}

// A refused change leaves the codebook, its history and the codings as they were.
void check_refused(Store& store, const Json& change, const std::string& message) {
  const int version = store.codebook_version();
  const std::string sha = store.current_codebook().sha256;
  const std::size_t versions = store.history()->size();
  const auto codings = store.list_codings({.include_removed = true})->total;
  INFO(shown(change));
  CHECK_THAT(error_of(store.change_codebook(change, "ana")), Contains(message));
  CHECK(store.codebook_version() == version);
  CHECK(store.current_codebook().sha256 == sha);
  CHECK(store.history()->size() == versions);
  CHECK(store.list_codings({.include_removed = true})->total == codings);
}

TEST_CASE("add puts a code in a category or under a parent and bumps the version",
          "[project][codebook]") {
  TempDir tmp;
  auto store = open_store(test::project_file(tmp));
  CodebookVersion v2 =
      apply(*store,
            {{"op", "add"}, {"code", new_code("care-chains")}, {"category_id", "migration-legal"}});
  CHECK(v2.version == 2);
  CHECK(v2.author == "ana");
  CHECK(v2.change["op"] == "add");
  CHECK(v2.change["code_id"] == "care-chains");
  CHECK(store->current_codebook().find("care-chains")->category_id == "migration-legal");
  CHECK(store->current_codebook().document["version"] == 2);
  const Json& entry = store->current_codebook().document["changelog"].back();
  CHECK(entry["version"] == 2);
  CHECK(entry["change"] == "added code care-chains in category migration-legal");
  CHECK(entry["by"] == "ana");
  CHECK(store->last_change()["kind"] == "codebook.change");
  CHECK(store->last_change()["sha256"] == v2.sha256);

  apply(*store,
        {{"op", "add"}, {"code", new_code("video-calls")}, {"parent_id", "family-separation"}});
  const codebook::Code* child = store->current_codebook().find("video-calls");
  REQUIRE(child);
  CHECK(child->parent_id == "family-separation");
  CHECK(child->depth == 1);
  CHECK(store->codebook_version() == 3);
  // The new code can be used at once, and the coding records the version.
  Coding c = add_one(*store, quote_coding("s1", kSegment, "I call my kids", {"video-calls"}));
  CHECK(c.codebook_version == 3);
}

TEST_CASE("add refuses clashing ids, unknown places and invalid codes", "[project][codebook]") {
  TempDir tmp;
  auto store = open_store(test::project_file(tmp));
  add_one(*store, quote_coding("s1", kSegment, "send money home", {"remittances"}));
  check_refused(*store,
                {{"op", "add"}, {"code", new_code("pay")}, {"category_id", "migration-legal"}},
                "the id \"pay\" is already used");
  check_refused(*store,
                {{"op", "add"},
                 {"code", new_code("x")},
                 {"category_id", "working-conditions"},
                 {"parent_id", "remittances"}},
                "parent code \"remittances\" is in category \"migration-legal\"");
  check_refused(*store, {{"op", "add"}, {"code", new_code("x")}, {"category_id", "nowhere"}},
                "unknown category \"nowhere\"");
  check_refused(*store, {{"op", "add"}, {"code", new_code("x")}},
                "\"category_id\" or \"parent_id\"");
  check_refused(*store,
                {{"op", "add"}, {"code", new_code("Bad Id")}, {"category_id", "migration-legal"}},
                "invalid id \"Bad Id\"");
  Json no_definition = {{"id", "x"}, {"name", "X"}};
  check_refused(*store,
                {{"op", "add"}, {"code", no_definition}, {"category_id", "migration-legal"}},
                "the codebook would become invalid");
  Json bad_pattern = new_code("x");
  bad_pattern["patterns"] = {"(unclosed"};
  check_refused(*store, {{"op", "add"}, {"code", bad_pattern}, {"category_id", "migration-legal"}},
                "not a valid RE2 pattern");
}

TEST_CASE("edit changes fields; an edit that would make the codebook invalid changes nothing",
          "[project][codebook]") {
  TempDir tmp;
  auto store = open_store(test::project_file(tmp));
  CodebookVersion v2 = apply(*store, {{"op", "edit"},
                                      {"code_id", "pay"},
                                      {"fields",
                                       {{"definition", "Money for work."},
                                        {"keywords", {"wage", "payslip"}},
                                        {"color", "#aa3300"},
                                        {"examples", nullptr}}}});
  CHECK(v2.change["fields"] == Json({"definition", "keywords", "color", "examples"}));
  const codebook::Code* pay = store->current_codebook().find("pay");
  CHECK(pay->definition == "Money for work.");
  CHECK(pay->keywords == std::vector<std::string>{"wage", "payslip"});
  CHECK(pay->color == "#aa3300");
  CHECK(pay->examples.empty());

  check_refused(*store, {{"op", "edit"}, {"code_id", "pay"}, {"fields", {{"color", "red"}}}},
                "/categories/0/codes/2/color");
  check_refused(*store, {{"op", "edit"}, {"code_id", "pay"}, {"fields", {{"patterns", {"(?P<"}}}}},
                "not a valid RE2 pattern");
  check_refused(*store, {{"op", "edit"}, {"code_id", "pay"}, {"fields", {{"definition", ""}}}},
                "the codebook would become invalid");
  check_refused(*store, {{"op", "edit"}, {"code_id", "pay"}, {"fields", {{"name", nullptr}}}},
                "field \"name\" is required and cannot be removed");
  check_refused(*store, {{"op", "edit"}, {"code_id", "pay"}, {"fields", {{"status", "retired"}}}},
                "field \"status\" cannot be edited");
  check_refused(*store, {{"op", "edit"}, {"code_id", "pay"}, {"fields", Json::object()}},
                "\"fields\" must be a non-empty object");
  check_refused(*store, {{"op", "edit"}, {"code_id", "nope"}, {"fields", {{"name", "N"}}}},
                "unknown code \"nope\"");
}

TEST_CASE("rename moves codings, removed ones included, and memos to the new id",
          "[project][codebook]") {
  TempDir tmp;
  auto store = open_store(test::project_file(tmp));
  Coding live = add_one(*store, quote_coding("s1", kSegment, "send money home", {"remittances"}));
  Coding removed = add_one(*store, quote_coding("s2", kSegment, "every month", {"remittances"}));
  REQUIRE(store->remove_coding(removed.id, "ana"));
  REQUIRE(store->add_memo({"About money sent home", "", "ana", "", "", "remittances"}));

  CodebookVersion v2 = apply(*store, {{"op", "rename"},
                                      {"code_id", "remittances"},
                                      {"new_id", "money-home"},
                                      {"name", "Money sent home"}});
  CHECK(v2.change["codings_moved"] == 2);
  CHECK(store->current_codebook().find("remittances") == nullptr);
  CHECK(store->current_codebook().find("money-home")->name == "Money sent home");
  auto moved = store->list_codings({.code_id = "money-home", .include_removed = true});
  REQUIRE(moved->total == 2);
  CHECK(moved->codings[0].id == live.id);
  CHECK(moved->codings[0].codebook_version == 1);  // when it was coded
  CHECK(store->list_codings({.code_id = "remittances", .include_removed = true})->total == 0);
  CHECK(store->list_memos({.code_id = "money-home"})->total == 1);
  CHECK_THAT(error_of(store->add_coding(quote_coding("s1", kSegment, "send", {"remittances"}))),
             Contains("unknown code \"remittances\""));

  check_refused(*store, {{"op", "rename"}, {"code_id", "money-home"}, {"new_id", "pay"}},
                "the id \"pay\" is already used");
  check_refused(*store, {{"op", "rename"}, {"code_id", "money-home"}, {"new_id", "-x"}},
                "invalid id");
  check_refused(*store, {{"op", "rename"}, {"code_id", "remittances"}, {"new_id", "y"}},
                "unknown code \"remittances\"");
}

TEST_CASE("merge moves codings, collapses duplicates and retires the merged codes",
          "[project][codebook]") {
  TempDir tmp;
  auto store = open_store(test::project_file(tmp));
  // The same span coded family-separation, remittances and language by ana: after merging the
  // first two into language one coding is left. Ben's coding stays separate.
  REQUIRE(store->add_coding(quote_coding("s1", kSegment, "I call my kids",
                                         {"family-separation", "remittances", "language"})));
  add_one(*store, quote_coding("s1", kSegment, "I call my kids", {"remittances"}, "ben"));
  add_one(*store, quote_coding("s2", kSegment, "money", {"remittances"}));
  add_one(*store, quote_coding("s3", kSegment, "money", {"family-separation"}));
  add_one(*store, quote_coding("s3", kSegment, "money", {"remittances"}));

  CodebookVersion v2 = apply(
      *store,
      {{"op", "merge"}, {"from", {"family-separation", "remittances"}}, {"into", "language"}});
  CHECK(v2.change["codings_moved"] == 3);  // s3 family-separation, s1 ben, s2
  CHECK(v2.change["codings_collapsed"] ==
        3);  // s1 family-separation and remittances, s3 remittances
  CHECK(store->current_codebook().find("family-separation")->retired);
  CHECK(store->current_codebook().find("remittances")->retired);
  CHECK_THAT(store->current_codebook().document["changelog"].back()["change"].get<std::string>(),
             Contains("merged family-separation, remittances into language"));

  auto live = store->list_codings({.code_id = "language"});
  REQUIRE(live->total == 4);
  CHECK(store->list_codings({.code_id = "remittances"})->total == 0);
  auto collapsed = store->list_codings({.code_id = "remittances", .include_removed = true});
  REQUIRE(collapsed->total == 2);
  CHECK(collapsed->codings[0].removed_reason ==
        "duplicate after merging remittances into language");
  CHECK(collapsed->codings[0].removed_by == "ana");
  CHECK(store->list_codings({.segment_id = "s1", .coder = "ana"})->total == 1);
  CHECK(store->list_codings({.segment_id = "s1", .coder = "ben"})->total == 1);
  CHECK(store->list_codings({.segment_id = "s3"})->total == 1);

  check_refused(*store, {{"op", "merge"}, {"from", {"pay"}}, {"into", "remittances"}},
                "cannot merge into the retired code \"remittances\"");
  check_refused(*store, {{"op", "merge"}, {"from", {"pay"}}, {"into", "pay"}}, "into itself");
  check_refused(*store, {{"op", "merge"}, {"from", {"pay", "pay"}}, {"into", "training"}},
                "listed twice");
  check_refused(*store, {{"op", "merge"}, {"from", Json::array()}, {"into", "training"}},
                "\"from\" must be an array");
  check_refused(*store, {{"op", "merge"}, {"from", {"nope"}}, {"into", "training"}},
                "from: unknown code \"nope\"");
}

TEST_CASE("retire keeps the code and its codings but refuses new codings", "[project][codebook]") {
  TempDir tmp;
  auto store = open_store(test::project_file(tmp));
  add_one(*store, quote_coding("s1", kSegment, "money", {"remittances"}));
  apply(*store, {{"op", "retire"}, {"code_id", "remittances"}});
  CHECK(store->current_codebook().find("remittances")->retired);
  CHECK(store->current_codebook().find("remittances")->name == "Remittances");
  CHECK(store->list_codings({.code_id = "remittances"})->total == 1);
  CHECK_THAT(error_of(store->add_coding(quote_coding("s2", kSegment, "home", {"remittances"}))),
             Contains("is retired"));
  check_refused(*store, {{"op", "retire"}, {"code_id", "remittances"}}, "already retired");
  auto frequencies = store->code_frequencies();
  auto it = std::find_if(frequencies->begin(), frequencies->end(),
                         [](auto& f) { return f.code_id == "remittances"; });
  CHECK(it->retired);
  CHECK(it->codings == 1);
}

TEST_CASE("add_category adds an empty or filled category", "[project][codebook]") {
  TempDir tmp;
  auto store = open_store(test::project_file(tmp));
  apply(*store, {{"op", "add_category"}, {"category", {{"id", "methods"}, {"name", "Methods"}}}});
  CHECK(store->current_codebook().find_category("methods")->name == "Methods");
  apply(*store,
        {{"op", "add_category"},
         {"category", {{"id", "time"}, {"name", "Time"}, {"codes", {new_code("waiting")}}}}});
  CHECK(store->current_codebook().find("waiting")->category_id == "time");
  check_refused(*store, {{"op", "add_category"}, {"category", {{"id", "pay"}, {"name", "P"}}}},
                "already used");
  check_refused(*store, {{"op", "add_category"}, {"category", {{"id", "c2"}}}},
                "the codebook would become invalid");
}

TEST_CASE("malformed changes are refused with the reason", "[project][codebook]") {
  TempDir tmp;
  auto store = open_store(test::project_file(tmp));
  check_refused(*store, Json::array(), "must be a JSON object");
  check_refused(*store, {{"code_id", "pay"}}, "\"op\" is required");
  check_refused(*store, {{"op", "delete"}, {"code_id", "pay"}}, "unknown op \"delete\"");
  check_refused(*store, {{"op", "retire"}, {"code_id", "pay"}, {"force", true}},
                "unknown member \"force\" for op \"retire\"");
  check_refused(*store, {{"op", "retire"}, {"code_id", 3}}, "\"code_id\" must be a string");
  check_refused(*store, {{"op", "edit"}, {"code_id", "pay"}, {"fields", {{"name", "Caf\xC3"}}}},
                "not valid UTF-8");
  CHECK_THAT(error_of(store->change_codebook({{"op", "retire"}, {"code_id", "pay"}}, "")),
             Contains("author is required"));
}

TEST_CASE("history lists every version; each stored document is retrievable and hashed",
          "[project][codebook]") {
  TempDir tmp;
  auto store = open_store(test::project_file(tmp));
  apply(*store, {{"op", "retire"}, {"code_id", "covid"}});
  apply(*store, {{"op", "rename"}, {"code_id", "pay"}, {"new_id", "wages"}});
  auto history = store->history();
  REQUIRE(history);
  REQUIRE(history->size() == 3);
  for (int i = 0; i < 3; ++i) {
    const CodebookVersion& v = (*history)[i];
    CHECK(v.version == i + 1);
    CHECK(v.created_at.size() == 24);
    auto book = store->codebook_at(v.version);
    REQUIRE(book);
    CHECK(book->sha256 == v.sha256);
    CHECK(book->version == v.version);
  }
  CHECK((*history)[0].author == "cqda");
  CHECK((*history)[2].change["op"] == "rename");
  CHECK(to_json((*history)[2])["change"]["new_id"] == "wages");
  CHECK(store->codebook_at(1)->find("pay") != nullptr);
  CHECK(store->codebook_at(3)->find("pay") == nullptr);
  CHECK_THAT(error_of(store->codebook_at(9)), Contains("codebook version 9 does not exist"));
}

TEST_CASE("plan_codebook_change is pure and checks ids like the schema", "[project][codebook]") {
  const codebook::Codebook& book = test::example_codebook();
  auto plan = plan_codebook_change(book, {{"op", "retire"}, {"code_id", "pay"}}, "ana",
                                   "2025-01-01T00:00:00.000Z");
  REQUIRE(plan);
  CHECK(plan->codebook.version == book.version + 1);
  CHECK(plan->codebook.sha256 == sha256_hex(plan->text));
  CHECK(book.find("pay")->retired == false);
  CHECK(is_valid_code_id("a-1"));
  CHECK(is_valid_code_id(std::string(64, 'a')));
  CHECK_FALSE(is_valid_code_id(std::string(65, 'a')));
  CHECK_FALSE(is_valid_code_id("-a"));
  CHECK_FALSE(is_valid_code_id("A"));
  CHECK_FALSE(is_valid_code_id(""));
}

}  // namespace
}  // namespace cqda::project
