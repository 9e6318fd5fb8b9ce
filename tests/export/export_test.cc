#include <catch2/catch.hpp>
#include <fcntl.h>
#include <sys/file.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <span>

#include "codebook/codebook.h"
#include "common/fd.h"
#include "common/hash.h"
#include "common/json.h"
#include "export/analysis.h"
#include "export/coding_json.h"
#include "export/exporter.h"
#include "export/markdown.h"
#include "export/staging.h"
#include "policy/policy.h"
#include "resources/resources.h"
#include "support/test_support.h"

using namespace cqda;
namespace fs = std::filesystem;

namespace {

struct Fixture {
  policy::Policy policy = policy::default_policy();
  codebook::Codebook book;
  std::vector<Document> documents;
  std::vector<coder::Coding> codings;
  exporter::ExportInput input;

  Fixture() {
    auto b = codebook::load_codebook_text(R"J({"name": "t", "version": 1, "categories": [
      {"id": "c", "name": "C", "codes": [
        {"id": "a", "name": "Code A", "definition": "d"}, {"id": "b", "name": "Code B", "definition": "d"}]}]})J", "t");
    REQUIRE(b.ok());
    book = std::move(b).value();
    Document d;
    d.id = "interviews-p01-txt";
    d.relative_path = "interviews/p01.txt";
    d.sha256 = std::string(64, '1');
    d.segments.push_back({"", 0, "Interviewer", "", "", "How was it?", 0, 0});
    d.segments.push_back({"", 0, "Person-7KQ2", "", "", "Hard. <script>alert(1)</script> [link](http://x)", 0, 0});
    number_segments(d);
    render_document_text(d);
    documents.push_back(d);
    Document docx = d;
    docx.id = "interviews-p02-docx";
    docx.relative_path = "interviews/p02.docx";
    docx.format = DocumentFormat::kDocx;
    number_segments(docx);
    documents.push_back(docx);
    codings.push_back({d.id, d.sha256, d.segments[1].id, d.segments[1].start, d.segments[1].start + 5, "Hard.", "a", 1,
                       "offline-rules", "", "rule matched", "", ""});
    codings.push_back({d.id, d.sha256, d.segments[1].id, d.segments[1].start, d.segments[1].start + 5, "Hard.", "b", 1,
                       "offline-rules", "", "", "", ""});
    input.policy = &policy;
    input.codebook = &book;
    input.documents = &documents;
    input.codings = &codings;
    input.anonymization_counts = {{"person", 3}, {"email", 1}};
    input.run_id = "20261124T000000Z-00000000";
    input.generated_at = "2026-11-24T00:00:00Z";
    input.tool_version = "test";
  }
};

}  // namespace

TEST_CASE("exports are written, listed in the manifest and valid", "[export]") {
  Fixture f;
  test::TempDir out;
  auto files = exporter::write_exports(out.path(), f.input);
  REQUIRE(files.ok());
  for (const char* name : {"report.md", "codings.json", "codings.csv", "codebook.json", "manifest.json",
                           "documents/interviews-p01-txt.md", "anonymized/interviews/p01.txt",
                           "anonymized/interviews/p02.docx.txt"})
    CHECK(fs::exists(out / name));
  CHECK(files->size() == 9);  // the manifest lists every file but itself
  auto manifest = Json::parse(test::slurp(out / "manifest.json"));
  CHECK(manifest["files"].size() == 8);
  // No staging folder is left behind.
  for (const auto& e : fs::directory_iterator(out.path())) CHECK(e.path().filename().string().rfind(".staging", 0) != 0);
  std::string report = test::slurp(out / "report.md");
  CHECK_THAT(report, Catch::Contains("| person | 3 |"));
  CHECK_THAT(report, Catch::Contains("Code A"));
  // Document text cannot inject HTML or links into the Markdown.
  std::string doc = test::slurp(out / "documents/interviews-p01-txt.md");
  CHECK_THAT(doc, !Catch::Contains("<script>"));
  CHECK_THAT(doc, Catch::Contains("\\<script\\>"));
  CHECK_THAT(doc, !Catch::Contains("[link](http"));
}

