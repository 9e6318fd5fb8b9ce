// Every tampering the run log is meant to detect: each case asserts that verification fails,
// the exact first bad line, and the reason.
#include "runlog/verifier.h"

#include <catch2/catch.hpp>

#include "common/hash.h"
#include "runlog/record.h"
#include "runlog/writer.h"
#include "runlog_test_support.h"
#include "support/test_support.h"

namespace cqda::runlog {
namespace {

using cqda::test::TempDir;

// The sample log: line 1 run_start (seq 0) ... line 7 run_end (seq 6), line 8 seal (seq 7).
struct SampleLog {
  TempDir tmp;
  SigningKey key = test::fixed_key();
  std::string content = test::write_sample_log(tmp / "run-a.jsonl", "run-a", &key);
  std::vector<std::string> lines = test::split_lines(content);
};

VerifyReport verify_with(const std::string& content, const SigningKey& key,
                         VerifyOptions options = {}) {
  return verify_log(content, {key.public_key()}, options);
}

void expect_bad(const VerifyReport& report, std::size_t line, const std::string& reason_part) {
  INFO("reason: " << report.reason);
  CHECK_FALSE(report.ok);
  REQUIRE(report.first_bad_line.has_value());
  CHECK(*report.first_bad_line == line);
  CHECK_THAT(report.reason, Catch::StartsWith("line " + std::to_string(line)));
  CHECK_THAT(report.reason, Catch::Contains(reason_part));
}

std::string replace_once(std::string text, const std::string& from, const std::string& to) {
  const std::size_t at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

// Changes the first character of the string value of top-level `field` to another hex digit.
std::string bump_hex_value(std::string line, const std::string& field) {
  const std::size_t at = line.find("\"" + field + "\":\"");
  REQUIRE(at != std::string::npos);
  char& c = line[at + field.size() + 4];
  c = c == '0' ? '1' : '0';
  return line;
}

std::string without(std::vector<std::string> lines, std::size_t index) {
  lines.erase(lines.begin() + static_cast<std::ptrdiff_t>(index));
  return test::join_lines(lines);
}

// Builds correctly chained lines by hand, for records the writer refuses to produce.
struct Forger {
  const SigningKey* key;
  std::string run = "run-a";
  std::vector<std::string> lines;
  std::string prev{kGenesisHash};

  void add(std::string_view type, const Json& data) { add_with_prev(type, data, prev); }
  void add_with_prev(std::string_view type, const Json& data, const std::string& claimed_prev) {
    Result<std::string> line = serialize_record({.run = run,
                                                 .seq = lines.size(),
                                                 .time = "2025-03-04T05:06:07.089Z",
                                                 .type = type,
                                                 .data = &data,
                                                 .prev = claimed_prev},
                                                key);
    REQUIRE(line.ok());
    prev = line_hash(*line);
    lines.push_back(*line);
  }
  std::string content() const { return test::join_lines(lines); }
};

TEST_CASE("a flipped byte in each field of a middle record names that record", "[runlog][verify]") {
  SampleLog log;
  struct Case {
    std::string field;
    std::string tampered;
    std::string reason;
  };
  const std::string& line = log.lines[3];  // line 4, seq 3, input_refused
  const Case cases[] = {
      {"v", replace_once(line, "{\"v\":1,", "{\"v\":2,"), "\"v\" must be 1"},
      {"run", replace_once(line, "\"run\":\"run-a\"", "\"run\":\"run-b\""),
       "signature does not verify"},
      {"seq", replace_once(line, "\"seq\":3,", "\"seq\":9,"), "signature does not verify"},
      {"time", replace_once(line, "\"time\":\"2025", "\"time\":\"2026"),
       "signature does not verify"},
      {"type", replace_once(line, "\"type\":\"input_refused\"", "\"type\":\"input_refusee\""),
       "signature does not verify"},
      {"data", replace_once(line, "hidden files", "hidden filez"), "signature does not verify"},
      {"prev", bump_hex_value(line, "prev"), "signature does not verify"},
      {"key", bump_hex_value(line, "key"), "but the log is signed by key " + log.key.id()},
      {"sig", bump_hex_value(line, "sig"), "signature does not verify with key " + log.key.id()},
  };
  for (const auto& c : cases) {
    SECTION("field " + c.field) {
      REQUIRE(c.tampered != line);
      auto lines = log.lines;
      lines[3] = c.tampered;
      expect_bad(verify_with(test::join_lines(lines), log.key), 4, c.reason);
      CHECK_THAT(verify_with(test::join_lines(lines), log.key).reason,
                 Catch::StartsWith("line 4 (seq "));
    }
  }
}

TEST_CASE("any flipped bit anywhere in a record is caught on that record's line",
          "[runlog][verify]") {
  SampleLog log;
  CHECK(verify_with(log.content, log.key).ok);
  // Lines 1, 4 and 8 (the seal), every byte including the line's '\n', three bit masks.
  std::size_t line_start = 0;
  for (std::size_t index = 0; index < log.lines.size(); ++index) {
    const std::size_t line_end = line_start + log.lines[index].size();  // the '\n'
    if (index == 0 || index == 3 || index == 7) {
      for (std::size_t pos = line_start; pos <= line_end; ++pos) {
        for (unsigned char mask : {0x01, 0x20, 0x80}) {
          std::string tampered = log.content;
          tampered[pos] = static_cast<char>(tampered[pos] ^ mask);
          const VerifyReport report = verify_with(tampered, log.key);
          INFO("line " << index + 1 << ", byte " << pos - line_start << ", mask " << int(mask)
                       << ": " << report.reason);
          REQUIRE_FALSE(report.ok);
          REQUIRE(report.first_bad_line == index + 1);
        }
      }
    }
    line_start = line_end + 1;
  }
}

TEST_CASE("deleted records are detected", "[runlog][verify]") {
  SampleLog log;
  SECTION("the first") {
    expect_bad(verify_with(without(log.lines, 0), log.key), 1, "seq 1 where 0 was expected");
  }
  SECTION("a middle one") {
    expect_bad(verify_with(without(log.lines, 3), log.key), 4, "a record is missing");
  }
  SECTION("the last before the seal") {
    expect_bad(verify_with(without(log.lines, 6), log.key), 7, "seq 7 where 6 was expected");
  }
  SECTION("the seal itself") {
    expect_bad(verify_with(without(log.lines, 7), log.key), 8,
               "log ends without a seal record - the tail was cut off");
  }
  SECTION("everything") { expect_bad(verify_with("", log.key), 1, "empty"); }
}

TEST_CASE("reordered records are detected", "[runlog][verify]") {
  SampleLog log;
  auto lines = log.lines;
  std::swap(lines[3], lines[4]);
  expect_bad(verify_with(test::join_lines(lines), log.key), 4, "seq 4 where 3 was expected");
}

TEST_CASE("a record spliced in from another run signed by the same key is detected",
          "[runlog][verify]") {
  SampleLog log;
  const auto other =
      test::split_lines(test::write_sample_log(log.tmp / "run-b.jsonl", "run-b", &log.key));
  SECTION("replacing a record") {
    auto lines = log.lines;
    lines[3] = other[3];
    expect_bad(verify_with(test::join_lines(lines), log.key), 4, "another run was spliced in");
  }
  SECTION("inserted") {
    auto lines = log.lines;
    lines.insert(lines.begin() + 4, other[4]);
    expect_bad(verify_with(test::join_lines(lines), log.key), 5, "run id \"run-b\" differs");
  }
}

TEST_CASE("a record from another log of the same run is detected", "[runlog][verify]") {
  SampleLog log;
  // Same run id, same key, same seq numbers; only the times and one value differ.
  const auto other = test::split_lines(test::write_sample_log(
      log.tmp / "run-a-again.jsonl", "run-a", &log.key, /*clock_offset_ms=*/5000, /*variant=*/1));
  REQUIRE(other[3] != log.lines[3]);
  auto lines = log.lines;
  lines[3] = other[3];
  expect_bad(verify_with(test::join_lines(lines), log.key), 4,
             "prev does not match the hash of line 3");

  SECTION("or the other log's seal") {
    auto with_seal = log.lines;
    with_seal[7] = other[7];
    expect_bad(verify_with(test::join_lines(with_seal), log.key), 8,
               "prev does not match the hash of line 7");
  }
}

TEST_CASE("a signed record from another trusted key is detected", "[runlog][verify]") {
  SampleLog log;
  SigningKey other_key = test::fixed_key(100);
  const auto other =
      test::split_lines(test::write_sample_log(log.tmp / "k.jsonl", "run-a", &other_key));
  auto lines = log.lines;
  lines[3] = other[3];
  expect_bad(verify_log(test::join_lines(lines), {log.key.public_key(), other_key.public_key()}), 4,
             "signed by key " + other_key.id() + " but the log is signed by key " + log.key.id());
}

TEST_CASE("a cut-off tail is detected", "[runlog][verify]") {
  SampleLog log;
  SECTION("only the final newline is missing") {
    expect_bad(verify_with(log.content.substr(0, log.content.size() - 1), log.key), 8,
               "ends mid-line");
  }
  SECTION("cut inside the seal") {
    expect_bad(verify_with(log.content.substr(0, log.content.size() - 40), log.key), 8,
               "the tail was cut off");
  }
  SECTION("cut inside a middle record") {
    const std::size_t cut = log.content.find(log.lines[3]) + 10;
    expect_bad(verify_with(log.content.substr(0, cut), log.key), 4, "ends mid-line");
  }
  SECTION("cut at a line boundary before the seal") {
    expect_bad(verify_with(test::join_lines({log.lines.begin(), log.lines.begin() + 5}), log.key),
               6, "without a seal record");
  }
}

TEST_CASE("anything after the seal is detected", "[runlog][verify]") {
  SampleLog log;
  SECTION("an extra record") {
    expect_bad(verify_with(log.content + log.lines[3] + "\n", log.key), 9, "follows the seal");
  }
  SECTION("an appended copy of the seal") {
    expect_bad(verify_with(log.content + log.lines[7] + "\n", log.key), 9, "follows the seal");
  }
  SECTION("a blank line") {
    expect_bad(verify_with(log.content + "\n", log.key), 9, "follows the seal");
  }
  SECTION("a partial line") {
    expect_bad(verify_with(log.content + "{", log.key), 9, "follows the seal");
  }
}

TEST_CASE("keys: unknown, rotated, missing", "[runlog][verify]") {
  SampleLog log;
  SigningKey other_key = test::fixed_key(100);
  expect_bad(verify_log(log.content, {other_key.public_key()}), 1,
             "signed by key " + log.key.id() +
                 ", which is not a trusted key (trusted: " + other_key.id() + ")");
  expect_bad(verify_log(log.content, {}), 1, "not a trusted key (trusted: none given)");
  // Signed records are checked even when signatures are optional.
  expect_bad(verify_log(log.content, {}, {.require_signatures = false}), 1, "not a trusted key");
  // Rotation: several trusted keys, matched by key id.
  VerifyReport rotated = verify_log(log.content, {other_key.public_key(), log.key.public_key()});
  CHECK(rotated.ok);
  CHECK(rotated.key_id == log.key.id());
}

TEST_CASE("unsigned logs", "[runlog][verify]") {
  TempDir tmp;
  SigningKey key = test::fixed_key();
  const std::string content = test::write_sample_log(tmp / "u.jsonl", "u", nullptr);
  auto lines = test::split_lines(content);
  expect_bad(verify_with(content, key), 1,
             "the log is unsigned (\"key\": null) but signatures are required");
  CHECK(verify_with(content, key, {.require_signatures = false}).ok);

  SECTION("without signatures an edit shows on the next line") {
    lines[3] = replace_once(lines[3], "hidden files", "hidden filez");
    expect_bad(verify_with(test::join_lines(lines), key, {.require_signatures = false}), 5,
               "prev does not match the hash of line 4");
  }
  SECTION("a signed record in an unsigned log") {
    SampleLog signed_log;
    lines[3] = signed_log.lines[3];
    expect_bad(verify_with(test::join_lines(lines), key, {.require_signatures = false}), 4,
               "a signed record in an unsigned log");
  }
  SECTION("an unsigned record in a signed log") {
    SampleLog signed_log;
    auto mixed = signed_log.lines;
    mixed[3] = lines[3];
    expect_bad(verify_with(test::join_lines(mixed), key), 4, "an unsigned record in a signed log");
  }
}

TEST_CASE("duplicate keys cannot fool the suffix stripping", "[runlog][verify]") {
  SampleLog log;
  const std::string& line = log.lines[3];
  const std::size_t sig_at = line.rfind(",\"sig\":\"");
  const std::string body = line.substr(0, sig_at);
  const std::string real_sig = line.substr(sig_at);  // ,"sig":"...."}
  auto lines = log.lines;
  SECTION("two sig members") {
    lines[3] = body + ",\"sig\":\"" + std::string(128, 'a') + "\"" + real_sig;
    expect_bad(verify_with(test::join_lines(lines), log.key), 4, "duplicate key \"sig\"");
  }
  SECTION("two seq members") {
    lines[3] = replace_once(line, "\"seq\":3,", "\"seq\":3,\"seq\":3,");
    expect_bad(verify_with(test::join_lines(lines), log.key), 4, "duplicate key \"seq\"");
  }
  SECTION("a duplicate inside data") {
    lines[3] = replace_once(line, "\"data\":{", "\"data\":{\"reason\":\"x\",");
    expect_bad(verify_with(test::join_lines(lines), log.key), 4, "duplicate key \"reason\"");
  }
  SECTION("a sig that is not the last member") {
    lines[3] = body.substr(0, body.size()) + real_sig.substr(0, real_sig.size() - 1) + ",\"x\":1}";
    expect_bad(verify_with(test::join_lines(lines), log.key), 4,
               "unexpected key \"x\" after \"sig\"");
  }
  SECTION("spacing or upper-case hex in the signature") {
    lines[3] = body + ", \"sig\":" + real_sig.substr(7);
    expect_bad(verify_with(test::join_lines(lines), log.key), 4,
               "does not end with the \"sig\" field");
    auto upper = log.lines;
    std::string upper_sig = real_sig;
    for (char& c : upper_sig) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    upper[3] = body + ",\"sig\"" + upper_sig.substr(6);
    expect_bad(verify_with(test::join_lines(upper), log.key), 4, "128 lower-case hex");
  }
}

TEST_CASE("malformed lines are named with a reason", "[runlog][verify]") {
  SampleLog log;
  auto with_line4 = [&](const std::string& replacement) {
    auto lines = log.lines;
    lines[3] = replacement;
    return verify_with(test::join_lines(lines), log.key);
  };
  expect_bad(with_line4("not json"), 4, "not valid JSON");
  expect_bad(with_line4(""), 4, "empty line");
  expect_bad(with_line4("[1,2]"), 4, "must be a JSON object");
  expect_bad(with_line4(log.lines[3] + "\r"), 4, "does not end with the \"sig\" field");  // CRLF
  expect_bad(with_line4(std::string(40, '[') + std::string(40, ']')), 4, "nests deeper than 32");
  expect_bad(with_line4(replace_once(log.lines[3], "\"time\":\"2025-03-04T05:06:07.092Z\",", "")),
             4, "where \"time\" was expected");
  expect_bad(with_line4(replace_once(log.lines[3], "\"seq\":3", "\"seq\":\"3\"")), 4,
             "\"seq\" must be a non-negative integer");
  expect_bad(with_line4(replace_once(log.lines[3], "\"seq\":3", "\"seq\":-3")), 4,
             "\"seq\" must be a non-negative integer");
  expect_bad(with_line4(replace_once(log.lines[3], "\"seq\":3", "\"seq\":3.0")), 4,
             "\"seq\" must be a non-negative integer");
  expect_bad(with_line4(replace_once(log.lines[3], "\"data\":{", "\"data\":[{")), 4, "");
  expect_bad(
      with_line4(replace_once(log.lines[3], "\"time\":\"2025-03-04T05:06:07.092Z\"", "\"time\":1")),
      4, "\"time\" must be a UTC time");
  expect_bad(with_line4(replace_once(log.lines[3], "\"run\":\"run-a\"", "\"run\":\"../x\"")), 4,
             "\"run\" must be a run id");
  expect_bad(
      with_line4(replace_once(log.lines[3], "\"type\":\"input_refused\"", "\"type\":\"Input\"")), 4,
      "\"type\" must be a record type");
  expect_bad(with_line4(std::string("{\"v\":1,\"run\":\"run-a\",\"seq\":3}")), 4,
             "lacks the key \"time\"");
  expect_bad(with_line4(std::string(1, '\xff')), 4, "not valid JSON");
}

TEST_CASE("bounds on line length and record count", "[runlog][verify]") {
  SampleLog log;
  expect_bad(verify_with(log.content, log.key, {.max_line_bytes = 100}), 1,
             "longer than 100 bytes");
  expect_bad(verify_with(std::string(kMaxLineBytes + 10, 'x'), log.key), 1,
             "longer than 1048576 bytes");
  expect_bad(verify_with(std::string(kMaxLineBytes + 10, 'x') + "\n", log.key), 1,
             "longer than 1048576 bytes");
  expect_bad(verify_with(log.content, log.key, {.max_records = 3}), 4, "more than 3 records");
  CHECK(verify_with(log.content, log.key, {.max_records = 8}).ok);
}

TEST_CASE("forged seals and chain starts signed with the real key are still refused",
          "[runlog][verify]") {
  SigningKey key = test::fixed_key();
  SECTION("a seal that miscounts") {
    Forger f{&key};
    f.add("input", Json{{"n", 1}});
    f.add("seal", Json{{"records", 5}, {"last_hash", f.prev}});
    expect_bad(verify_with(f.content(), key), 2, "the seal counts 5 records but 1 precede it");
  }
  SECTION("a seal with a wrong last_hash") {
    Forger f{&key};
    f.add("input", Json{{"n", 1}});
    f.add("seal", Json{{"records", 1}, {"last_hash", std::string(kGenesisHash)}});
    expect_bad(verify_with(f.content(), key), 2, "last_hash does not match");
  }
  SECTION("a seal with extra fields") {
    Forger f{&key};
    f.add("seal", Json{{"records", 0}, {"last_hash", f.prev}, {"note", "x"}});
    expect_bad(verify_with(f.content(), key), 1, "unexpected field \"note\"");
  }
  SECTION("a first record that does not start the chain") {
    Forger f{&key};
    f.add_with_prev("input", Json{{"n", 1}}, std::string(64, 'a'));
    f.add("seal", Json{{"records", 1}, {"last_hash", f.prev}});
    expect_bad(verify_with(f.content(), key), 1, "prev must be 64 zeros");
  }
  SECTION("a correct hand-built log passes") {
    Forger f{&key};
    f.add("input", Json{{"n", 1}});
    f.add("seal", Json{{"records", 1}, {"last_hash", f.prev}});
    CHECK(verify_with(f.content(), key).ok);
  }
}

TEST_CASE("verify_log_file reports unreadable files as errors", "[runlog][verify]") {
  TempDir tmp;
  CHECK_FALSE(verify_log_file(tmp / "missing.jsonl", {}).ok());
  CHECK_FALSE(verify_log_file(tmp.path(), {}).ok());
}

}  // namespace
}  // namespace cqda::runlog
