#include "common/utf8.h"

#include <utf8proc.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace cqda::utf8 {
namespace {

// Eight bytes at a time: texts run to megabytes, and these scans run over every one of them.
constexpr std::uint64_t kHighBits = 0x8080808080808080ull;

std::uint64_t load8(const char* p) {
  std::uint64_t word;
  std::memcpy(&word, p, sizeof word);
  return word;
}

// The continuation bytes (10xxxxxx) in a word: bit 7 set and bit 6 clear. Summed with a
// multiply (each byte holds 0 or 1), not popcount: without -mpopcnt that is a library call.
int continuation_bytes(std::uint64_t word) {
  const std::uint64_t ones = (word & ~(word << 1) & kHighBits) >> 7;
  return static_cast<int>((ones * 0x0101010101010101ull) >> 56);
}

}  // namespace

std::optional<std::size_t> first_invalid_byte(std::string_view bytes) {
  const auto* data = reinterpret_cast<const utf8proc_uint8_t*>(bytes.data());
  std::size_t pos = 0;
  while (pos < bytes.size()) {
    // ASCII fast path: a word at a time, then a byte at a time.
    while (pos + 8 <= bytes.size() && (load8(bytes.data() + pos) & kHighBits) == 0) pos += 8;
    if (pos >= bytes.size()) break;
    if (data[pos] < 0x80) {
      ++pos;
      continue;
    }
    utf8proc_int32_t cp = 0;
    utf8proc_ssize_t n = utf8proc_iterate(data + pos, static_cast<utf8proc_ssize_t>(bytes.size() - pos), &cp);
    if (n <= 0 || cp < 0) return pos;
    pos += static_cast<std::size_t>(n);
  }
  return std::nullopt;
}

namespace {

// Whether `text` is NFC because every code point in it is below U+0300: those all have
// NFC_Quick_Check=Yes and canonical combining class 0, so nothing in it can reorder or
// compose. Their UTF-8 lead bytes are all below 0xCC (U+0300 is CC 80).
bool below_combining_marks(std::string_view text) {
  for (unsigned char c : text)
    if (c >= 0xCC) return false;
  return true;
}

void append_nfc_of(std::string& out, std::string_view line) {
  utf8proc_uint8_t* mapped = nullptr;
  utf8proc_ssize_t n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(line.data()),
                                    static_cast<utf8proc_ssize_t>(line.size()), &mapped,
                                    static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  std::unique_ptr<utf8proc_uint8_t, decltype(&std::free)> owner(mapped, &std::free);
  if (n < 0) {
    out.append(line);
  } else {
    out.append(reinterpret_cast<const char*>(mapped), static_cast<std::size_t>(n));
  }
}

}  // namespace

std::string to_nfc(std::string_view valid_utf8) {
  if (below_combining_marks(valid_utf8)) return std::string(valid_utf8);
  // A line feed is a starter that composes with nothing on either side and blocks canonical
  // reordering, so NFC(a LF b) = NFC(a) LF NFC(b): only the lines that hold a code point at
  // or above U+0300 go through utf8proc (allocation-heavy), the rest are copied.
  std::string out;
  out.reserve(valid_utf8.size() + valid_utf8.size() / 8);
  std::size_t start = 0;
  while (start < valid_utf8.size()) {
    std::size_t newline = valid_utf8.find('\n', start);
    std::size_t end = newline == std::string_view::npos ? valid_utf8.size() : newline + 1;
    std::string_view line = valid_utf8.substr(start, end - start);
    if (below_combining_marks(line)) {
      out.append(line);
    } else {
      append_nfc_of(out, line);
    }
    start = end;
  }
  return out;
}

std::size_t length(std::string_view s) {
  std::size_t continuations = 0, i = 0;
  for (; i + 8 <= s.size(); i += 8) continuations += static_cast<std::size_t>(continuation_bytes(load8(s.data() + i)));
  for (; i < s.size(); ++i) continuations += (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80;
  return s.size() - continuations;
}

std::size_t byte_offset(std::string_view s, std::size_t index) {
  std::size_t count = 0, i = 0;
  // Whole words while the code point wanted lies past them: each byte that is not a
  // continuation byte starts one, so a word starts 8 - continuation_bytes of them.
  for (; i + 8 <= s.size(); i += 8) {
    const std::size_t points = 8 - static_cast<std::size_t>(continuation_bytes(load8(s.data() + i)));
    if (count + points > index) break;
    count += points;
  }
  for (; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      if (count == index) return i;
      ++count;
    }
  }
  return s.size();
}

std::string_view substr(std::string_view s, std::size_t start, std::size_t count) {
  std::size_t begin = byte_offset(s, start);
  std::size_t end = begin + byte_offset(s.substr(begin), count);
  return s.substr(begin, end - begin);
}

char32_t decode(std::string_view s, std::size_t& pos) {
  utf8proc_int32_t cp = 0;
  utf8proc_ssize_t n = utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(s.data()) + pos,
                                        static_cast<utf8proc_ssize_t>(s.size() - pos), &cp);
  if (n <= 0) {
    ++pos;
    return 0xFFFD;
  }
  pos += static_cast<std::size_t>(n);
  return static_cast<char32_t>(cp);
}

void append(std::string& out, char32_t cp) {
  utf8proc_uint8_t buf[4];
  utf8proc_ssize_t n = utf8proc_encode_char(static_cast<utf8proc_int32_t>(cp), buf);
  out.append(reinterpret_cast<const char*>(buf), static_cast<std::size_t>(n));
}

namespace {
template <typename Map>
std::string map_case(std::string_view s, Map map) {
  std::string out;
  out.reserve(s.size());
  std::size_t pos = 0;
  while (pos < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[pos]);
    if (c < 0x80) {
      out.push_back(static_cast<char>(map(static_cast<char32_t>(c))));
      ++pos;
      continue;
    }
    append(out, map(decode(s, pos)));
  }
  return out;
}
}  // namespace

std::string to_lower(std::string_view s) {
  return map_case(s, [](char32_t c) -> char32_t {
    if (c < 0x80) return (c >= 'A' && c <= 'Z') ? c + 32 : c;
    return static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(c)));
  });
}

std::string to_upper(std::string_view s) {
  return map_case(s, [](char32_t c) -> char32_t {
    if (c < 0x80) return (c >= 'a' && c <= 'z') ? c - 32 : c;
    return static_cast<char32_t>(utf8proc_toupper(static_cast<utf8proc_int32_t>(c)));
  });
}

bool is_letter(char32_t cp) {
  if (cp < 0x80) return (cp | 32) >= 'a' && (cp | 32) <= 'z';
  auto cat = utf8proc_category(static_cast<utf8proc_int32_t>(cp));
  return cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO;
}

bool is_upper(char32_t cp) {
  if (cp < 0x80) return cp >= 'A' && cp <= 'Z';
  return utf8proc_category(static_cast<utf8proc_int32_t>(cp)) == UTF8PROC_CATEGORY_LU;
}

bool is_digit(char32_t cp) { return cp >= '0' && cp <= '9'; }

}  // namespace cqda::utf8