TEST_CASE("a rerun replaces outputs; folders are swapped whole", "[export]") {
  Fixture f;
  test::TempDir out;
  REQUIRE(exporter::write_exports(out.path(), f.input).ok());
  test::write_text(out / "documents/stale.md", "old");
  f.documents.pop_back();
  REQUIRE(exporter::write_exports(out.path(), f.input).ok());
  CHECK_FALSE(fs::exists(out / "documents/stale.md"));
  CHECK_FALSE(fs::exists(out / "anonymized/interviews/p02.docx.txt"));
}

TEST_CASE("a failed validation writes nothing and names the file and rule", "[export]") {
  Fixture f;
  test::TempDir out;
  test::write_text(out / "report.md", "previous report");
  f.codings[0].quote = "";  // violates minLength in codings.schema.json
  auto files = exporter::write_exports(out.path(), f.input);
  REQUIRE_FALSE(files.ok());
  CHECK_THAT(files.error().message, Catch::Contains("codings.json"));
  CHECK_THAT(files.error().message, Catch::Contains("/codings/0/quote"));
  CHECK_THAT(files.error().message, Catch::Contains("nothing was written"));
  CHECK(test::slurp(out / "report.md") == "previous report");
  std::size_t entries = 0;
  for (const auto& e : fs::directory_iterator(out.path())) (void)e, ++entries;
  CHECK(entries == 1);
}

TEST_CASE("un-anonymized text is refused when the policy requires anonymized exports", "[export]") {
  Fixture f;
  f.input.anonymized = false;
  test::TempDir out;
  auto files = exporter::write_exports(out.path(), f.input);
  REQUIRE_FALSE(files.ok());
  CHECK_THAT(files.error().message, Catch::Contains("requires anonymized exports"));
  CHECK(fs::is_empty(out.path()));
}

TEST_CASE("only the formats the policy allows are written", "[export]") {
  Fixture f;
  f.policy.exports.formats = {policy::ExportFormat::kCsv};
  test::TempDir out;
  REQUIRE(exporter::write_exports(out.path(), f.input).ok());
  CHECK(fs::exists(out / "codings.csv"));
  CHECK(fs::exists(out / "manifest.json"));
  CHECK_FALSE(fs::exists(out / "report.md"));
  CHECK_FALSE(fs::exists(out / "codings.json"));
  CHECK_FALSE(fs::exists(out / "anonymized"));
}

TEST_CASE("staging refuses unsafe paths and cleans up", "[export]") {
  test::TempDir out;
  {
    auto stage = exporter::Staging::create(out.path(), "run-1");
    REQUIRE(stage.ok());
    CHECK_FALSE(stage->add("../escape.txt", "x").ok());
    CHECK_FALSE(stage->add("/abs.txt", "x").ok());
    CHECK_FALSE(stage->add("a/./b.txt", "x").ok());
    CHECK(stage->add("a/b.txt", "x").ok());
  }
  CHECK(fs::is_empty(out.path()));  // not committed: nothing remains
  test::write_text(out / "file.txt", "x");
  auto st = exporter::ensure_writable_dir(out / "file.txt/sub", "output");
  REQUIRE_FALSE(st.ok());
  CHECK_THAT(st.error().message, Catch::Contains("choose a folder"));
}

TEST_CASE("frequencies, matrix and co-occurrence", "[export]") {
  std::vector<coder::Coding> c = {
      {"d1", "", "d1.s0000", 0, 1, "x", "a", 1, "r", "", "", "", ""},
      {"d1", "", "d1.s0000", 0, 1, "x", "b", 1, "r", "", "", "", ""},
      {"d1", "", "d1.s0001", 0, 1, "x", "a", 1, "r", "", "", "", ""},
      {"d2", "", "d2.s0000", 0, 1, "x", "a", 1, "r", "", "", "", ""},
      {"d2", "", "d2.s0000", 0, 1, "x", "b", 1, "r", "", "", "", ""},
      {"d2", "", "d2.s0000", 0, 1, "x", "c", 1, "r", "", "", "", ""},
  };
  auto freq = exporter::code_frequencies(c);
  CHECK(freq["a"].codings == 3);
  CHECK(freq["a"].segments == 3);
  CHECK(freq["a"].documents == 2);
  CHECK(exporter::code_matrix(c)["d2"]["c"] == 1);
  auto pairs = exporter::code_cooccurrence(c);
  REQUIRE(pairs.size() == 3);
  CHECK(pairs[0].first == "a");
  CHECK(pairs[0].second == "b");
  CHECK(pairs[0].segments == 2);
}

