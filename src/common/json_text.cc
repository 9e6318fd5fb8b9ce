#include "common/json_text.h"

#include <array>
#include <charconv>
#include <cstdint>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace cqda {
namespace {

// What a byte needs inside a JSON string: nothing, an escape, or a UTF-8 check.
enum : std::uint8_t { kCopy = 0, kEscape = 1, kMultibyte = 2 };

constexpr std::array<std::uint8_t, 256> kByteClass = [] {
  std::array<std::uint8_t, 256> table{};
  for (int c = 0; c < 0x20; ++c) table[c] = kEscape;
  table['"'] = kEscape;
  table['\\'] = kEscape;
  for (int c = 0x80; c < 0x100; ++c) table[c] = kMultibyte;
  return table;
}();

bool continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

// Length of the well-formed UTF-8 sequence at `p` (Unicode Table 3-7: no overlong forms, no
// surrogates, nothing above U+10FFFF), or 0 when it is not one.
std::size_t sequence_length(const unsigned char* p, const unsigned char* end) {
  const unsigned char c = p[0];
  const std::size_t left = static_cast<std::size_t>(end - p);
  if (c >= 0xC2 && c <= 0xDF) return left >= 2 && continuation(p[1]) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (left < 3 || !continuation(p[1]) || !continuation(p[2])) return 0;
    if (c == 0xE0 && p[1] < 0xA0) return 0;  // overlong
    if (c == 0xED && p[1] > 0x9F) return 0;  // surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (left < 4 || !continuation(p[1]) || !continuation(p[2]) || !continuation(p[3])) return 0;
    if (c == 0xF0 && p[1] < 0x90) return 0;  // overlong
    if (c == 0xF4 && p[1] > 0x8F) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

void append_escape(std::string& out, unsigned char c) {
  switch (c) {
    case '\b': out += "\\b"; return;
    case '\t': out += "\\t"; return;
    case '\n': out += "\\n"; return;
    case '\f': out += "\\f"; return;
    case '\r': out += "\\r"; return;
    case '"': out += "\\\""; return;
    case '\\': out += "\\\\"; return;
    default: {
      static constexpr char kHex[] = "0123456789abcdef";
      const char escaped[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
      out.append(escaped, sizeof escaped);
    }
  }
}

// The first byte in [p, end) that is not copied as it is (a control character, '"', '\\' or
// any byte of a multi-byte sequence), or `end`: sixteen bytes at a time where SSE2 is there.
const unsigned char* skip_plain(const unsigned char* p, const unsigned char* end) {
#if defined(__SSE2__)
  const __m128i space = _mm_set1_epi8(0x20);
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  while (end - p >= 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    // As signed bytes, everything from 0x80 up is negative, so below ' ' too.
    const __m128i special =
        _mm_or_si128(_mm_cmplt_epi8(v, space), _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)));
    const int mask = _mm_movemask_epi8(special);
    if (mask != 0) return p + __builtin_ctz(static_cast<unsigned>(mask));
    p += 16;
  }
#endif
  while (p < end && kByteClass[*p] == kCopy) ++p;
  return p;
}

// Appends the quoted string; false (with `out` partly written) when it is not valid UTF-8.
bool append_valid_string(std::string& out, std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* end = p + text.size();
  const auto* run = p;
  out += '"';
  while (p < end) {
    p = skip_plain(p, end);
    if (p == end) break;
    if (kByteClass[*p] == kMultibyte) {
      const std::size_t n = sequence_length(p, end);
      if (n == 0) return false;
      p += n;
    } else {
      out.append(reinterpret_cast<const char*>(run), static_cast<std::size_t>(p - run));
      append_escape(out, *p);
      run = ++p;
    }
  }
  out.append(reinterpret_cast<const char*>(run), static_cast<std::size_t>(end - run));
  out += '"';
  return true;
}

template <typename Integer>
void append_integer(std::string& out, Integer value) {
  char digits[24];
  const auto [end, error] = std::to_chars(digits, digits + sizeof digits, value);
  out.append(digits, static_cast<std::size_t>(end - digits));
}

// nlohmann's own text for the values whose rules live there.
template <typename BasicJson>
void append_nlohmann(std::string& out, const BasicJson& value) {
  out += value.dump(-1, ' ', false, BasicJson::error_handler_t::replace);
}

}  // namespace

namespace {

// Appends the quoted string; false when it was not valid UTF-8 and went to nlohmann.
bool append_string(std::string& out, std::string_view text) {
  const std::size_t mark = out.size();
  if (append_valid_string(out, text)) return true;
  out.resize(mark);
  append_nlohmann(out, Json(std::string(text)));
  return false;
}

}  // namespace

void append_json_string(std::string& out, std::string_view text) { (void)append_string(out, text); }

namespace {

template <typename BasicJson>
void append_value(std::string& out, const BasicJson& value, bool& valid) {
  using Type = typename BasicJson::value_t;
  switch (value.type()) {
    case Type::null: out += "null"; return;
    case Type::boolean: out += value.template get_ref<const typename BasicJson::boolean_t&>() ? "true" : "false"; return;
    case Type::number_integer: append_integer(out, value.template get_ref<const typename BasicJson::number_integer_t&>()); return;
    case Type::number_unsigned: append_integer(out, value.template get_ref<const typename BasicJson::number_unsigned_t&>()); return;
    case Type::string: valid &= append_string(out, value.template get_ref<const typename BasicJson::string_t&>()); return;
    case Type::array: {
      out += '[';
      bool first = true;
      for (const BasicJson& item : value) {
        if (!first) out += ',';
        first = false;
        append_value(out, item, valid);
      }
      out += ']';
      return;
    }
    case Type::object: {
      out += '{';
      bool first = true;
      for (auto it = value.begin(); it != value.end(); ++it) {
        if (!first) out += ',';
        first = false;
        valid &= append_string(out, it.key());
        out += ':';
        append_value(out, it.value(), valid);
      }
      out += '}';
      return;
    }
    case Type::number_float:
    case Type::binary:
    case Type::discarded:
      append_nlohmann(out, value);
      return;
  }
}

}  // namespace

