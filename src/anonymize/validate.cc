#include "anonymize/validate.h"

#include <arpa/inet.h>

#include <array>
#include <cctype>
#include <cstdint>

namespace cqda::anonymize::validate {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }

// Leading digits of `digits` as a number (at most 6 of them).
int prefix(std::string_view digits, std::size_t n) {
  int value = 0;
  for (std::size_t i = 0; i < n && i < digits.size(); ++i) value = value * 10 + (digits[i] - '0');
  return value;
}

struct IbanCountry {
  char code[3];
  unsigned char length;
};

// ISO 13616 registry lengths: every SEPA country plus common others.
constexpr IbanCountry kIbanCountries[] = {
    {"AD", 24}, {"AE", 23}, {"AL", 28}, {"AT", 20}, {"AZ", 28}, {"BA", 20}, {"BE", 16},
    {"BG", 22}, {"BH", 22}, {"BR", 29}, {"CH", 21}, {"CR", 22}, {"CY", 28}, {"CZ", 24},
    {"DE", 22}, {"DK", 18}, {"DO", 28}, {"EE", 20}, {"EG", 29}, {"ES", 24}, {"FI", 18},
    {"FO", 18}, {"FR", 27}, {"GB", 22}, {"GE", 22}, {"GI", 23}, {"GL", 18}, {"GR", 27},
    {"HR", 21}, {"HU", 28}, {"IE", 22}, {"IL", 23}, {"IS", 26}, {"IT", 27}, {"JO", 30},
    {"KW", 30}, {"KZ", 20}, {"LB", 28}, {"LI", 21}, {"LT", 20}, {"LU", 20}, {"LV", 21},
    {"MC", 27}, {"MD", 24}, {"ME", 22}, {"MK", 19}, {"MT", 31}, {"NL", 18}, {"NO", 15},
    {"PL", 28}, {"PT", 25}, {"RO", 24}, {"SA", 24}, {"SE", 24}, {"SI", 19}, {"SK", 24},
    {"SM", 27}, {"TN", 24}, {"TR", 26}, {"UA", 29}, {"VA", 22}, {"XK", 20}, {"RS", 22},
    {"QA", 29}, {"PK", 24},
};

}  // namespace

std::string digits_of(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text)
    if (is_digit(c)) out.push_back(c);
  return out;
}

bool luhn_valid(std::string_view digits) {
  if (digits.empty()) return false;
  int sum = 0;
  bool twice = false;
  for (std::size_t i = digits.size(); i-- > 0;) {
    if (!is_digit(digits[i])) return false;
    int d = digits[i] - '0';
    if (twice) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    twice = !twice;
  }
  return sum % 10 == 0;
}

bool payment_card_valid(std::string_view digits) {
  const std::size_t n = digits.size();
  if (n < 13 || n > 19 || !luhn_valid(digits)) return false;
  const int p1 = prefix(digits, 1), p2 = prefix(digits, 2), p3 = prefix(digits, 3),
            p4 = prefix(digits, 4), p6 = prefix(digits, 6);
  if (p1 == 4) return n == 13 || n == 16 || n == 19;                        // Visa
  if ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)) return n == 16;  // Mastercard
  if (p2 == 34 || p2 == 37) return n == 15;                                 // Amex
  if (p4 == 6011 || p2 == 65 || (p3 >= 644 && p3 <= 649)) return n >= 16;   // Discover
  if ((p3 >= 300 && p3 <= 305) || p2 == 36 || p2 == 38 || p2 == 39) return n >= 14;  // Diners
  if (p4 >= 3528 && p4 <= 3589) return n >= 16;                             // JCB
  if (p2 == 62 || p2 == 81) return n >= 16;                                 // UnionPay
  if (p2 == 50 || (p2 >= 56 && p2 <= 69) || p6 == 676770) return n >= 13;   // Maestro
  return false;
}

std::size_t iban_length(std::string_view country) {
  if (country.size() != 2) return 0;
  for (const auto& c : kIbanCountries)
    if (country == std::string_view(c.code, 2)) return c.length;
  return 0;
}