// The counts above, the plain way (strings in ordered containers), for any order of codings.
TEST_CASE("frequencies, matrix and co-occurrence match a plain count in any order", "[export]") {
  std::mt19937 rng(11);
  for (int round = 0; round < 200; ++round) {
    std::vector<coder::Coding> c;
    const int n = static_cast<int>(rng() % 60);
    for (int i = 0; i < n; ++i) {
      const std::string doc = "d" + std::to_string(rng() % 4);
      c.push_back({doc, "", doc + ".s000" + std::to_string(rng() % 3), 0, 1, "x", std::string(1, static_cast<char>('a' + rng() % 6)),
                   1, "r", "", "", "", ""});
    }
    if (round % 2) std::sort(c.begin(), c.end(), [](const auto& a, const auto& b) { return a.segment_id < b.segment_id; });
    std::map<std::string, std::set<std::string>> segments, documents, codes_by_segment;
    std::map<std::string, std::size_t> totals;
    std::map<std::string, std::map<std::string, std::size_t>> matrix;
    for (const auto& x : c) {
      ++totals[x.code_id];
      segments[x.code_id].insert(x.segment_id);
      documents[x.code_id].insert(x.document_id);
      ++matrix[x.document_id][x.code_id];
      codes_by_segment[x.segment_id].insert(x.code_id);
    }
    auto freq = exporter::code_frequencies(c);
    REQUIRE(freq.size() == totals.size());
    for (const auto& [code, total] : totals) {
      CHECK(freq[code].codings == total);
      CHECK(freq[code].segments == segments[code].size());
      CHECK(freq[code].documents == documents[code].size());
    }
    CHECK(exporter::code_matrix(c) == matrix);
    std::map<std::pair<std::string, std::string>, std::size_t> pair_counts;
    for (const auto& [segment, codes] : codes_by_segment)
      for (auto a = codes.begin(); a != codes.end(); ++a)
        for (auto b = std::next(a); b != codes.end(); ++b) ++pair_counts[{*a, *b}];
    std::vector<exporter::CodePair> expected;
    for (const auto& [key, count] : pair_counts) expected.push_back({key.first, key.second, count});
    std::stable_sort(expected.begin(), expected.end(), [](const auto& a, const auto& b) { return a.segments > b.segments; });
    auto pairs = exporter::code_cooccurrence(c);
    REQUIRE(pairs.size() == expected.size());
    for (std::size_t i = 0; i < pairs.size(); ++i) {
      CHECK(pairs[i].first == expected[i].first);
      CHECK(pairs[i].second == expected[i].second);
      CHECK(pairs[i].segments == expected[i].segments);
    }
  }
}

TEST_CASE("a staged file is written in blocks and hashed as a whole", "[export]") {
  test::TempDir dir;
  auto staging = exporter::Staging::create(dir.path() / "out", "run-blocks");
  REQUIRE(staging);
  auto file = staging->open("nested/big.txt");
  REQUIRE(file);
  std::string expected;
  for (int i = 0; i < 50000; ++i) {  // small pieces, flushed whenever a block is full
    std::string line = "line " + std::to_string(i) + "\n";
    file->text() += line;
    expected += line;
    REQUIRE(file->flush_if_full());
  }
  const std::string large(3 * exporter::StagedFile::kBlock + 5, 'z');  // written from where it is
  REQUIRE(file->append(large));
  expected += large;
  REQUIRE(file->append("end"));
  expected += "end";
  auto written = file->close();
  REQUIRE(written);
  CHECK(written->path == "nested/big.txt");
  CHECK(written->bytes == expected.size());
  CHECK(written->sha256 == sha256_hex(expected));
  CHECK(staging->files().empty());  // listed only when the caller records it
  staging->record(*written);
  // A path that climbs out is refused before anything is created.
  CHECK_FALSE(staging->open("../escape.txt"));
  CHECK_FALSE(staging->open("/abs.txt"));
  auto unclosed = staging->open("dropped.txt");
  REQUIRE(unclosed);
  REQUIRE(staging->commit());
  CHECK(test::slurp(dir.path() / "out" / "nested" / "big.txt") == expected);
  CHECK_FALSE(std::filesystem::exists(dir.path() / "out" / "dropped.txt"));  // never recorded, never moved
}

