#include "runlog/verifier.h"

#include <array>
#include <cstring>
#include <unordered_set>

#include "common/files.h"
#include "common/hash.h"
#include "common/json.h"

namespace cqda::runlog {
namespace {

// The only keys a record has, in the only order the writer emits them.
constexpr std::array<std::string_view, 9> kRecordKeys = {"v",    "run",  "seq", "time", "type",
                                                         "data", "prev", "key", "sig"};

bool is_lower_hex(std::string_view s, std::size_t length) {
  if (s.size() != length) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// A key name quoted for a message: JSON-escaped and cut short.
std::string quote_key(const std::string& key) {
  std::string shown = key.size() > 40 ? key.substr(0, 40) + "..." : key;
  return Json(shown).dump(-1, ' ', false, Json::error_handler_t::replace);
}

struct DuplicateKey {
  std::string key;
};

// Parses one line. Duplicate keys are rejected at every depth: nlohmann keeps one of them
// silently, so a line with two "sig" or two "seq" members could mean different things to
// different readers.
Result<Json> parse_line(std::string_view line) {
  if (json_nesting_depth(line, kMaxNesting) > kMaxNesting)
    return make_error("JSON nests deeper than " + std::to_string(kMaxNesting) + " levels");
  std::vector<std::unordered_set<std::string>> open_objects;
  Json::parser_callback_t track_keys = [&open_objects](int /*depth*/, Json::parse_event_t event,
                                                       Json& parsed) {
    switch (event) {
      case Json::parse_event_t::object_start:
        open_objects.emplace_back();
        break;
      case Json::parse_event_t::object_end:
        if (!open_objects.empty()) open_objects.pop_back();
        break;
      case Json::parse_event_t::key:
        if (!open_objects.empty() && !open_objects.back().insert(parsed.get<std::string>()).second)
          throw DuplicateKey{parsed.get<std::string>()};
        break;
      default:
        break;
    }
    return true;
  };
  try {
    return Json::parse(line.begin(), line.end(), track_keys, /*allow_exceptions=*/true,
                       /*ignore_comments=*/false);
  } catch (const DuplicateKey& dup) {
    return make_error("duplicate key " + quote_key(dup.key) + " in a JSON object");
  } catch (const Json::exception& e) {
    std::string detail = e.what();
    if (auto cut = detail.find("] "); cut != std::string::npos) detail = detail.substr(cut + 2);
    return make_error("not valid JSON: " + detail);
  }
}

class LogVerifier {
 public:
  LogVerifier(const std::vector<PublicKey>& trusted_keys, const VerifyOptions& options)
      : trusted_keys_(trusted_keys), options_(options) {}

  VerifyReport run(std::string_view content);

 private:
  // Checks one complete line (without '\n'); on failure fills report_ and returns false.
  bool check_line(std::string_view line);
  bool check_fields(const Json& record);
  bool check_signer(std::string_view body, const Json& record);
  bool check_seal(const Json& data);
  bool fail(std::string why);

  const std::vector<PublicKey>& trusted_keys_;
  const VerifyOptions& options_;
  VerifyReport report_;
  std::size_t line_no_ = 0;
  std::optional<std::uint64_t> seq_;  // of the line being checked, once known
  std::uint64_t expected_seq_ = 0;
  std::string prev_hash_{kGenesisHash};
  std::vector<const PublicKey*> signer_candidates_;  // trusted keys with the log's key id
  bool sealed_ = false;
};

bool LogVerifier::fail(std::string why) {
  report_.ok = false;
  report_.first_bad_line = line_no_;
  std::string where = "line " + std::to_string(line_no_);
  if (seq_) where += " (seq " + std::to_string(*seq_) + ")";
  report_.reason = where + ": " + why;
  return false;
}

VerifyReport LogVerifier::run(std::string_view content) {
  std::size_t pos = 0;
  while (pos < content.size()) {
    ++line_no_;
    seq_.reset();
    if (sealed_) {
      fail("a record follows the seal - lines were appended after the log was closed");
      return report_;
    }
    if (report_.records >= options_.max_records) {
      fail("more than " + std::to_string(options_.max_records) + " records");
      return report_;
    }
    // Look for the '\n' no further than one byte past the bound (written so that a bound of
    // SIZE_MAX cannot overflow).
    std::size_t window = content.size() - pos;
    if (options_.max_line_bytes < window) window = options_.max_line_bytes + 1;
    const void* newline = std::memchr(content.data() + pos, '\n', window);
    if (newline == nullptr) {
      if (content.size() - pos > options_.max_line_bytes)
        fail("the line is longer than " + std::to_string(options_.max_line_bytes) + " bytes");
      else
        fail("the file ends mid-line (no final newline) - the tail was cut off");
      return report_;
    }
    const std::size_t end =
        static_cast<std::size_t>(static_cast<const char*>(newline) - content.data());
    if (!check_line(content.substr(pos, end - pos))) return report_;
    pos = end + 1;
  }
  if (line_no_ == 0) {
    line_no_ = 1;
    fail("the log is empty");
    return report_;
  }
  if (!sealed_) {
    ++line_no_;
    seq_.reset();
    fail("log ends without a seal record - the tail was cut off");
    return report_;
  }
  report_.ok = true;
  report_.reason = "intact: " + std::to_string(report_.records) + " records, sealed, " +
                   (report_.signed_log ? "signed by key " + report_.key_id
                                       : std::string("unsigned (hash chain only)"));
  return report_;
}

bool LogVerifier::check_line(std::string_view line) {
  if (line.empty()) return fail("empty line");
  Result<Json> parsed = parse_line(line);
  if (!parsed) return fail(parsed.error().message);
  const Json& record = *parsed;
  if (!check_fields(record)) return false;

  // The signed body is the line minus its textual "sig" suffix. check_fields proved that
  // "sig" is the last of exactly nine unique top-level keys, so the suffix rebuilt from the
  // parsed value must be the line's end byte for byte; anything else (spaces, escapes,
  // upper-case hex) is refused rather than interpreted.
  const Json& sig = record["sig"];
  const std::string suffix = sig.is_null() ? std::string(",\"sig\":null}")
                                           : ",\"sig\":\"" + sig.get<std::string>() + "\"}";
  if (line.size() < suffix.size() || line.substr(line.size() - suffix.size()) != suffix)
    return fail("the record does not end with the \"sig\" field written as " +
                std::string(sig.is_null() ? ",\"sig\":null}" : ",\"sig\":\"<128 hex>\"}"));
  const std::string_view body = line.substr(0, line.size() - suffix.size());
  if (!check_signer(body, record)) return false;

  const std::string run = record["run"].get<std::string>();
  if (line_no_ == 1) {
    report_.run_id = run;
  } else if (run != report_.run_id) {
    return fail("run id \"" + run + "\" differs from the log's run id \"" + report_.run_id +
                "\" - a record from another run was spliced in");
  }
  if (*seq_ != expected_seq_)
    return fail("seq " + std::to_string(*seq_) + " where " + std::to_string(expected_seq_) +
                " was expected - a record is missing, duplicated or out of order");
  if (record["prev"].get<std::string>() != prev_hash_) {
    if (line_no_ == 1) return fail("prev must be 64 zeros in the first record");
    return fail("prev does not match the hash of line " + std::to_string(line_no_ - 1) +
                " - that line was altered, or a record was removed or inserted here");
  }
  if (record["type"].get<std::string>() == kSealType) {
    if (!check_seal(record["data"])) return false;
    sealed_ = true;
  }
  prev_hash_ = line_hash(line);
  ++expected_seq_;
  ++report_.records;
  return true;
}

bool LogVerifier::check_fields(const Json& record) {
  if (!record.is_object()) return fail("a record must be a JSON object");
  std::size_t i = 0;
  for (const auto& [key, value] : record.items()) {
    if (i >= kRecordKeys.size()) return fail("unexpected key " + quote_key(key) + " after \"sig\"");
    if (key != kRecordKeys[i])
      return fail("key " + quote_key(key) + " where \"" + std::string(kRecordKeys[i]) +
                  "\" was expected (keys must be v, run, seq, time, type, data, prev, key, sig in "
                  "this order)");
    ++i;
  }
  if (i < kRecordKeys.size())
    return fail("the record lacks the key \"" + std::string(kRecordKeys[i]) + "\"");

  const Json& seq = record["seq"];
  if (!seq.is_number_unsigned()) return fail("\"seq\" must be a non-negative integer");
  seq_ = seq.get<std::uint64_t>();
  const Json& v = record["v"];
  if (!v.is_number_integer() || v.get<std::int64_t>() != kFormatVersion)
    return fail("\"v\" must be " + std::to_string(kFormatVersion) +
                " (unsupported format version)");
  const Json& run = record["run"];
  if (!run.is_string() || !is_valid_run_id(run.get_ref<const std::string&>()))
    return fail("\"run\" must be a run id (1-128 characters of A-Z a-z 0-9 . _ -)");
  const Json& time = record["time"];
  if (!time.is_string() || !is_time_utc_ms(time.get_ref<const std::string&>()))
    return fail("\"time\" must be a UTC time like 2025-03-04T05:06:07.089Z");
  const Json& type = record["type"];
  if (!type.is_string() || !is_valid_record_type(type.get_ref<const std::string&>()))
    return fail("\"type\" must be a record type (lower-case letters, digits, . _ -)");
  if (!record["data"].is_object()) return fail("\"data\" must be a JSON object");
  const Json& prev = record["prev"];
  if (!prev.is_string() || !is_lower_hex(prev.get_ref<const std::string&>(), 64))
    return fail("\"prev\" must be 64 lower-case hex digits");
  const Json& key = record["key"];
  if (!key.is_null() && !(key.is_string() && is_lower_hex(key.get_ref<const std::string&>(), 16)))
    return fail("\"key\" must be null or a key id of 16 lower-case hex digits");
  const Json& sig = record["sig"];
  if (!sig.is_null() && !(sig.is_string() && is_lower_hex(sig.get_ref<const std::string&>(), 128)))
    return fail("\"sig\" must be null or 128 lower-case hex digits");
  if (key.is_null() != sig.is_null())
    return fail("\"key\" and \"sig\" must both be set or both be null");
  return true;
}

bool LogVerifier::check_signer(std::string_view body, const Json& record) {
  const Json& key = record["key"];
  const bool is_signed = !key.is_null();
  if (line_no_ == 1) {
    report_.signed_log = is_signed;
    if (!is_signed) {
      if (options_.require_signatures)
        return fail("the log is unsigned (\"key\": null) but signatures are required");
    } else {
      report_.key_id = key.get<std::string>();
      for (const PublicKey& candidate : trusted_keys_) {
        if (key_id(candidate) == report_.key_id) signer_candidates_.push_back(&candidate);
      }
      if (signer_candidates_.empty()) {
        std::string trusted;
        for (const PublicKey& candidate : trusted_keys_)
          trusted += (trusted.empty() ? "" : ", ") + key_id(candidate);
        return fail("signed by key " + report_.key_id + ", which is not a trusted key (trusted: " +
                    (trusted.empty() ? std::string("none given") : trusted) + ")");
      }
    }
  } else if (is_signed != report_.signed_log) {
    return fail(
        is_signed
            ? std::string(
                  "a signed record in an unsigned log - a record from another log was spliced in")
            : std::string("an unsigned record in a signed log"));
  } else if (is_signed && key.get<std::string>() != report_.key_id) {
    return fail("signed by key " + key.get<std::string>() + " but the log is signed by key " +
                report_.key_id + " - a record from another log was spliced in");
  }
  if (!is_signed) return true;

  std::string sig_bytes;
  from_hex(record["sig"].get<std::string>(), sig_bytes);  // 128 hex digits: checked
  Ed25519Signature signature{};
  std::memcpy(signature.data(), sig_bytes.data(), signature.size());
  const std::string message = signed_message(body);
  for (const PublicKey* candidate : signer_candidates_) {
    if (verify_signature(*candidate, message, signature)) return true;
  }
  return fail("signature does not verify with key " + report_.key_id +
              " - the record was altered or not signed by this key");
}

bool LogVerifier::check_seal(const Json& data) {
  const Json* records = nullptr;
  const Json* last_hash = nullptr;
  for (const auto& [key, value] : data.items()) {
    if (key == "records")
      records = &value;
    else if (key == "last_hash")
      last_hash = &value;
    else
      return fail("the seal has an unexpected field " + quote_key(key));
  }
  if (records == nullptr || !records->is_number_unsigned() || last_hash == nullptr ||
      !last_hash->is_string())
    return fail("the seal must hold \"records\" (a count) and \"last_hash\" (a hash)");
  if (records->get<std::uint64_t>() != *seq_)
    return fail("the seal counts " + std::to_string(records->get<std::uint64_t>()) +
                " records but " + std::to_string(*seq_) + " precede it");
  if (last_hash->get<std::string>() != prev_hash_)
    return fail("the seal's last_hash does not match the hash of line " +
                std::to_string(line_no_ - 1));
  return true;
}

}  // namespace

VerifyReport verify_log(std::string_view content, const std::vector<PublicKey>& trusted_keys,
                        const VerifyOptions& options) {
  return LogVerifier(trusted_keys, options).run(content);
}

Result<VerifyReport> verify_log_file(const std::filesystem::path& path,
                                     const std::vector<PublicKey>& trusted_keys,
                                     const VerifyOptions& options) {
  Result<std::string> content = read_file(path, kMaxLogFileBytes);
  if (!content) return content.error();
  return verify_log(*content, trusted_keys, options);
}

}  // namespace cqda::runlog
