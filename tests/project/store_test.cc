#include "project/store.h"

#include <catch2/catch.hpp>
#include <chrono>

#include "common/hash.h"
#include "project/input.h"
#include "project_test_support.h"

namespace cqda::project {
namespace {

using Catch::Contains;
using cqda::test::TempDir;
using test::add_one;
using test::error_of;
using test::open_store;
using test::quote_coding;

const std::string kSegment = "We were short-staffed all the time, and short-staffed at night.";

TEST_CASE("a new project keeps codings, memos and codebook versions across a reopen", "[project]") {
  TempDir tmp;
  const auto file = test::project_file(tmp);
  {
    auto store = open_store(file);
    CHECK(store->last_change()["kind"] == "project.create");
    CHECK(store->codebook_version() == 1);
    add_one(*store, quote_coding("p01.s0001", kSegment, "short-staffed", {"workload"}));
    REQUIRE(store->add_memo(
        {"Staffing comes up early.", "first", "ana", "interviews-p01-txt", "", ""}));
    REQUIRE(store->change_codebook({{"op", "retire"}, {"code_id", "covid"}}, "ana"));
  }
  // An existing project ignores the codebook it is opened with: its own is current.
  auto other = codebook::load_codebook_text(
      R"({"name":"x","version":7,"categories":[{"id":"c","name":"C","codes":[{"id":"a","name":"A","definition":"d"}]}]})",
      "other");
  REQUIRE(other);
  auto reopened = Store::open(file, *other);
  REQUIRE(reopened);
  Store& store = **reopened;
  CHECK(store.last_change().is_null());
  CHECK(store.codebook_version() == 2);
  CHECK(store.current_codebook().find("covid")->retired);
  auto codings = store.list_codings({});
  REQUIRE(codings);
  REQUIRE(codings->total == 1);
  const Coding& c = codings->codings[0];
  CHECK(c.quote == "short-staffed");
  CHECK(c.span == Span{8, 21});
  CHECK(c.segment_start == 100);
  CHECK(c.code_id == "workload");
  CHECK(c.codebook_version == 1);
  CHECK(c.coder == "ana");
  CHECK(c.segment_sha256 == sha256_hex(kSegment));
  auto memos = store.list_memos({});
  REQUIRE(memos);
  REQUIRE(memos->total == 1);
  CHECK(memos->memos[0].title == "first");
  CHECK(memos->memos[0].document_id == "interviews-p01-txt");
  auto history = store.history();
  REQUIRE(history);
  REQUIRE(history->size() == 2);
  CHECK((*history)[0].change["op"] == "create");
  CHECK((*history)[0].change["source_sha256"] == test::example_codebook().sha256);
  CHECK((*history)[1].change["op"] == "retire");
  CHECK(store.check_integrity());

  // A new project starts at the initial codebook's own version.
  auto fresh = Store::open(tmp / "other/p.sqlite3", *other);
  REQUIRE(fresh);
  CHECK((*fresh)->codebook_version() == 7);
  CHECK((*fresh)->history()->at(0).version == 7);
}

TEST_CASE("a quote is found at its first occurrence unless a span picks another", "[project]") {
  TempDir tmp;
  auto store = open_store(test::project_file(tmp));
  Coding first = add_one(*store, quote_coding("s1", kSegment, "short-staffed", {"workload"}));
  CHECK(first.span == Span{8, 21});

  NewCoding second = quote_coding("s1", kSegment, "short-staffed", {"workload"});
  second.span = Span{40, 53};
  Coding picked = add_one(*store, second);
  CHECK(picked.span == Span{40, 53});
  CHECK(picked.id != first.id);

  second.span = Span{41, 54};
  CHECK_THAT(error_of(store->add_coding(second)),
             Contains("does not match the span [41, 54) of segment s1") &&
                 Contains("which holds \"hort-staffed "));
}

TEST_CASE("a quote that does not occur verbatim is refused and nothing is stored", "[project]") {
  TempDir tmp;
  auto store = open_store(test::project_file(tmp));
  for (const char* quote : {"Short-staffed", "short staffed", "short-staffed  all", "nights"}) {
    INFO(quote);
    CHECK(error_of(store->add_coding(quote_coding("s1", kSegment, quote, {"workload"}))) ==
          "add coding: the quote does not occur verbatim in segment s1");
  }
  NewCoding with_span = quote_coding("s1", kSegment, "nights", {"workload"});
  with_span.span = Span{0, 2};
  CHECK_THAT(error_of(store->add_coding(with_span)),
             Contains("does not occur verbatim in segment s1"));
  CHECK(store->list_codings({})->total == 0);
}

TEST_CASE("a span alone becomes the quote; spans outside, empty or reversed are refused",
          "[project]") {
  TempDir tmp;
  auto store = open_store(test::project_file(tmp));
  NewCoding c = quote_coding("s1", "Four on, three off.", "", {"shift-patterns"});
  c.span = Span{0, 7};
  CHECK(add_one(*store, c).quote == "Four on");
  c.span = Span{0, 19};  // the whole segment
  CHECK(add_one(*store, c).quote == "Four on, three off.");
  c.span = Span{10, 20};
  CHECK_THAT(error_of(store->add_coding(c)),
             Contains("the span [10, 20) lies outside segment s1 (19 code points)"));
  c.span = Span{5, 5};
  CHECK_THAT(error_of(store->add_coding(c)), Contains("empty or reversed"));
  c.span = Span{6, 5};
  CHECK_THAT(error_of(store->add_coding(c)), Contains("empty or reversed"));
  c.span.reset();
  CHECK_THAT(error_of(store->add_coding(c)), Contains("needs a quote or a span"));
}

TEST_CASE("offsets count code points, not bytes", "[project]") {
  TempDir tmp;
  auto store = open_store(test::project_file(tmp));
  // é, ï, – are 2-3 bytes, 日本 3 bytes each, 😀 4 bytes: each one code point.
  const std::string text = "Zoë – naïve? 日本 😀 café café";
  Coding cafe = add_one(*store, quote_coding("s1", text, "café", {"language"}));
  CHECK(cafe.span == Span{18, 22});
  Coding emoji = add_one(*store, quote_coding("s1", text, "😀", {"language"}));
  CHECK(emoji.span == Span{16, 17});
  NewCoding by_span = quote_coding("s1", text, "", {"pay"});
  by_span.span = Span{13, 15};
  CHECK(add_one(*store, by_span).quote == "日本");
  by_span.span = Span{23, 27};
  by_span.quote = "café";  // the second occurrence, chosen by its span
  CHECK(add_one(*store, by_span).span == Span{23, 27});
  by_span.span = Span{23, 28};
  CHECK_THAT(error_of(store->add_coding(by_span)),
             Contains("lies outside segment s1 (27 code points)"));
}

TEST_CASE("unknown and retired codes are refused, naming the code", "[project]") {
  TempDir tmp;
  auto store = open_store(test::project_file(tmp));
  CHECK(error_of(store->add_coding(quote_coding("s1", kSegment, "night", {"workload", "nope"}))) ==
        "add coding: unknown code \"nope\" (not in codebook version 1)");
  REQUIRE(store->change_codebook({{"op", "retire"}, {"code_id", "covid"}}, "ana"));
  CHECK(error_of(store->add_coding(quote_coding("s1", kSegment, "night", {"covid"}))) ==
        "add coding: code \"covid\" is retired; new codings with it are refused");
  CHECK_THAT(error_of(store->add_coding(quote_coding("s1", kSegment, "night", {}))),
             Contains("at least one code"));
  CHECK(store->list_codings({})->total == 0);
}

TEST_CASE("adding the same coding twice returns the existing row", "[project]") {
  TempDir tmp;
  auto store = open_store(test::project_file(tmp));
  auto first =
      store->add_coding(quote_coding("s1", kSegment, "night", {"workload-nights", "workload"}));
  REQUIRE(first);
  REQUIRE(first->size() == 2);
  CHECK((*first)[0].code_id == "workload-nights");
  CHECK((*first)[1].code_id == "workload");
  CHECK(store->last_change()["codings"][0]["created"] == true);

  auto again = store->add_coding(quote_coding("s1", kSegment, "night", {"workload", "workload"}));
  REQUIRE(again);
  REQUIRE(again->size() == 1);
  CHECK((*again)[0].id == (*first)[1].id);
  CHECK(store->last_change()["codings"][0]["created"] == false);
  CHECK(store->list_codings({})->total == 2);

  // Another coder's identical coding is a separate row (intercoder agreement needs both).
  Coding other = add_one(*store, quote_coding("s1", kSegment, "night", {"workload"}, "ben"));
  CHECK(other.id != (*first)[1].id);
  // The same coding twice in one batch is stored once.
  auto batch = store->add_codings({quote_coding("s2", kSegment, "time", {"pay"}),
                                   quote_coding("s2", kSegment, "time", {"pay"})});
  REQUIRE(batch);
  CHECK((*batch)[0].id == (*batch)[1].id);
  CHECK(store->list_codings({})->total == 4);
}

TEST_CASE("remove_coding soft-deletes; removing twice or an unknown id fails", "[project]") {
  TempDir tmp;
  auto store = open_store(test::project_file(tmp));
  Coding c = add_one(*store, quote_coding("s1", kSegment, "night", {"workload"}));
  REQUIRE(store->remove_coding(c.id, "ben"));
  CHECK(store->last_change()["kind"] == "coding.remove");
  CHECK(store->last_change()["sha256"] == sha256_hex(to_json(c).dump()));
  CHECK(store->list_codings({})->total == 0);
  auto history = store->list_codings({.include_removed = true});
  REQUIRE(history->total == 1);
  CHECK(history->codings[0].removed_by == "ben");
  CHECK(history->codings[0].removed_reason == "removed by a coder");
  CHECK_FALSE(history->codings[0].removed_at.empty());

  CHECK_THAT(error_of(store->remove_coding(c.id, "ben")),
             Contains("coding " + std::to_string(c.id) + " was already removed by ben at"));
  CHECK(error_of(store->remove_coding(999, "ben")) == "remove coding: coding 999 does not exist");
  CHECK_THAT(error_of(store->remove_coding(c.id, "")), Contains("by is required"));
  // Coding it again makes a new live row; the removed one stays as history.
  Coding again = add_one(*store, quote_coding("s1", kSegment, "night", {"workload"}));
  CHECK(again.id != c.id);
  CHECK(store->list_codings({.include_removed = true})->total == 2);
}

TEST_CASE("list_codings filters by code, document, segment and coder, and pages", "[project]") {
  TempDir tmp;
  auto store = open_store(test::project_file(tmp));
  std::vector<NewCoding> batch;
  for (int i = 0; i < 30; ++i) {
    NewCoding c = quote_coding("d" + std::to_string(i % 3) + ".s" + std::to_string(i), kSegment,
                               "night", {i % 2 ? "workload" : "pay"}, i % 5 ? "ana" : "ben");
    c.document_id = "d" + std::to_string(i % 3);
    batch.push_back(c);
  }
  REQUIRE(store->add_codings(batch));
  CHECK(store->list_codings({})->total == 30);
  CHECK(store->list_codings({.code_id = "workload"})->total == 15);
  CHECK(store->list_codings({.document_id = "d1"})->total == 10);
  CHECK(store->list_codings({.coder = "ben"})->total == 6);
  CHECK(store->list_codings({.segment_id = "d2.s5"})->total == 1);
  CHECK(store->list_codings({.code_id = "workload", .document_id = "d1", .coder = "ana"})->total ==
        4);
  CHECK(store->list_codings({.code_id = "training"})->total == 0);

  auto page = store->list_codings({.code_id = "pay", .offset = 10, .limit = 4});
  REQUIRE(page);
  CHECK(page->total == 15);
  REQUIRE(page->codings.size() == 4);
  CHECK(page->codings[0].segment_id == "d2.s20");  // the 11th pay coding, in id order
  auto tail = store->list_codings({.code_id = "pay", .offset = 12, .limit = 100});
  CHECK(tail->codings.size() == 3);
  CHECK(store->list_codings({.offset = 1000})->codings.empty());
  CHECK_THAT(error_of(store->list_codings({.limit = 0})), Contains("limit must be 1 to 10000"));
  CHECK_THAT(error_of(store->list_codings({.limit = kMaxPage + 1})), Contains("limit must be"));
}

TEST_CASE("coding input is bounded and must be clean UTF-8", "[project]") {
  TempDir tmp;
  auto store = open_store(test::project_file(tmp));
  NewCoding c = quote_coding("s1", kSegment, "night", {"workload"});
  c.segment_text = "bad \xC3 byte night";
  CHECK_THAT(error_of(store->add_coding(c)),
             Contains("segment_text is not valid UTF-8 (at byte 4)"));
  c = quote_coding("s1", kSegment, "night", {"workload"});
  c.segment_id = "s1\n";
  CHECK_THAT(error_of(store->add_coding(c)), Contains("segment_id holds a control character"));
  c = quote_coding("s1", kSegment, "night", {"workload"});
  c.memo = std::string(kMaxMemoBytes + 1, 'm');
  CHECK_THAT(error_of(store->add_coding(c)), Contains("memo is too long"));
  c = quote_coding("s1", kSegment, "night", {"workload"}, "");
  CHECK_THAT(error_of(store->add_coding(c)), Contains("coder is required"));
  c = quote_coding("s1", kSegment, "night", {"workload"});
  c.document_id = std::string(kMaxIdBytes + 1, 'd');
  CHECK_THAT(error_of(store->add_coding(c)), Contains("document_id is too long"));
  c = quote_coding("s1", kSegment, "night", {"caf\xC3"});
  CHECK_THAT(error_of(store->add_coding(c)),
             Contains("unknown code (text that is not valid UTF-8)"));
  // Segment text is taken verbatim: any valid UTF-8, control characters included.
  c = quote_coding("s1", "a\x0b night \x01", "night", {"workload"});
  CHECK(add_one(*store, c).span == Span{3, 8});
  CHECK(store->remove_coding(store->list_codings({})->codings.at(0).id, "ana"));
  // In a batch the failing coding is named and nothing is stored.
  std::vector<NewCoding> batch = {quote_coding("s1", kSegment, "night", {"workload"}),
                                  quote_coding("s2", kSegment, "absent", {"workload"})};
  CHECK_THAT(error_of(store->add_codings(batch)),
             Contains("add coding 2: the quote does not occur"));
  CHECK(store->list_codings({})->total == 0);
  CHECK_THAT(error_of(store->add_codings({})), Contains("nothing to add"));
}

TEST_CASE("values shown in messages are quoted, cut at a code point and never invalid",
          "[project]") {
  CHECK(quote_text("pay") == "\"pay\"");
  std::string accents;
  for (int i = 0; i < 50; ++i) accents += "é";  // 2 bytes each
  CHECK(quote_text(accents) == "\"" + accents.substr(0, 80) + "...\"");
  CHECK(quote_text("x" + accents) == "\"x" + accents.substr(0, 78) + "...\"");
  CHECK(quote_text("bad \xFF") == "(text that is not valid UTF-8)");
}

TEST_CASE("memos are stored with optional links, filtered and paged", "[project]") {
  TempDir tmp;
  auto store = open_store(test::project_file(tmp));
  auto memo = store->add_memo(
      {"Night work and family.\nSee p02 too.", "", "ana", "d1", "d1.s3", "workload-nights"});
  REQUIRE(memo);
  CHECK(memo->id > 0);
  CHECK(store->last_change()["kind"] == "memo.add");
  CHECK(store->last_change()["sha256"] == sha256_hex(to_json(*memo).dump()));
  REQUIRE(store->add_memo({"Pay memo", "Pay", "ben", "d2", "", "pay"}));
  REQUIRE(store->add_memo({"General", "", "ben", "", "", ""}));

  CHECK(store->list_memos({})->total == 3);
  CHECK(store->list_memos({.document_id = "d1"})->total == 1);
  CHECK(store->list_memos({.segment_id = "d1.s3"})->total == 1);
  CHECK(store->list_memos({.code_id = "pay"})->memos[0].title == "Pay");
  CHECK(store->list_memos({.author = "ben"})->total == 2);
  auto page = store->list_memos({.author = "ben", .offset = 1, .limit = 1});
  REQUIRE(page->memos.size() == 1);
  CHECK(page->memos[0].text == "General");
  CHECK(page->memos[0].code_id.empty());

  CHECK_THAT(error_of(store->add_memo({"x", "", "ana", "", "", "nope"})),
             Contains("unknown code \"nope\""));
  CHECK_THAT(error_of(store->add_memo({"", "", "ana", "", "", ""})),
             Contains("memo text is required"));
  CHECK_THAT(
      error_of(store->add_memo({std::string(kMaxMemoBytes + 1, 'x'), "", "ana", "", "", ""})),
      Contains("memo text is too long"));
  CHECK(store->add_memo({std::string(kMaxMemoBytes, 'x'), "", "ana", "", "", ""}));
  CHECK_THAT(error_of(store->add_memo({"x", "", "", "", "", ""})),
             Contains("memo author is required"));
}

TEST_CASE("code frequencies cover every code, with documents and segments", "[project]") {
  TempDir tmp;
  auto store = open_store(test::project_file(tmp));
  auto in = [](const std::string& doc, const std::string& seg, const std::string& code,
               const std::string& coder) {
    NewCoding c = quote_coding(seg, kSegment, "night", {code}, coder);
    c.document_id = doc;
    return c;
  };
  REQUIRE(store->add_codings(
      {in("d1", "d1.s1", "workload", "ana"), in("d1", "d1.s1", "workload", "ben"),
       in("d1", "d1.s2", "workload", "ana"), in("d2", "d2.s1", "workload", "ana"),
       in("d2", "d2.s1", "pay", "ben")}));
  Coding removed = add_one(*store, in("d3", "d3.s1", "pay", "ana"));
  REQUIRE(store->remove_coding(removed.id, "ana"));

  auto all = store->code_frequencies();
  REQUIRE(all);
  REQUIRE(all->size() == test::example_codebook().codes.size());
  const CodeFrequency& workload = (*all)[0];
  CHECK(workload.code_id == "workload");
  CHECK(workload.path == "Working conditions > Workload and staffing");
  CHECK(workload.codings == 4);
  CHECK(workload.documents == 2);
  CHECK(workload.segments == 3);
  CHECK((*all)[1].code_id == "workload-nights");
  CHECK((*all)[1].path == "Working conditions > Workload and staffing > Night work");
  CHECK((*all)[1].codings == 0);
  auto pay = std::find_if(all->begin(), all->end(), [](auto& f) { return f.code_id == "pay"; });
  CHECK(pay->codings == 1);

  auto ana = store->code_frequencies("ana");
  REQUIRE(ana);
  CHECK((*ana)[0].codings == 3);
  CHECK(to_json((*ana)[0])["segments"] == 3);
}

TEST_CASE("a read-only store reads everything and refuses every change", "[project]") {
  TempDir tmp;
  const auto file = test::project_file(tmp);
  {
    auto store = open_store(file);
    add_one(*store, quote_coding("s1", kSegment, "night", {"workload"}));
  }
  auto reader = Store::open_read_only(file);
  REQUIRE(reader);
  CHECK((*reader)->list_codings({})->total == 1);
  CHECK((*reader)->codebook_version() == 1);
  CHECK((*reader)->check_integrity());
  CHECK_THAT(error_of((*reader)->add_coding(quote_coding("s1", kSegment, "night", {"pay"}))),
             Contains("is open read-only"));
  CHECK_THAT(error_of((*reader)->remove_coding(1, "ana")), Contains("is open read-only"));
  CHECK_THAT(error_of((*reader)->change_codebook({{"op", "retire"}, {"code_id", "pay"}}, "ana")),
             Contains("is open read-only"));
  CHECK_THAT(error_of(Store::open_read_only(tmp / "missing.sqlite3")), Contains("No such file"));
}

TEST_CASE("codings are added at thousands per second in batches", "[project][speed]") {
  TempDir tmp;
  auto store = open_store(test::project_file(tmp));
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  for (int batch = 0; batch < 10; ++batch) {
    std::vector<NewCoding> codings;
    for (int i = 0; i < 500; ++i)
      codings.push_back(quote_coding("d.s" + std::to_string(batch * 500 + i), kSegment, "night",
                                     {"workload", "workload-nights"}));
    REQUIRE(store->add_codings(codings));
  }
  const double batched = std::chrono::duration<double>(Clock::now() - start).count();
  const auto single_start = Clock::now();
  for (int i = 0; i < 50; ++i)
    add_one(*store, quote_coding("one.s" + std::to_string(i), kSegment, "night", {"pay"}));
  const double single = std::chrono::duration<double>(Clock::now() - single_start).count();
  WARN("10000 codings in batches of 1000 rows: " << static_cast<int>(10000 / batched)
                                                 << "/s; one commit (fsync) per coding: "
                                                 << static_cast<int>(50 / single) << "/s");
  // Release builds do tens of thousands; the bound leaves room for sanitizer builds and still
  // catches a commit per row (a few hundred per second).
  CHECK(10000 / batched > 1000);
  CHECK(store->list_codings({})->total == 10050);
}

}  // namespace
}  // namespace cqda::project