void append_json_text(std::string& out, const Json& value) {
  bool valid = true;
  append_value(out, value, valid);
}

void append_json_text(std::string& out, const nlohmann::json& value) {
  bool valid = true;
  append_value(out, value, valid);
}

bool append_json_text_checked(std::string& out, const Json& value) {
  bool valid = true;
  append_value(out, value, valid);
  return valid;
}

bool append_json_text_checked(std::string& out, const nlohmann::json& value) {
  bool valid = true;
  append_value(out, value, valid);
  return valid;
}

std::string json_text(const Json& value) {
  std::string out;
  append_json_text(out, value);
  return out;
}

namespace {

class FastReader {
 public:
  FastReader(std::string_view text, std::size_t max_depth)
      : p_(reinterpret_cast<const unsigned char*>(text.data())), end_(p_ + text.size()), max_depth_(max_depth) {}

  std::optional<Json> read() {
    Json value;
    if (!value_into(value, 0)) return std::nullopt;
    skip_space();
    if (p_ != end_) return std::nullopt;
    return value;
  }

 private:
  void skip_space() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }

  bool literal(std::string_view word) {
    if (static_cast<std::size_t>(end_ - p_) < word.size() ||
        std::string_view(reinterpret_cast<const char*>(p_), word.size()) != word)
      return false;
    p_ += word.size();
    return true;
  }

  bool value_into(Json& out, std::size_t depth) {
    skip_space();
    if (p_ == end_) return false;
    switch (*p_) {
      case '{': return object_into(out, depth + 1);
      case '[': return array_into(out, depth + 1);
      case '"': {
        std::string text;
        if (!string_into(text)) return false;
        out = std::move(text);
        return true;
      }
      case 't': out = true; return literal("true");
      case 'f': out = false; return literal("false");
      case 'n': out = nullptr; return literal("null");
      default: return number_into(out);
    }
  }

  bool object_into(Json& out, std::size_t depth) {
    if (depth > max_depth_) return false;
    ++p_;  // {
    out = Json::object();
    skip_space();
    if (p_ < end_ && *p_ == '}') {
      ++p_;
      return true;
    }
    for (;;) {
      skip_space();
      if (p_ == end_ || *p_ != '"') return false;
      std::string key;
      if (!string_into(key)) return false;
      skip_space();
      if (p_ == end_ || *p_ != ':') return false;
      ++p_;
      // operator[]: a repeated key keeps its first place and takes the last value, as in
      // nlohmann's parser.
      if (!value_into(out[key], depth)) return false;
      skip_space();
      if (p_ == end_) return false;
      if (*p_ == '}') {
        ++p_;
        return true;
      }
      if (*p_++ != ',') return false;
    }
  }

  bool array_into(Json& out, std::size_t depth) {
    if (depth > max_depth_) return false;
    ++p_;  // [
    out = Json::array();
    skip_space();
    if (p_ < end_ && *p_ == ']') {
      ++p_;
      return true;
    }
    for (;;) {
      out.push_back(nullptr);
      if (!value_into(out.back(), depth)) return false;
      skip_space();
      if (p_ == end_) return false;
      if (*p_ == ']') {
        ++p_;
        return true;
      }
      if (*p_++ != ',') return false;
    }
  }

  bool string_into(std::string& out) {
    ++p_;  // opening quote
    const unsigned char* run = p_;
    while (p_ < end_) {
      const unsigned char c = *p_;
      if (c == '"') {
        out.append(reinterpret_cast<const char*>(run), static_cast<std::size_t>(p_ - run));
        ++p_;
        return true;
      }
      if (c < 0x20) return false;  // a raw control character: not JSON
      if (c >= 0x80) {
        const std::size_t n = sequence_length(p_, end_);
        if (n == 0) return false;
        p_ += n;
        continue;
      }
      if (c != '\\') {
        ++p_;
        continue;
      }
      out.append(reinterpret_cast<const char*>(run), static_cast<std::size_t>(p_ - run));
      if (++p_ == end_) return false;
      switch (*p_) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        default: return false;  // \u and anything else: nlohmann's
      }
      run = ++p_;
    }
    return false;
  }

  // -?(0|[1-9][0-9]*) with at most 18 digits, so that it fits without a check; anything
  // else that may be a number is nlohmann's.
  bool number_into(Json& out) {
    const bool negative = *p_ == '-';
    if (negative) ++p_;
    const unsigned char* digits = p_;
    std::uint64_t value = 0;
    while (p_ < end_ && *p_ >= '0' && *p_ <= '9') value = value * 10 + (*p_++ - '0');
    const auto count = p_ - digits;
    if (count == 0 || count > 18 || (count > 1 && *digits == '0')) return false;
    if (p_ < end_ && (*p_ == '.' || *p_ == 'e' || *p_ == 'E')) return false;
    if (negative) {
      out = -static_cast<std::int64_t>(value);
    } else {
      out = value;
    }
    return true;
  }

  const unsigned char* p_;
  const unsigned char* end_;
  std::size_t max_depth_;
};

}  // namespace

std::optional<Json> read_json_text(std::string_view text, std::size_t max_depth) {
  return FastReader(text, max_depth).read();
}

}  // namespace cqda