TEST_CASE("the schema of a coding is checked by the quick form", "[export]") {
  const SchemaValidator codings(Json::parse(resources::get("schemas/codings.schema.json")));
  const SchemaValidator item = codings.subschema("/properties/codings/items");
  CHECK(item.has_quick_form());
  Json good = Json::parse(R"({"code_id":"pay","codebook_version":1,"coder":"offline-rules","document_id":"d-1",
    "document_sha256":"0000000000000000000000000000000000000000000000000000000000000000","end":4,"quote":"pay.",
    "segment_id":"d-1.s0001","start":0})");
  CHECK(item.validate(good).empty());
  Json bad = good;
  bad["segment_id"] = "D-1.s1";
  auto violations = item.validate(bad, "/codings/7");
  REQUIRE(violations.size() == 1);
  CHECK(violations[0].pointer == "/codings/7/segment_id");
  bad = good;
  bad["coder"] = std::string(201, 'x');
  CHECK_FALSE(item.validate(bad).empty());
}

// The escaper copies runs of ordinary characters whole; it must give what escaping one
// character at a time gives.
TEST_CASE("markdown escaping equals the character-by-character rules", "[export]") {
  auto reference = [](std::string_view text, bool inline_text) {
    std::string out;
    bool line_start = true;
    for (char c : text) {
      const bool at_line_start = line_start;
      line_start = c == '\n';
      if (std::string_view("\\`*_[]<>|").find(c) != std::string_view::npos) {
        out += '\\';
        out += c;
      } else if (std::string_view("#-+=").find(c) != std::string_view::npos) {
        if (at_line_start) out += '\\';
        out += c;
      } else if (c == '&') {
        out += "&amp;";
      } else if (inline_text && (c == '\n' || c == '\t')) {
        out += ' ';
      } else {
        out += c;
      }
    }
    return out;
  };
  std::mt19937 rng(5);
  const std::string alphabet = "ab \\`*_[]<>|#-+=&\n\t\xc3\xa9.";
  for (int round = 0; round < 3000; ++round) {
    std::string text;
    for (unsigned n = rng() % 30; n > 0; --n) text += alphabet[rng() % alphabet.size()];
    CAPTURE(text);
    CHECK(exporter::md::escape(text) == reference(text, false));
    CHECK(exporter::md::escape_inline(text) == reference(text, true));
    std::string appended = "x";
    exporter::md::append_escaped(appended, text, true);
    CHECK(appended == "x" + reference(text, true));
  }
}

TEST_CASE("case attributes CSV", "[export]") {
  auto cases = exporter::parse_case_attributes("document,role,age_band\ninterviews/p01.txt,nurse,30-39\n");
  REQUIRE(cases.ok());
  CHECK((*cases)["interviews/p01.txt"]["role"] == "nurse");
  CHECK_THAT(exporter::parse_case_attributes("role\nx\n").error().message, Catch::Contains("no \"document\" column"));
  CHECK_THAT(exporter::parse_case_attributes("document,role\na\n").error().message, Catch::Contains("line 2"));
}

TEST_CASE("markdown escaping", "[export]") {
  CHECK(exporter::md::escape("a*b_[c](d) <x> | # !") == "a\\*b\\_\\[c\\](d) \\<x\\> \\| # !");
  CHECK(exporter::md::escape("# h\n- item") == "\\# h\n\\- item");
  CHECK(exporter::md::escape_inline("a\nb") == "a b");
  CHECK(exporter::md::blockquote("a\nb") == "> a\n> b\n");
}

