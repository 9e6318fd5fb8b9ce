// The fuzz seeds in fuzz/corpus/runlog_verify/: valid-* must verify with the fixed test key,
// bad-* must not. The hidden test regenerates them:
//   CQDA_RUNLOG_CORPUS_OUT=fuzz/corpus/runlog_verify test_runlog "[.generate-corpus]"
#include <catch2/catch.hpp>
#include <cstdlib>

#include "runlog/verifier.h"
#include "runlog_test_support.h"
#include "support/test_support.h"

namespace cqda::runlog {
namespace {

TEST_CASE("the checked-in fuzz seeds verify as their names say", "[runlog][corpus]") {
  const auto dir = cqda::test::source_dir() / "fuzz" / "corpus" / "runlog_verify";
  const PublicKey key = test::fixed_key().public_key();
  std::size_t valid = 0, bad = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    INFO(name);
    const VerifyReport report =
        verify_log(cqda::test::slurp(entry.path()), {key}, {.require_signatures = false});
    if (name.rfind("valid-", 0) == 0) {
      CHECK(report.ok);
      ++valid;
    } else if (name.rfind("bad-", 0) == 0) {
      CHECK_FALSE(report.ok);
      ++bad;
    }
  }
  CHECK(valid >= 3);
  CHECK(bad >= 3);
}

TEST_CASE("regenerate the fuzz seeds", "[.generate-corpus]") {
  const char* out = std::getenv("CQDA_RUNLOG_CORPUS_OUT");
  REQUIRE(out != nullptr);
  const std::filesystem::path dir(out);
  cqda::test::TempDir tmp;
  SigningKey key = test::fixed_key();
  const std::string sample =
      test::write_sample_log(tmp / "a.jsonl", "20250304T050607Z-1a2b3c4d", &key);
  const std::string unsigned_log = test::write_sample_log(tmp / "u.jsonl", "unsigned-run", nullptr);
  Result<RunLogWriter> empty =
      RunLogWriter::create(tmp / "e.jsonl", "empty-run", &key, {.clock = test::pinned_clock()});
  REQUIRE(empty.ok());
  REQUIRE(empty->seal().ok());
  const std::string sealed_only = cqda::test::slurp(tmp / "e.jsonl");
  auto lines = test::split_lines(sample);

  auto put = [&](const std::string& name, const std::string& content) {
    cqda::test::write_text(dir / name, content);
  };
  put("valid-signed.jsonl", sample);
  put("valid-unsigned.jsonl", unsigned_log);
  put("valid-seal-only.jsonl", sealed_only);
  put("bad-truncated.jsonl", sample.substr(0, sample.size() - 30));
  put("bad-no-seal.jsonl", test::join_lines({lines.begin(), lines.end() - 1}));
  put("bad-after-seal.jsonl", sample + lines[7] + "\n");
  auto swapped = lines;
  std::swap(swapped[2], swapped[3]);
  put("bad-swapped.jsonl", test::join_lines(swapped));
  auto dup = lines;
  const std::size_t at = dup[3].rfind(",\"sig\":\"");
  dup[3] = dup[3].substr(0, at) + ",\"sig\":null" + dup[3].substr(at);
  put("bad-duplicate-sig.jsonl", test::join_lines(dup));
  put("bad-empty.jsonl", "");
}

}  // namespace
}  // namespace cqda::runlog
