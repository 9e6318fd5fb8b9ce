#include "policy/glob.h"

#include <cstdint>
#include <vector>

namespace cqda::policy {
namespace {

using CodePoints = std::u32string;

// Lenient UTF-8 decoding for paths, which are bytes on Linux: a byte that does not start a
// well-formed sequence stands for itself in a private range, so every path is matchable.
CodePoints decode_lenient(std::string_view s) {
  CodePoints out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    auto b = static_cast<unsigned char>(s[i]);
    std::size_t len = b < 0x80           ? 1
                      : (b >> 5) == 0x6  ? 2
                      : (b >> 4) == 0xE  ? 3
                      : (b >> 3) == 0x1E ? 4
                                         : 0;
    bool ok = len > 0 && i + len <= s.size();
    char32_t cp = len == 1 ? b : len == 2 ? (b & 0x1F) : len == 3 ? (b & 0x0F) : (b & 0x07);
    for (std::size_t k = 1; ok && k < len; ++k) {
      auto c = static_cast<unsigned char>(s[i + k]);
      ok = (c & 0xC0) == 0x80;
      cp = (cp << 6) | (c & 0x3F);
    }
    if (!ok) {
      out.push_back(0xDC00 + b);
      ++i;
      continue;
    }
    out.push_back(cp);
    i += len;
  }
  return out;
}


// One element of a compiled component pattern.
struct Token {
  enum Kind : std::uint8_t { kLiteral, kAny, kStar, kClass } kind;
  char32_t literal = 0;
  bool negated = false;
  std::vector<std::pair<char32_t, char32_t>> ranges;  // for kClass

  bool matches(char32_t c) const {
    switch (kind) {
      case kLiteral:
        return c == literal;
      case kAny:
        return true;
      case kStar:
        return true;
      case kClass: {
        bool in = false;
        for (const auto& [lo, hi] : ranges) in = in || (c >= lo && c <= hi);
        return in != negated;
      }
    }
    return false;
  }
};

// Parses "[...]" starting at p[i] == '['; returns false (and leaves i) when unterminated.
bool parse_class(const CodePoints& p, std::size_t& i, Token& token) {
  std::size_t j = i + 1;
  token.kind = Token::kClass;
  if (j < p.size() && (p[j] == '!' || p[j] == '^')) {
    token.negated = true;
    ++j;
  }
  bool first = true;
  while (j < p.size() && (p[j] != ']' || first)) {
    char32_t lo = p[j];
    if (j + 2 < p.size() && p[j + 1] == '-' && p[j + 2] != ']') {
      token.ranges.emplace_back(lo, p[j + 2]);
      j += 3;
    } else {
      token.ranges.emplace_back(lo, lo);
      ++j;
    }
    first = false;
  }
  if (j >= p.size()) return false;
  i = j + 1;
  return true;
}

std::vector<Token> compile_component(std::string_view pattern) {
  CodePoints p = decode_lenient(pattern);
  std::vector<Token> tokens;
  std::size_t i = 0;
  while (i < p.size()) {
    Token token{Token::kLiteral};
    if (p[i] == '*') {
      while (i < p.size() && p[i] == '*') ++i;  // "**" inside a component is '*'
      token.kind = Token::kStar;
    } else if (p[i] == '?') {
      token.kind = Token::kAny;
      ++i;
    } else if (p[i] == '[' && parse_class(p, i, token)) {
      // parse_class advanced i
    } else if (p[i] == '\\' && i + 1 < p.size()) {
      token = Token{Token::kLiteral, p[i + 1]};
      i += 2;
    } else {
      token = Token{Token::kLiteral, p[i]};
      ++i;
    }
    tokens.push_back(std::move(token));
  }
  return tokens;
}

// Matches one component. Bottom-up table over (token, character): O(tokens * characters).
bool match_component(const std::vector<Token>& tokens, std::string_view name) {
  CodePoints s = decode_lenient(name);
  // row[j]: tokens[k..] match s[j..]; computed from the last token backwards.
  std::vector<char> row(s.size() + 1, 0), next(s.size() + 1, 0);
  next[s.size()] = 1;  // no tokens left matches the empty rest only
  for (std::size_t k = tokens.size(); k-- > 0;) {
    const Token& t = tokens[k];
    row[s.size()] = t.kind == Token::kStar ? next[s.size()] : 0;
    for (std::size_t j = s.size(); j-- > 0;) {
      if (t.kind == Token::kStar)
        row[j] = next[j] || row[j + 1];
      else
        row[j] = t.matches(s[j]) && next[j + 1];
    }
    std::swap(row, next);
  }
  return next[0] != 0;
}

}  // namespace

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> parts;
  std::size_t begin = 0;
  while (true) {
    std::size_t end = path.find('/', begin);
    if (end == std::string_view::npos) {
      parts.push_back(path.substr(begin));
      return parts;
    }
    parts.push_back(path.substr(begin, end - begin));
    begin = end + 1;
  }
}

bool glob_match(std::string_view pattern, std::string_view path) {
  std::vector<std::string_view> pattern_parts = split_path(pattern);
  std::vector<std::string_view> path_parts = split_path(path);
  const std::size_t m = pattern_parts.size();
  const std::size_t n = path_parts.size();
  std::vector<std::vector<Token>> compiled(m);
  std::vector<bool> globstar(m);
  for (std::size_t k = 0; k < m; ++k) {
    globstar[k] = pattern_parts[k] == "**";
    if (!globstar[k]) compiled[k] = compile_component(pattern_parts[k]);
  }
  // table[k][j]: pattern components k.. match path components j..; filled backwards.
  std::vector<std::vector<char>> table(m + 1, std::vector<char>(n + 1, 0));
  table[m][n] = 1;
  for (std::size_t k = m; k-- > 0;) {
    for (std::size_t j = n + 1; j-- > 0;) {
      if (globstar[k]) {
        table[k][j] = table[k + 1][j] || (j < n && table[k][j + 1]);
      } else {
        table[k][j] = j < n && table[k + 1][j + 1] && match_component(compiled[k], path_parts[j]);
      }
    }
  }
  return table[0][0] != 0;
}

std::optional<std::string> glob_syntax_error(std::string_view pattern) {
  if (pattern.empty()) return "empty pattern";
  if (pattern.front() == '/') return "absolute pattern (globs are relative to the input root)";
  for (std::string_view part : split_path(pattern)) {
    if (part == "..") return "'..' component (globs cannot reach outside the input root)";
    if (part.empty()) return "empty path component ('//' or a trailing '/')";
  }
  CodePoints p = decode_lenient(pattern);
  for (std::size_t i = 0; i < p.size(); ++i) {
    if (p[i] == '\\') {
      if (i + 1 == p.size()) return "trailing backslash";
      ++i;
    } else if (p[i] == '[') {
      Token token{Token::kClass};
      std::size_t j = i;
      if (!parse_class(p, j, token)) return "unterminated character class '['";
      i = j - 1;
    }
  }
  return std::nullopt;
}

}  // namespace cqda::policy