TEST_CASE("the reused coding object equals a fresh one for every coding, whatever changes between them", "[export]") {
  std::mt19937 rng(7);
  auto pick = [&](std::initializer_list<const char*> options) {
    std::uniform_int_distribution<std::size_t> d(0, options.size() - 1);
    return std::string(*(options.begin() + d(rng)));
  };
  for (bool quotes : {true, false}) {
    for (bool memos : {true, false}) {
      policy::ExportPolicy policy;
      policy.include_quotes = quotes;
      policy.include_memos = memos;
      exporter::CodingJsonBuffer buffer(policy);
      for (int i = 0; i < 2000; ++i) {
        coder::Coding c;
        c.document_id = pick({"a", "interview-with-a-long-identifier-01", ""});
        c.document_sha256 = pick({"", std::string(64, 'a').c_str()});
        c.segment_id = pick({"a.s0001", "interview-with-a-long-identifier-01.s0042"});
        c.start = std::uniform_int_distribution<std::size_t>(0, 1u << 20)(rng);
        c.end = c.start + std::uniform_int_distribution<std::size_t>(0, 500)(rng);
        c.quote = pick({"", "short", "a quote long enough to leave the small-string buffer behind", "\xc3\xa9t\xc3\xa9"});
        c.code_id = pick({"care", "agency-vs-direct-employment"});
        c.codebook_version = std::uniform_int_distribution<int>(1, 9)(rng);
        c.coder = pick({"offline-rules", "llm:a-model-with-a-long-name", "Ana"});
        c.memo = pick({"", "", "a memo"});
        c.rationale = pick({"", "rule matched \"care\""});
        c.prompt_hash = pick({"", "", std::string(64, 'b').c_str()});
        c.cache_key = pick({"", "", std::string(64, 'c').c_str()});
        const Json expected = exporter::coding_json(c, policy);
        const Json& got = buffer.fill(c);
        REQUIRE(got == expected);
        REQUIRE(got.dump() == expected.dump());
      }
    }
  }
}

namespace {

// Documents with random codings, grouped by document as a coder makes them.
struct RandomCorpus {
  std::vector<Document> documents;
  std::vector<coder::Coding> codings;
  std::vector<std::size_t> first;  // index of each document's first coding; one past the end last

  explicit RandomCorpus(unsigned seed) {
    std::mt19937 rng(seed);
    const std::size_t count = 1 + rng() % 6;
    for (std::size_t k = 0; k < count; ++k) {
      Document d;
      d.id = "doc-" + std::to_string(k);
      d.relative_path = "notes/" + d.id + ".txt";
      d.sha256 = std::string(64, static_cast<char>('a' + k));
      const std::size_t segments = 1 + rng() % 5;
      for (std::size_t s = 0; s < segments; ++s)
        d.segments.push_back({"", 0, s % 2 ? "Ana" : "", "", "", "Words in segment " + std::to_string(s) + ". More.", 0, 0});
      number_segments(d);
      render_document_text(d);
      first.push_back(codings.size());
      for (const auto& s : d.segments) {
        const std::size_t n = rng() % 4;
        for (std::size_t i = 0; i < n; ++i)
          codings.push_back({d.id, d.sha256, s.id, s.start, s.start + 5, "Words", std::string(rng() % 2 ? "a" : "b"), 1,
                             "offline-rules", "", "rule matched \"w\"", "", ""});
      }
      documents.push_back(std::move(d));
    }
    first.push_back(codings.size());
  }
};

std::map<std::string, std::string> folder_files(const fs::path& root) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (e.is_regular_file()) out[fs::relative(e.path(), root).generic_string()] = test::slurp(e.path());
  return out;
}

}  // namespace

