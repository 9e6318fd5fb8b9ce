#include "runlog/record.h"

#include <sodium.h>

#include <ctime>

#include "common/hash.h"
#include "common/json_text.h"

namespace cqda::runlog {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }

int two_digits(std::string_view s, std::size_t at) {
  return (s[at] - '0') * 10 + (s[at + 1] - '0');
}

}  // namespace

bool is_valid_run_id(std::string_view run_id) {
  if (run_id.empty() || run_id.size() > kMaxRunIdBytes) return false;
  if (run_id.front() == '.' || run_id.front() == '-') return false;
  for (char c : run_id) {
    if (!(is_digit(c) || is_lower(c) || is_upper(c) || c == '.' || c == '_' || c == '-'))
      return false;
  }
  return true;
}

bool is_valid_record_type(std::string_view type) {
  if (type.empty() || type.size() > kMaxTypeBytes || !is_lower(type.front())) return false;
  for (char c : type) {
    if (!(is_digit(c) || is_lower(c) || c == '.' || c == '_' || c == '-')) return false;
  }
  return true;
}

std::string format_time_utc_ms(std::chrono::system_clock::time_point when) {
  using namespace std::chrono;
  const auto ms_since_epoch = time_point_cast<milliseconds>(when).time_since_epoch().count();
  std::time_t seconds = static_cast<std::time_t>(ms_since_epoch / 1000);
  long millis = static_cast<long>(ms_since_epoch % 1000);
  if (millis < 0) {  // before 1970: floor, not truncate
    millis += 1000;
    seconds -= 1;
  }
  std::tm tm{};
  ::gmtime_r(&seconds, &tm);
  char text[64];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
  return text;
}

bool is_time_utc_ms(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS.mmmZ
  static constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:dd.dddZ";
  if (s.size() != kShape.size()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (kShape[i] == 'd' ? !is_digit(s[i]) : s[i] != kShape[i]) return false;
  }
  const int month = two_digits(s, 5), day = two_digits(s, 8), hour = two_digits(s, 11),
            minute = two_digits(s, 14), second = two_digits(s, 17);
  return month >= 1 && month <= 12 && day >= 1 && day <= 31 && hour <= 23 && minute <= 59 &&
         second <= 60;
}

std::string new_run_id(std::chrono::system_clock::time_point now) {
  std::string stamp = format_time_utc_ms(now);  // 2025-03-04T05:06:07.089Z
  std::string id;
  for (std::size_t i = 0; i < 19; ++i) {
    if (stamp[i] != '-' && stamp[i] != ':') id.push_back(stamp[i]);
  }
  id.push_back('Z');
  std::array<std::uint8_t, 4> random{};
  if (sodium_init() < 0)
    return id;  // cannot happen after the key was loaded; still unique per second
  randombytes_buf(random.data(), random.size());
  return id + "-" + to_hex(random);
}

std::filesystem::path run_log_path(const std::filesystem::path& output_dir,
                                   std::string_view run_id) {
  return output_dir / "run-logs" / (std::string(run_id) + ".jsonl");
}

std::string signed_message(std::string_view body) {
  std::string message;
  message.reserve(kSignatureDomain.size() + body.size());
  message.append(kSignatureDomain);
  message.append(body);
  return message;
}

std::string line_hash(std::string_view line) { return sha256_hex(line); }

Result<std::string> serialize_record(const RecordFields& fields, const SigningKey* key) {
  if (!is_valid_run_id(fields.run))
    return make_error("run log: invalid run id \"" + std::string(fields.run) + "\"");
  if (!is_valid_record_type(fields.type))
    return make_error("run log: invalid record type \"" + std::string(fields.type) + "\"");
  if (fields.data == nullptr || !fields.data->is_object())
    return make_error("run log: the data of a \"" + std::string(fields.type) +
                      "\" record must be a JSON object");
  if (key != nullptr && key->empty())
    return make_error("run log: the signing key is empty (moved from)");

  // The record as compact JSON, its members in this order (json_text writes what nlohmann's
  // dump writes); the data must be valid UTF-8 throughout.
  std::string body;
  body.reserve(192 + fields.run.size() + fields.time.size() + fields.prev.size());
  body += R"({"v":)";
  body += std::to_string(kFormatVersion);
  body += R"(,"run":)";
  append_json_string(body, fields.run);
  body += R"(,"seq":)";
  body += std::to_string(fields.seq);
  body += R"(,"time":)";
  append_json_string(body, fields.time);
  body += R"(,"type":)";
  append_json_string(body, fields.type);
  body += R"(,"data":)";
  if (!append_json_text_checked(body, *fields.data))
    return make_error("run log: the data of a \"" + std::string(fields.type) +
                      "\" record holds a string that is not valid UTF-8");
  body += R"(,"prev":)";
  append_json_string(body, fields.prev);
  body += R"(,"key":)";
  if (key != nullptr) {
    append_json_string(body, key->id());
  } else {
    body += "null";
  }

  std::string line = std::move(body);
  if (key != nullptr) {
    const Ed25519Signature sig = key->sign(signed_message(line));
    line += ",\"sig\":\"" + to_hex(sig) + "\"}";
  } else {
    line += ",\"sig\":null}";
  }
  if (line.size() > kMaxLineBytes)
    return make_error("run log: a \"" + std::string(fields.type) + "\" record would be " +
                      std::to_string(line.size()) + " bytes, more than the limit of " +
                      std::to_string(kMaxLineBytes));
  if (json_nesting_depth(line, kMaxNesting) > kMaxNesting)
    return make_error("run log: the data of a \"" + std::string(fields.type) +
                      "\" record nests deeper than " + std::to_string(kMaxNesting) + " levels");
  return line;
}

}  // namespace cqda::runlog