bool iban_valid(std::string_view iban) {
  if (iban.size() < 15 || iban_length(iban.substr(0, 2)) != iban.size()) return false;
  if (!is_digit(iban[2]) || !is_digit(iban[3])) return false;
  // Move the first four characters to the end, letters become 10..35, then mod 97.
  std::uint32_t remainder = 0;
  for (std::size_t k = 0; k < iban.size(); ++k) {
    char c = iban[(k + 4) % iban.size()];
    if (is_digit(c)) {
      remainder = (remainder * 10 + static_cast<std::uint32_t>(c - '0')) % 97;
    } else if (is_upper(c)) {
      remainder = (remainder * 100 + static_cast<std::uint32_t>(c - 'A' + 10)) % 97;
    } else {
      return false;
    }
  }
  return remainder == 1;
}

bool ipv4_valid(std::string_view text) {
  int parts = 0;
  std::size_t i = 0;
  while (i <= text.size()) {
    std::size_t start = i;
    int value = 0;
    while (i < text.size() && is_digit(text[i])) {
      value = value * 10 + (text[i] - '0');
      if (value > 255) return false;
      ++i;
    }
    const std::size_t len = i - start;
    if (len == 0 || len > 3 || (len > 1 && text[start] == '0')) return false;
    ++parts;
    if (i == text.size()) break;
    if (text[i] != '.') return false;
    ++i;
  }
  return parts == 4;
}

bool ipv6_valid(std::string_view text) {
  if (text.size() < 3 || text.size() > 45) return false;
  int groups = 0;
  bool in_group = false, has_digit = false;
  for (char c : text) {
    if (c == ':') {
      in_group = false;
    } else {
      if (!in_group) ++groups;
      in_group = true;
      if (is_digit(c)) has_digit = true;
    }
  }
  if (groups < 2 || !has_digit) return false;
  std::string copy(text);
  unsigned char buf[16];
  return ::inet_pton(AF_INET6, copy.c_str(), buf) == 1;
}

bool us_ssn_valid(std::string_view text) {
  if (text.size() != 11 || text[3] != '-' || text[6] != '-') return false;
  for (std::size_t i : {0, 1, 2, 4, 5, 7, 8, 9, 10})
    if (!is_digit(text[i])) return false;
  int area = prefix(text, 3);
  int group = prefix(text.substr(4), 2);
  int serial = prefix(text.substr(7), 4);
  return area != 0 && area != 666 && area < 900 && group != 0 && serial != 0;
}

bool uk_nino_valid(std::string_view text) {
  std::string c;
  for (char ch : text)
    if (ch != ' ') c.push_back(ch);
  if (c.size() != 9) return false;
  const std::string_view first_ok = "ABCEGHJKLMNOPRSTWXYZ";
  const std::string_view second_ok = "ABCEGHJKLMNPRSTWXYZ";
  if (first_ok.find(c[0]) == std::string_view::npos) return false;
  if (second_ok.find(c[1]) == std::string_view::npos) return false;
  const std::string_view pair(c.data(), 2);
  for (std::string_view bad : {"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"})
    if (pair == bad) return false;
  for (std::size_t i = 2; i < 8; ++i)
    if (!is_digit(c[i])) return false;
  return c[8] >= 'A' && c[8] <= 'D';
}

bool es_dni_valid(std::string_view text) {
  std::string c;
  for (char ch : text)
    if (ch != '-') c.push_back(ch);
  if (c.size() != 9 || !is_upper(c[8])) return false;
  std::uint32_t number = 0;
  std::size_t start = 0;
  if (c[0] == 'X' || c[0] == 'Y' || c[0] == 'Z') {
    number = static_cast<std::uint32_t>(c[0] - 'X');
    start = 1;
  }
  for (std::size_t i = start; i < 8; ++i) {
    if (!is_digit(c[i])) return false;
    number = number * 10 + static_cast<std::uint32_t>(c[i] - '0');
  }
  constexpr std::string_view kLetters = "TRWAGMYFPDXBNJZSQVHLCKE";
  return kLetters[number % 23] == c[8];
}

}  // namespace cqda::anonymize::validate