TEST_CASE("a streamed export writes the same files as an export written whole", "[export]") {
  for (unsigned seed = 1; seed <= 40; ++seed) {
    Fixture f;
    RandomCorpus corpus(seed);
    f.input.documents = &corpus.documents;
    f.input.codings = &corpus.codings;
    f.input.skipped = {{"notes/bad.txt", "invalid UTF-8 at byte 3"}};
    test::TempDir whole, streamed;
    auto written = exporter::write_exports(whole.path(), f.input);
    REQUIRE(written.ok());

    auto writer = exporter::ExportWriter::begin(streamed.path(), f.input);
    REQUIRE(writer.ok());
    for (std::size_t k = 0; k < corpus.documents.size(); ++k) {
      std::span<const coder::Coding> own(corpus.codings.data() + corpus.first[k], corpus.first[k + 1] - corpus.first[k]);
      std::vector<const coder::Coding*> pointers;
      for (const auto& c : own) pointers.push_back(&c);
      REQUIRE(writer->add_document(corpus.documents[k], pointers).ok());
      REQUIRE(writer->add_codings(own).ok());
    }
    auto finished = writer->finish(f.input);
    REQUIRE(finished.ok());

    CHECK(folder_files(whole.path()) == folder_files(streamed.path()));
    REQUIRE(finished->size() == written->size());
    for (std::size_t i = 0; i < written->size(); ++i) {
      CHECK((*finished)[i].path == (*written)[i].path);
      CHECK((*finished)[i].sha256 == (*written)[i].sha256);
    }
    // The codings are all there, in order, and the documents come after them.
    const Json json = Json::parse(test::slurp(streamed / "codings.json"));
    REQUIRE(json["codings"].size() == corpus.codings.size());
    for (std::size_t i = 0; i < corpus.codings.size(); ++i)
      CHECK(json["codings"][i]["segment_id"] == corpus.codings[i].segment_id);
    REQUIRE(json["documents"].size() == corpus.documents.size());
    CHECK(json["documents"][0]["id"] == corpus.documents[0].id);
    CHECK(exporter::render_report(f.input) == test::slurp(streamed / "report.md"));
  }
}

TEST_CASE("a streamed export that fails midway leaves the output folder as it was", "[export]") {
  Fixture f;
  RandomCorpus corpus(7);
  while (corpus.documents.size() < 2 || corpus.first[2] == corpus.first[1]) corpus = RandomCorpus(corpus.first.size() * 31 + 1);
  test::TempDir out;
  test::write_text(out / "report.md", "previous report");
  {
    auto writer = exporter::ExportWriter::begin(out.path(), f.input);
    REQUIRE(writer.ok());
    std::span<const coder::Coding> first(corpus.codings.data(), corpus.first[1]);
    std::vector<const coder::Coding*> none;
    REQUIRE(writer->add_document(corpus.documents[0], none).ok());
    REQUIRE(writer->add_codings(first).ok());
    // The second document's first coding breaks the schema: its quote is empty.
    std::vector<coder::Coding> second(corpus.codings.begin() + static_cast<long>(corpus.first[1]),
                                      corpus.codings.begin() + static_cast<long>(corpus.first[2]));
    second[0].quote = "";
    REQUIRE(writer->add_document(corpus.documents[1], none).ok());
    auto st = writer->add_codings(second);
    REQUIRE_FALSE(st.ok());
    CHECK_THAT(st.error().message, Catch::Contains("/codings/" + std::to_string(corpus.first[1]) + "/quote"));
    CHECK_THAT(st.error().message, Catch::Contains("nothing was written"));
    // Everything after the failure is refused with the same error, finish included.
    CHECK_FALSE(writer->status().ok());
    auto again = writer->add_document(corpus.documents[0], none);
    REQUIRE_FALSE(again.ok());
    CHECK(again.error().message == st.error().message);
    auto finished = writer->finish(f.input);
    REQUIRE_FALSE(finished.ok());
    CHECK(finished.error().message == st.error().message);
  }
  CHECK(test::slurp(out / "report.md") == "previous report");
  std::size_t entries = 0;
  for (const auto& e : fs::directory_iterator(out.path())) (void)e, ++entries;
  CHECK(entries == 1);  // the staging folder went with the writer
}

TEST_CASE("a streamed export refuses a document added twice", "[export]") {
  Fixture f;
  test::TempDir out;
  auto writer = exporter::ExportWriter::begin(out.path(), f.input);
  REQUIRE(writer.ok());
  std::vector<const coder::Coding*> none;
  REQUIRE(writer->add_document(f.documents[0], none).ok());
  auto st = writer->add_document(f.documents[0], none);
  REQUIRE_FALSE(st.ok());
  CHECK_THAT(st.error().message, Catch::Contains("added twice"));
}

