#include "anonymize/tokens.h"

#include <utf8proc.h>

#include <array>

#include "common/utf8.h"

namespace cqda::anonymize {
namespace {

enum Class : std::uint8_t { kSpace, kLowerAscii, kUpperAscii, kDigit, kPunct };

constexpr std::array<std::uint8_t, 128> make_ascii_classes() {
  std::array<std::uint8_t, 128> t{};
  for (int c = 0; c < 128; ++c) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v') t[c] = kSpace;
    else if (c >= 'a' && c <= 'z') t[c] = kLowerAscii;
    else if (c >= 'A' && c <= 'Z') t[c] = kUpperAscii;
    else if (c >= '0' && c <= '9') t[c] = kDigit;
    else t[c] = kPunct;
  }
  return t;
}
constexpr auto kAscii = make_ascii_classes();

struct CodePointClass {
  bool space = false;
  bool word = false;   // letter, mark or digit
  bool upper = false;
  bool lower = false;  // a letter that is not upper case
  bool digit = false;
};

CodePointClass classify(char32_t cp) {
  CodePointClass c;
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(cp))) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LT:
      c.word = c.upper = true;
      break;
    case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO:
      c.word = c.lower = true;
      break;
    case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME:
      c.word = true;
      break;
    case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
      c.word = c.digit = true;
      break;
    case UTF8PROC_CATEGORY_ZS: case UTF8PROC_CATEGORY_ZL: case UTF8PROC_CATEGORY_ZP:
      c.space = true;
      break;
    case UTF8PROC_CATEGORY_CF:  // zero-width joiners and the like: invisible, part of words
      c.word = cp == 0x200C || cp == 0x200D;
      c.space = !c.word;
      break;
    default:
      break;
  }
  return c;
}

}  // namespace

void tokenize(std::string_view line, std::vector<Token>& tokens) {
  tokens.clear();
  const std::size_t n = line.size();
  std::size_t pos = 0;
  bool space = false;
  while (pos < n) {
    const auto b = static_cast<unsigned char>(line[pos]);
    CodePointClass c;
    std::size_t next = pos;
    char32_t cp;
    if (b < 0x80) {
      cp = b;
      next = pos + 1;
      switch (kAscii[b]) {
        case kSpace: c.space = true; break;
        case kLowerAscii: c.word = c.lower = true; break;
        case kUpperAscii: c.word = c.upper = true; break;
        case kDigit: c.word = c.digit = true; break;
        default: break;
      }
    } else {
      cp = utf8::decode(line, next);
      c = classify(cp);
    }
    if (c.space) {
      space = true;
      pos = next;
      continue;
    }
    Token t;
    t.begin = static_cast<std::uint32_t>(pos);
    t.space_before = space || tokens.empty();
    space = false;
    if (!c.word) {
      t.punct = cp;
      t.end = static_cast<std::uint32_t>(next);
      tokens.push_back(t);
      pos = next;
      continue;
    }
    // A word: consume letters, marks and digits, tracking the case pattern.
    t.word = true;
    bool first_upper = c.upper, first_digit = c.digit, any_digit = c.digit;
    int letters = (c.upper || c.lower) ? 1 : 0, uppers = c.upper ? 1 : 0;
    pos = next;
    while (pos < n) {
      const auto b2 = static_cast<unsigned char>(line[pos]);
      std::size_t after = pos + 1;
      CodePointClass c2;
      if (b2 < 0x80) {
        const auto k = kAscii[b2];
        if (k == kLowerAscii) c2.word = c2.lower = true;
        else if (k == kUpperAscii) c2.word = c2.upper = true;
        else if (k == kDigit) c2.word = c2.digit = true;
      } else {
        after = pos;
        c2 = classify(utf8::decode(line, after));
      }
      if (!c2.word) break;
      any_digit |= c2.digit;
      letters += (c2.upper || c2.lower) ? 1 : 0;
      uppers += c2.upper ? 1 : 0;
      pos = after;
    }
    t.end = static_cast<std::uint32_t>(pos);
    if (any_digit || first_digit) t.shape = Shape::kOther;
    else if (!first_upper) t.shape = Shape::kLower;
    else if (uppers == letters && letters >= 2) t.shape = Shape::kAllCaps;
    else t.shape = Shape::kCapitalized;
    tokens.push_back(t);
  }
}

void lower_into(std::string_view word, std::string& out) {
  out.clear();
  bool ascii = true;
  for (char ch : word) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x80) {
      ascii = false;
      break;
    }
    out.push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c));
  }
  if (ascii) return;
  out = utf8::to_lower(word);
  fold_apostrophes(out);
  // Turkish dotless ı upper-cases to a plain I ("Hızır" -> "HIZIR"), so a name and its
  // all-caps form only meet if ı folds to i.
  for (std::size_t at = out.find("\xC4\xB1"); at != std::string::npos; at = out.find("\xC4\xB1", at + 1))
    out.replace(at, 2, "i");
}

void fold_apostrophes(std::string& s) {
  if (s.find("\u2019") == std::string::npos) return;
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s.compare(i, 3, "\u2019") == 0) {
      out.push_back('\'');
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  s = std::move(out);
}

}  // namespace cqda::anonymize
