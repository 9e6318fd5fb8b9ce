#include <catch2/catch.hpp>

#include "codebook/codebook.h"
#include "coder/offline_coder.h"
#include "common/utf8.h"

using namespace cqda;

namespace {

codebook::Codebook book() {
  auto b = codebook::load_codebook_text(R"J({"name": "t", "version": 2, "categories": [
    {"id": "c", "name": "C", "codes": [
      {"id": "workload", "name": "W", "definition": "d", "keywords": ["short-staffed", "double shift"]},
      {"id": "nights", "name": "N", "definition": "d", "patterns": ["(?i)\\bnight shifts?\\b"]},
      {"id": "pay", "name": "P", "definition": "d", "keywords": ["pay"], "status": "retired"},
      {"id": "empty", "name": "E", "definition": "d"}
    ]}]})J", "t.json");
  REQUIRE(b.ok());
  return std::move(b).value();
}

Document doc(std::vector<std::string> texts) {
  Document d;
  d.id = "doc";
  d.sha256 = std::string(64, 'a');
  for (auto& t : texts) {
    Segment s;
    s.speaker = "R";
    s.text = t;
    d.segments.push_back(s);
  }
  number_segments(d);
  render_document_text(d);
  return d;
}

}  // namespace

TEST_CASE("keywords and patterns code the sentence that contains them", "[coder]") {
  auto coder = coder::OfflineCoder::create(book());
  REQUIRE(coder.ok());
  Document d = doc({"We were short-staffed again. Then the Night shift started. Pay is low.",
                    "Zoë said: we are SHORT-STAFFED, always."});
  auto codings = coder->code_document(d);
  REQUIRE(codings.size() == 3);
  CHECK(codings[0].code_id == "workload");
  CHECK(codings[0].quote == "We were short-staffed again.");
  CHECK(codings[1].code_id == "nights");
  CHECK(codings[1].quote == "Then the Night shift started.");
  CHECK(codings[2].segment_id == "doc.s0001");
  for (const auto& c : codings) {
    CHECK(c.coder == "offline-rules");
    CHECK(c.codebook_version == 2);
    // The span points at exactly the quote in the document text, in code points.
    CHECK(utf8::substr(d.text, c.start, c.end - c.start) == c.quote);
  }
}

TEST_CASE("retired codes and codes without rules never code", "[coder]") {
  auto coder = coder::OfflineCoder::create(book());
  REQUIRE(coder.ok());
  auto codings = coder->code_document(doc({"The pay is low and nothing else matches."}));
  CHECK(codings.empty());
}

TEST_CASE("keywords match on word boundaries only", "[coder]") {
  auto coder = coder::OfflineCoder::create(book());
  REQUIRE(coder.ok());
  CHECK(coder->code_document(doc({"The fortnight shifts were fine."})).empty());
  CHECK(coder->code_document(doc({"A double shifter."})).empty());
}

TEST_CASE("one coding per sentence and code, even with several matches", "[coder]") {
  auto coder = coder::OfflineCoder::create(book());
  REQUIRE(coder.ok());
  auto codings = coder->code_document(doc({"Short-staffed, short-staffed, and a double shift. Fine.\nShort-staffed"}));
  REQUIRE(codings.size() == 2);
  CHECK(codings[0].quote == "Short-staffed, short-staffed, and a double shift.");
  CHECK(codings[1].quote == "Short-staffed");
}

TEST_CASE("sentence boundaries", "[coder]") {
  std::string t = "One. Two three! Four?\nFive";
  auto s = coder::sentence_around(t, 6);
  CHECK(t.substr(s.first, s.second - s.first) == "Two three!");
  s = coder::sentence_around(t, 0);
  CHECK(t.substr(s.first, s.second - s.first) == "One.");
  s = coder::sentence_around(t, t.size() - 1);
  CHECK(t.substr(s.first, s.second - s.first) == "Five");
}

TEST_CASE("codings appended to a corpus's vector equal those of each document alone", "[coder]") {
  auto coder = coder::OfflineCoder::create(book());
  REQUIRE(coder.ok());
  Document a = doc({"We were short-staffed again. Then the night shift started.", "Nothing here."});
  Document b = doc({"A double shift, and night shifts too.", "Short-staffed!"});
  b.id = "other";
  std::vector<coder::Coding> all;
  coder->code_document(a, all);
  const std::size_t after_a = all.size();
  coder->code_document(b, all);
  auto alone_a = coder->code_document(a), alone_b = coder->code_document(b);
  REQUIRE(after_a == alone_a.size());
  REQUIRE(all.size() == alone_a.size() + alone_b.size());
  REQUIRE_FALSE(alone_b.empty());
  auto same = [](const coder::Coding& x, const coder::Coding& y) {
    return x.document_id == y.document_id && x.segment_id == y.segment_id && x.start == y.start && x.end == y.end &&
           x.quote == y.quote && x.code_id == y.code_id && x.rationale == y.rationale;
  };
  for (std::size_t i = 0; i < alone_a.size(); ++i) CHECK(same(all[i], alone_a[i]));
  for (std::size_t i = 0; i < alone_b.size(); ++i) CHECK(same(all[after_a + i], alone_b[i]));
}

TEST_CASE("codings written over a reused vector equal fresh ones, with nothing left of the old", "[coder]") {
  auto coder = coder::OfflineCoder::create(book());
  REQUIRE(coder.ok());
  Document a = doc({"We were short-staffed again. Then the night shift started. A double shift.", "Short-staffed!"});
  Document b = doc({"Night shifts."});
  b.id = "other";
  b.sha256 = std::string(64, 'b');
  std::vector<coder::Coding> pool;
  const std::size_t made_a = coder->code_document_into(a, pool, 0);
  REQUIRE(made_a == coder->code_document(a).size());
  REQUIRE(made_a > 2);
  // Fields a model or a person sets, and longer strings than b's, must not leak into b's codings.
  for (auto& c : pool) {
    c.memo = "an old memo";
    c.prompt_hash = "old-hash";
    c.cache_key = "old-key";
    c.coder = "llm:old-model-with-a-long-name";
  }
  const std::size_t made_b = coder->code_document_into(b, pool, 0);
  auto fresh = coder->code_document(b);
  REQUIRE(made_b == fresh.size());
  REQUIRE(made_b >= 1);
  CHECK(pool.size() == made_a);  // not shrunk: the rest stays spare
  for (std::size_t i = 0; i < made_b; ++i) CHECK(pool[i] == fresh[i]);  // every field, new ones included
  for (std::size_t i = 0; i < made_b; ++i) {
    const auto& x = pool[i];
    const auto& y = fresh[i];
    CHECK(x.document_id == y.document_id);
    CHECK(x.document_sha256 == y.document_sha256);
    CHECK(x.segment_id == y.segment_id);
    CHECK(x.start == y.start);
    CHECK(x.end == y.end);
    CHECK(x.quote == y.quote);
    CHECK(x.code_id == y.code_id);
    CHECK(x.codebook_version == y.codebook_version);
    CHECK(x.coder == y.coder);
    CHECK(x.memo.empty());
    CHECK(x.rationale == y.rationale);
    CHECK(x.prompt_hash.empty());
    CHECK(x.cache_key.empty());
  }
  // Written after the first `used`, the vector grows when it is too short.
  const std::size_t total = coder->code_document_into(a, pool, made_b);
  CHECK(total == made_b + made_a);
  CHECK(pool.size() == made_b + made_a);
  CHECK(pool[made_b].document_id == "doc");
}
