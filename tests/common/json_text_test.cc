// The fast JSON writer must write exactly what nlohmann's dump (compact, replacing invalid
// UTF-8) writes: hashes in the run log are taken over that text.
#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <random>
#include <string>

#include "common/json_text.h"

using namespace cqda;

namespace {

std::string reference(const Json& value) { return value.dump(-1, ' ', false, Json::error_handler_t::replace); }

// Random bytes biased towards what matters: ASCII, escapes, every UTF-8 lead and
// continuation byte, and the boundaries of the well-formed ranges.
std::string random_bytes(std::mt19937& rng) {
  static const unsigned char kInteresting[] = {'a', ' ', '"', '\\', '/', '\n', '\t', '\r', '\b', '\f', 0x00, 0x01,
                                               0x1F, 0x7F, 0x80, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xA0,
                                               0x9F, 0xED, 0xEF, 0xF0, 0x90, 0x8F, 0xF4, 0xF5, 0xFF};
  std::uniform_int_distribution<int> length(0, 24);
  std::uniform_int_distribution<int> pick(0, sizeof kInteresting - 1);
  std::uniform_int_distribution<int> any(0, 255);
  std::string s;
  const int n = length(rng);
  for (int i = 0; i < n; ++i) s += static_cast<char>(rng() % 3 ? kInteresting[pick(rng)] : any(rng));
  return s;
}

Json random_value(std::mt19937& rng, int depth) {
  switch (rng() % (depth > 3 ? 6 : 8)) {
    case 0: return nullptr;
    case 1: return rng() % 2 == 0;
    case 2: return static_cast<std::int64_t>(rng()) - (std::int64_t{1} << 31);
    case 3: return static_cast<std::uint64_t>(rng()) << 20;
    case 4: return std::ldexp(static_cast<double>(rng()), -static_cast<int>(rng() % 40));
    case 5: return random_bytes(rng);
    case 6: {
      Json a = Json::array();
      for (unsigned i = rng() % 5; i > 0; --i) a.push_back(random_value(rng, depth + 1));
      return a;
    }
    default: {
      Json o = Json::object();
      for (unsigned i = rng() % 5; i > 0; --i) o[random_bytes(rng)] = random_value(rng, depth + 1);
      return o;
    }
  }
}

}  // namespace

TEST_CASE("json_text writes what nlohmann's replacing dump writes", "[json]") {
  const Json cases[] = {
      nullptr, true, false, 0, -1, std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::uint64_t>::max(),
      0.5, 1e300, -0.0, "", "plain", "quote \" backslash \\ slash /", "\b\f\n\r\t", std::string("\x00\x01\x1f\x7f", 4),
      "Kraków – Zürich 🙂", "\xC3", "a\xC3(b", "\xE2\x82", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xC0\xAF", "\xE0\x80\xAF",
      "\xF0\x80\x80\x80", "\xFF x \xFE", "ok\xE2\x82\xACok\x80", Json::array(), Json::object(),
      Json::parse(R"({"b":[1,{"x":null}],"a":"z","":{}})"), Json::binary({1, 2, 3}),
  };
  for (const Json& value : cases) {
    INFO(reference(value));
    CHECK(json_text(value) == reference(value));
  }
}

TEST_CASE("json_text matches nlohmann on random values with broken UTF-8", "[json]") {
  std::mt19937 rng(20261124);
  for (int i = 0; i < 20000; ++i) {
    const Json value = random_value(rng, 0);
    const std::string expected = reference(value);
    if (json_text(value) != expected) {
      INFO("value " << i << ": " << expected);
      REQUIRE(json_text(value) == expected);
    }
  }
}

TEST_CASE("json_text matches nlohmann on long runs of plain text with a special byte anywhere", "[json]") {
  // The writer skips plain text sixteen bytes at a time: a byte that needs attention at
  // every place in a block, in the tail after the last whole block, and right at the ends.
  static const std::string kSpecial[] = {"\"", "\\", "\n", std::string(1, '\0'), "\x1f", "\x7f", "\xC3\xA9",
                                         "\xE2\x82\xAC", "\xF0\x9F\x99\x82", "\xC3", "\xE2\x82", "\x80", "\xFF"};
  std::mt19937 rng(16);
  for (std::size_t length = 0; length <= 70; ++length) {
    for (std::size_t at = 0; at <= length; ++at) {
      for (const std::string& special : kSpecial) {
        std::string text(length, 'x');
        for (std::size_t i = 0; i < length; ++i) text[i] = static_cast<char>(' ' + rng() % 95);
        text.insert(at, special);
        const Json value = text;
        if (json_text(value) != reference(value)) {
          INFO("length " << length << ", special at " << at);
          REQUIRE(json_text(value) == reference(value));
        }
      }
    }
  }
}