TEST_CASE("a streamed export refuses a document's codings split across batches", "[export]") {
  Fixture f;
  test::TempDir out;
  auto writer = exporter::ExportWriter::begin(out.path(), f.input);
  REQUIRE(writer.ok());
  std::vector<const coder::Coding*> none;
  REQUIRE(writer->add_document(f.documents[0], none).ok());
  REQUIRE(writer->add_codings(std::span<const coder::Coding>(f.codings.data(), 1)).ok());
  auto st = writer->add_codings(std::span<const coder::Coding>(f.codings.data() + 1, 1));
  REQUIRE_FALSE(st.ok());
  CHECK_THAT(st.error().message, Catch::Contains("more than one batch"));
}

TEST_CASE("an export removes staging folders abandoned by killed runs, never a live one", "[export]") {
  Fixture f;
  test::TempDir out;
  // A run killed mid-export left its staging folder, with a file in it.
  fs::create_directories(out / ".staging-killed/documents");
  test::write_text(out / ".staging-killed/documents/x.md", "left behind");
  // A live run holds the lock on its own.
  fs::create_directories(out / ".staging-live");
  UniqueFd live(::open((out / ".staging-live").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  REQUIRE(live.valid());
  REQUIRE(::flock(live.get(), LOCK_EX | LOCK_NB) == 0);
  // Killed between mkdir and rename: removed once an hour old, not before.
  fs::create_directories(out / ".cqda-new-old");
  fs::create_directories(out / ".cqda-new-recent");
  fs::last_write_time(out / ".cqda-new-old", fs::file_time_type::clock::now() - std::chrono::hours(2));
  REQUIRE(exporter::write_exports(out.path(), f.input).ok());
  CHECK_FALSE(fs::exists(out / ".staging-killed"));
  CHECK(fs::exists(out / ".staging-live"));
  CHECK_FALSE(fs::exists(out / ".cqda-new-old"));
  CHECK(fs::exists(out / ".cqda-new-recent"));
  CHECK(fs::exists(out / "report.md"));
  // While a writer lives its own folder is locked: another export leaves it alone.
  {
    auto writer = exporter::ExportWriter::begin(out.path(), f.input);
    REQUIRE(writer.ok());
    f.input.run_id = "20261124T000000Z-00000001";
    REQUIRE(exporter::write_exports(out.path(), f.input).ok());
    CHECK(fs::exists(out / ".staging-20261124T000000Z-00000000"));
  }
  CHECK_FALSE(fs::exists(out / ".staging-20261124T000000Z-00000000"));
}

TEST_CASE("the report counts words as runs of bytes other than space, tab and newline", "[export]") {
  std::mt19937 rng(23);
  const std::vector<std::string> pieces = {" ", "\n", "\t", "a", "bc", "é", "  ", "x\ty", "\n\n"};
  for (int round = 0; round < 300; ++round) {
    Fixture f;
    Document d;
    d.id = "words";
    d.relative_path = "words.txt";
    d.sha256 = std::string(64, 'c');
    std::string text;
    const std::size_t n = rng() % 50;
    for (std::size_t i = 0; i < n; ++i) text += pieces[rng() % pieces.size()];
    d.segments.push_back({"", 0, "", "", "", text, 0, 0});
    number_segments(d);
    render_document_text(d);
    std::size_t expected = 0;
    bool in_word = false;
    for (char c : d.text) {
      const bool space = c == ' ' || c == '\n' || c == '\t';
      if (!space && !in_word) ++expected;
      in_word = !space;
    }
    std::vector<Document> docs{d};
    std::vector<coder::Coding> none;
    f.input.documents = &docs;
    f.input.codings = &none;
    const std::string report = exporter::render_report(f.input);
    INFO("text: " << d.text);
    CHECK_THAT(report, Catch::Contains("| `words` | words.txt | txt | 1 | " + std::to_string(expected) + " | 0 |"));
  }
}
