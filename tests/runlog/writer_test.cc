#include "runlog/writer.h"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <limits>

#include "common/hash.h"
#include "runlog/record.h"
#include "runlog/verifier.h"
#include "runlog_test_support.h"
#include "support/test_support.h"

namespace cqda::runlog {
namespace {

using cqda::test::TempDir;

TEST_CASE("a written and sealed log verifies, with every record counted", "[runlog][writer]") {
  TempDir tmp;
  SigningKey key = test::fixed_key();
  const std::string content = test::write_sample_log(tmp / "run-1.jsonl", "run-1", &key);
  const auto lines = test::split_lines(content);
  REQUIRE(lines.size() == 8);

  VerifyReport report = verify_log(content, {key.public_key()});
  CHECK(report.ok);
  CHECK(report.records == 8);
  CHECK(report.run_id == "run-1");
  CHECK(report.signed_log);
  CHECK(report.key_id == key.id());
  CHECK_FALSE(report.first_bad_line.has_value());
  CHECK_THAT(report.reason, Catch::Contains("intact"));

  Result<VerifyReport> from_file = verify_log_file(tmp / "run-1.jsonl", {key.public_key()});
  REQUIRE(from_file.ok());
  CHECK(from_file->ok);
}

TEST_CASE("records have the documented shape, chain and seal", "[runlog][writer]") {
  TempDir tmp;
  SigningKey key = test::fixed_key();
  const auto lines = test::split_lines(test::write_sample_log(tmp / "r.jsonl", "r", &key));
  for (std::size_t i = 0; i < lines.size(); ++i) {
    INFO("line " << i + 1);
    const Json record = Json::parse(lines[i]);
    std::vector<std::string> keys;
    for (const auto& [k, v] : record.items()) keys.push_back(k);
    CHECK(keys == std::vector<std::string>{"v", "run", "seq", "time", "type", "data", "prev", "key",
                                           "sig"});
    CHECK(record["v"] == 1);
    CHECK(record["run"] == "r");
    CHECK(record["seq"] == i);
    CHECK(is_time_utc_ms(record["time"].get<std::string>()));
    CHECK(record["key"] == key.id());
    CHECK(record["prev"] == (i == 0 ? std::string(kGenesisHash) : sha256_hex(lines[i - 1])));
    // The signature covers the domain prefix and the line up to ,"sig":
    const std::string sig_hex = record["sig"].get<std::string>();
    const std::string suffix = ",\"sig\":\"" + sig_hex + "\"}";
    REQUIRE(lines[i].size() > suffix.size());
    CHECK(lines[i].substr(lines[i].size() - suffix.size()) == suffix);
    const std::string body = lines[i].substr(0, lines[i].size() - suffix.size());
    std::string sig_bytes;
    REQUIRE(from_hex(sig_hex, sig_bytes));
    Ed25519Signature sig{};
    std::copy(sig_bytes.begin(), sig_bytes.end(), sig.begin());
    CHECK(verify_signature(key.public_key(), std::string("cqda-runlog-v1") + '\0' + body, sig));
    CHECK_FALSE(verify_signature(key.public_key(), body, sig));  // the domain prefix matters
  }
  const Json seal = Json::parse(lines.back());
  CHECK(seal["type"] == "seal");
  CHECK(seal["data"]["records"] == 7);
  CHECK(seal["data"]["last_hash"] == sha256_hex(lines[6]));
  CHECK(Json::parse(lines[0])["time"] == "2025-03-04T05:06:07.089Z");
}

TEST_CASE("the hash chain is deterministic", "[runlog][writer]") {
  TempDir tmp;
  SigningKey key = test::fixed_key();
  const std::string a = test::write_sample_log(tmp / "a.jsonl", "same-run", &key);
  const std::string b = test::write_sample_log(tmp / "b.jsonl", "same-run", &key);
  CHECK(a == b);  // same inputs, same clock, deterministic Ed25519: byte-identical
  const std::string c =
      test::write_sample_log(tmp / "c.jsonl", "same-run", &key, /*clock_offset_ms=*/1);
  CHECK(a != c);

  Result<RunLogWriter> writer =
      RunLogWriter::create(tmp / "d.jsonl", "d", &key, {.clock = test::pinned_clock()});
  REQUIRE(writer.ok());
  CHECK(writer->last_hash() == kGenesisHash);
  REQUIRE(writer->append("input", Json{{"n", 1}}).ok());
  const auto lines = test::split_lines(cqda::test::slurp(tmp / "d.jsonl"));
  REQUIRE(lines.size() == 1);
  CHECK(writer->last_hash() == sha256_hex(lines[0]));
  CHECK(writer->records_written() == 1);
}

TEST_CASE("a holding writer writes its lines only on flush, the same lines in the same order",
          "[runlog][writer]") {
  TempDir tmp;
  SigningKey key = test::fixed_key();
  auto open = [&](const char* name) {
    Result<RunLogWriter> w = RunLogWriter::create(tmp / name, "h", &key, {.clock = test::pinned_clock()});
    REQUIRE(w.ok());
    return std::move(w).value();
  };
  auto write_events = [](RunLogWriter& w, bool hold) {
    REQUIRE(w.append("input", Json{{"n", 1}}).ok());
    if (hold) REQUIRE(w.hold(true).ok());
    CHECK(w.holding() == hold);
    REQUIRE(w.append("mcp_data", Json{{"n", 2}}).ok());
    REQUIRE(w.append("mcp_tool_call", Json{{"n", 3}}).ok());
  };
  RunLogWriter direct = open("direct.jsonl");
  write_events(direct, false);
  RunLogWriter held = open("held.jsonl");
  write_events(held, true);
  // Chained and counted at once, on file only after the flush.
  CHECK(held.records_written() == 3);
  CHECK(held.last_hash() == direct.last_hash());
  CHECK(test::split_lines(cqda::test::slurp(tmp / "held.jsonl")).size() == 1);
  REQUIRE(held.flush().ok());
  CHECK(cqda::test::slurp(tmp / "held.jsonl") == cqda::test::slurp(tmp / "direct.jsonl"));
  CHECK(held.holding());  // a flush writes, it does not end holding
  REQUIRE(held.append("mcp_data", Json{{"n", 4}}).ok());
  REQUIRE(direct.append("mcp_data", Json{{"n", 4}}).ok());
  CHECK(test::split_lines(cqda::test::slurp(tmp / "held.jsonl")).size() == 3);
  // The seal writes what is held first; the log verifies as one written directly.
  REQUIRE(held.seal().ok());
  REQUIRE(direct.seal().ok());
  const std::string content = cqda::test::slurp(tmp / "held.jsonl");
  CHECK(content == cqda::test::slurp(tmp / "direct.jsonl"));
  CHECK(verify_log(content, {key.public_key()}).ok);

  SECTION("ending holding writes what is held") {
    RunLogWriter w = open("off.jsonl");
    REQUIRE(w.hold(true).ok());
    REQUIRE(w.append("mcp_data", Json{{"n", 1}}).ok());
    CHECK(cqda::test::slurp(tmp / "off.jsonl").empty());
    REQUIRE(w.hold(false).ok());
    CHECK(test::split_lines(cqda::test::slurp(tmp / "off.jsonl")).size() == 1);
    REQUIRE(w.append("mcp_data", Json{{"n", 2}}).ok());  // straight to the file again
    CHECK(test::split_lines(cqda::test::slurp(tmp / "off.jsonl")).size() == 2);
  }
  SECTION("a writer that goes away writes what it held (its log, unsealed, verifies as cut off)") {
    {
      RunLogWriter w = open("gone.jsonl");
      REQUIRE(w.hold(true).ok());
      REQUIRE(w.append("mcp_data", Json{{"n", 1}}).ok());
    }
    const std::string gone = cqda::test::slurp(tmp / "gone.jsonl");
    CHECK(test::split_lines(gone).size() == 1);
    CHECK_FALSE(verify_log(gone, {key.public_key()}).ok);
  }
  SECTION("a failed flush breaks the writer") {
    Result<RunLogWriter> w = RunLogWriter::create(tmp / "full.jsonl", "h", &key, {.clock = test::pinned_clock()});
    REQUIRE(w.ok());
    REQUIRE(w->hold(true).ok());
    REQUIRE(w->append("mcp_data", Json{{"n", 1}}).ok());
    // The file's descriptor is swapped for one on /dev/full, where every write fails.
    RunLogWriter& writer = *w;
    int log_fd = -1;  // the descriptor open on the log, found through /proc/self/fd
    for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
      std::error_code ec;
      if (std::filesystem::read_symlink(entry.path(), ec) == tmp / "full.jsonl")
        log_fd = std::stoi(entry.path().filename().string());
    }
    REQUIRE(log_fd >= 0);
    const int full = ::open("/dev/full", O_WRONLY | O_CLOEXEC);
    REQUIRE(full >= 0);
    REQUIRE(::dup2(full, log_fd) >= 0);
    ::close(full);
    Status flushed = writer.flush();
    REQUIRE_FALSE(flushed.ok());
    CHECK_THAT(flushed.error().message, Catch::Contains("write("));
    // Nothing is held now, but the lost line means no flush may say "written" again.
    CHECK_FALSE(writer.flush().ok());
    CHECK_FALSE(writer.hold(false).ok());
    CHECK_FALSE(writer.append("mcp_data", Json{{"n", 2}}).ok());
    CHECK_FALSE(writer.seal().ok());
  }
}

TEST_CASE("an unsigned log hash-chains and verifies only when signatures are optional",
          "[runlog][writer]") {
  TempDir tmp;
  const std::string content = test::write_sample_log(tmp / "u.jsonl", "u", nullptr);
  for (const auto& line : test::split_lines(content)) {
    CHECK_THAT(line, Catch::EndsWith(",\"key\":null,\"sig\":null}"));
  }
  VerifyReport relaxed = verify_log(content, {}, {.require_signatures = false});
  CHECK(relaxed.ok);
  CHECK(relaxed.records == 8);
  CHECK_FALSE(relaxed.signed_log);

  VerifyReport strict = verify_log(content, {test::fixed_key().public_key()});
  CHECK_FALSE(strict.ok);
  CHECK(strict.first_bad_line == 1u);
  CHECK_THAT(strict.reason, Catch::Contains("unsigned"));
}

TEST_CASE("the writer never overwrites, follows symlinks or writes after the seal",
          "[runlog][writer]") {
  TempDir tmp;
  SigningKey key = test::fixed_key();
  cqda::test::write_text(tmp / "exists.jsonl", "old\n");
  Result<RunLogWriter> existing = RunLogWriter::create(tmp / "exists.jsonl", "r", &key);
  REQUIRE_FALSE(existing.ok());
  CHECK_THAT(existing.error().message, Catch::Contains("already exists"));
  CHECK(cqda::test::slurp(tmp / "exists.jsonl") == "old\n");

  std::filesystem::create_symlink(tmp / "target.jsonl", tmp / "link.jsonl");
  CHECK_FALSE(RunLogWriter::create(tmp / "link.jsonl", "r", &key).ok());
  CHECK_FALSE(std::filesystem::exists(tmp / "target.jsonl"));

  CHECK_FALSE(RunLogWriter::create(tmp / "bad-id.jsonl", "../escape", &key).ok());
  CHECK_FALSE(RunLogWriter::create(tmp / "bad-id.jsonl", "", &key).ok());

  Result<RunLogWriter> writer = RunLogWriter::create(tmp / "w.jsonl", "w", &key);
  REQUIRE(writer.ok());
  CHECK_FALSE(writer->append("seal", Json::object()).ok());
  CHECK_FALSE(writer->append("Bad Type", Json::object()).ok());
  CHECK_FALSE(writer->append("input", Json::array()).ok());
  CHECK_FALSE(writer->append("input", Json{{"path", std::string("\xff\xfe", 2)}}).ok());
  Json deep = Json::object();
  for (int i = 0; i < 40; ++i) deep = Json{{"d", deep}};
  CHECK_FALSE(writer->append("input", deep).ok());
  CHECK_FALSE(writer->append("input", Json{{"blob", std::string(kMaxLineBytes, 'x')}}).ok());
  CHECK(cqda::test::slurp(tmp / "w.jsonl").empty());  // refused records write nothing

  REQUIRE(writer->append("input", Json{{"path", "a.txt"}}).ok());
  REQUIRE(writer->seal().ok());
  CHECK(writer->sealed());
  Status after = writer->append("input", Json{{"path", "b.txt"}});
  REQUIRE_FALSE(after.ok());
  CHECK_THAT(after.error().message, Catch::Contains("sealed"));
  CHECK_FALSE(writer->seal().ok());
  VerifyReport report = verify_log(cqda::test::slurp(tmp / "w.jsonl"), {key.public_key()});
  CHECK(report.ok);
  CHECK(report.records == 2);
}

TEST_CASE("an empty sealed log is valid; run ids and log paths", "[runlog][writer]") {
  TempDir tmp;
  SigningKey key = test::fixed_key();
  Result<std::filesystem::path> path = make_run_log_dir(tmp.path(), "20250304T050607Z-1a2b3c4d");
  REQUIRE(path.ok());
  CHECK(*path == tmp / "run-logs" / "20250304T050607Z-1a2b3c4d.jsonl");
  Result<RunLogWriter> writer = RunLogWriter::create(*path, "20250304T050607Z-1a2b3c4d", &key);
  REQUIRE(writer.ok());
  REQUIRE(writer->seal().ok());
  VerifyReport report = verify_log(cqda::test::slurp(*path), {key.public_key()});
  CHECK(report.ok);
  CHECK(report.records == 1);

  const std::string id =
      new_run_id(std::chrono::system_clock::time_point(std::chrono::milliseconds(1741064767089LL)));
  CHECK(id.rfind("20250304T050607Z-", 0) == 0);
  CHECK(id.size() == 17 + 8);
  CHECK(is_valid_run_id(id));
  CHECK_FALSE(make_run_log_dir(tmp.path(), "a/b").ok());
}

TEST_CASE("a record's line is nlohmann's dump of the record object, less its closing brace, then sig",
          "[runlog][record]") {
  SigningKey key = test::fixed_key();
  const Json data_cases[] = {
      Json::object(),
      Json{{"n", 1}, {"neg", -7}, {"big", std::numeric_limits<std::uint64_t>::max()}, {"f", 0.1}, {"e", 1e300}},
      Json{{"text", "Krak\xC3\xB3w \"quoted\" \\ \n\t\x01 \xF0\x9F\x99\x82"}, {"empty", ""}, {"null", nullptr}, {"t", true}},
      Json{{"nested", {{"list", {1, "two", Json::array(), Json::object(), {{"k", {{"deeper", {1, 2}}}}}}}}}},
      Json{{"key with \"quotes\" and \xC3\xA9", "v"}, {"z", 1}, {"a", 2}},  // insertion order kept
  };
  for (const SigningKey* k : {static_cast<const SigningKey*>(&key), static_cast<const SigningKey*>(nullptr)}) {
    for (const Json& data : data_cases) {
      const RecordFields fields{.run = "run-1", .seq = 42, .time = "2026-11-25T10:00:00.123Z", .type = "mcp_data",
                                .data = &data, .prev = kGenesisHash};
      Result<std::string> line = serialize_record(fields, k);
      REQUIRE(line.ok());
      Json record = Json::object();
      record["v"] = kFormatVersion;
      record["run"] = "run-1";
      record["seq"] = 42;
      record["time"] = "2026-11-25T10:00:00.123Z";
      record["type"] = "mcp_data";
      record["data"] = data;
      record["prev"] = kGenesisHash;
      record["key"] = k != nullptr ? Json(k->id()) : Json(nullptr);
      std::string body = record.dump(-1, ' ', false, Json::error_handler_t::strict);
      body.pop_back();
      INFO(body);
      REQUIRE(line->substr(0, body.size()) == body);
      CHECK(line->substr(body.size(), 7) == ",\"sig\":");
    }
  }
  // Text that is not UTF-8 anywhere in the data is refused, as nlohmann's strict dump would.
  const Json bad = {{"ok", "fine"}, {"list", {"\xC3("}}};
  const RecordFields fields{.run = "r", .seq = 0, .time = "2026-11-25T10:00:00.123Z", .type = "input", .data = &bad,
                            .prev = kGenesisHash};
  Result<std::string> refused = serialize_record(fields, &key);
  REQUIRE_FALSE(refused.ok());
  CHECK_THAT(refused.error().message, Catch::Contains("not valid UTF-8"));
}

TEST_CASE("time format", "[runlog][record]") {
  using std::chrono::milliseconds;
  using std::chrono::system_clock;
  CHECK(format_time_utc_ms(system_clock::time_point(milliseconds(0))) ==
        "1970-01-01T00:00:00.000Z");
  CHECK(format_time_utc_ms(system_clock::time_point(milliseconds(1741064767089LL))) ==
        "2025-03-04T05:06:07.089Z");
  CHECK(is_time_utc_ms("2025-03-04T05:06:07.089Z"));
  CHECK_FALSE(is_time_utc_ms("2025-03-04T05:06:07Z"));
  CHECK_FALSE(is_time_utc_ms("2025-13-04T05:06:07.089Z"));
  CHECK_FALSE(is_time_utc_ms("2025-03-04T05:06:07.089+00:00"));
  CHECK_FALSE(is_time_utc_ms("2025-03-04 05:06:07.089Z"));
}

}  // namespace
}  // namespace cqda::runlog