TEST_CASE("json_text writes an unordered nlohmann::json as its dump does", "[json]") {
  std::mt19937 rng(7);
  for (int i = 0; i < 5000; ++i) {
    const nlohmann::json value = nlohmann::json::parse(json_text(random_value(rng, 0)));
    std::string out;
    append_json_text(out, value);
    REQUIRE(out == value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
}

TEST_CASE("append_json_text_checked says when it had to replace invalid UTF-8", "[json]") {
  std::string out;
  CHECK(append_json_text_checked(out, nlohmann::json{{"quote", "Kraków"}, {"n", 1}}));
  CHECK_FALSE(append_json_text_checked(out, nlohmann::json{{"quote", "ok"}, {"memo", "\xC3("}}));
  CHECK_FALSE(append_json_text_checked(out, nlohmann::json{{"\xFF", 1}}));  // a key
  CHECK(out == R"({"n":1,"quote":"Kraków"}{"memo":")" "\xEF\xBF\xBD(" R"(","quote":"ok"}{")" "\xEF\xBF\xBD" R"(":1})");
}

TEST_CASE("append_json_string appends a quoted string to what is there", "[json]") {
  std::string out = "[";
  append_json_string(out, "a\"b");
  out += ',';
  append_json_string(out, "\xFF");
  CHECK(out == "[\"a\\\"b\",\"\xEF\xBF\xBD\"");
}

namespace {

// Equal values of equal types all the way down, keys in the same order.
bool same_tree(const Json& a, const Json& b) {
  if (a.type() != b.type() || a.size() != b.size()) return false;
  if (a.is_object()) {
    for (auto i = a.begin(), j = b.begin(); i != a.end(); ++i, ++j)
      if (i.key() != j.key() || !same_tree(i.value(), j.value())) return false;
    return true;
  }
  if (a.is_array()) {
    for (std::size_t i = 0; i < a.size(); ++i)
      if (!same_tree(a[i], b[i])) return false;
    return true;
  }
  return a == b;
}

// The fast reader may decline anything, but what it reads must be what nlohmann reads.
void check_reader(const std::string& text) {
  auto fast = read_json_text(text, 64);
  if (!fast) return;
  INFO(text);
  Json slow;
  REQUIRE_NOTHROW(slow = Json::parse(text));
  REQUIRE(same_tree(*fast, slow));
}

}  // namespace

TEST_CASE("read_json_text reads what nlohmann reads, or declines", "[json]") {
  // What our writers produce is read without nlohmann.
  const Json page = Json::parse(R"({"document":{"id":"a-b","segments":3,"characters":0},"segments":[
    {"id":"s1","text":"Kraków – \"quoted\" \\ back\nline\ttab","start":0,"length":-12},{"id":"s2","text":""}],
    "empty":{},"list":[],"flags":[true,false,null],"big":999999999999999999,"neg":-0})");
  auto fast = read_json_text(json_text(page), 64);
  REQUIRE(fast);
  CHECK(same_tree(*fast, Json::parse(json_text(page))));  // -0 is written as 0, read unsigned
  CHECK(same_tree(*read_json_text(" {\"a\" : [ 1 ,\n2 ] ,\"a\":{\"b\":\"\\/\"}} ", 64), Json::parse(R"({"a":{"b":"/"}})")));

  // Declined: left to nlohmann, which accepts some and refuses others.
  for (const char* text : {"1.5", "1e3", "\"\\u00e9\"", "1234567890123456789", "\xEF\xBB\xBF{}", "[1,]", "{\"a\"}", "01",
                           "-", "\"\x01\"", "\"\xC3\"", "\"\xED\xA0\x80\"", "nul", "[1] x", "", "{\"a\":1,}", "[[[1]]]"}) {
    INFO(text);
    CHECK_FALSE(read_json_text(text, std::string_view(text) == "[[[1]]]" ? 2 : 64));
  }

  std::mt19937 rng(424242);
  int read_fast = 0;
  for (int i = 0; i < 20000; ++i) {
    const Json value = random_value(rng, 0);
    std::string text;
    try {
      text = value.dump(rng() % 2 ? -1 : 1, ' ', rng() % 4 == 0);  // strict: skip values with broken UTF-8
    } catch (const Json::exception&) {
      text = json_text(value);
    }
    if (read_json_text(text, 64)) ++read_fast;
    check_reader(text);
    // Damaged copies: a byte changed, cut short, or doubled.
    if (!text.empty()) {
      std::string damaged = text;
      damaged[rng() % damaged.size()] = static_cast<char>(rng());
      check_reader(damaged);
      check_reader(text.substr(0, rng() % text.size()));
      check_reader(text + text);
    }
  }
  CHECK(read_fast > 5000);  // the fast path is taken, not only declined
}
