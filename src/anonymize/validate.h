// Checksum and format validators for the detectors. Each takes the matched text and says
// whether it is a real value of that kind; a detector only reports validated matches, so
// ordinary numbers that merely look like an identifier are left alone.
#pragma once

#include <string>
#include <string_view>

namespace cqda::anonymize::validate {

// The ASCII digits of `text` in order ("4111 1111-1111" -> "411111111111").
std::string digits_of(std::string_view text);

// Luhn (mod 10) over a string of digits.
bool luhn_valid(std::string_view digits);

// 13-19 digits, Luhn-valid, with an issuer prefix of a real card scheme
// (Visa, Mastercard, Amex, Discover, Diners, JCB, UnionPay, Maestro).
bool payment_card_valid(std::string_view digits);

// The BBAN-inclusive length of an IBAN for a country code, 0 when unknown.
std::size_t iban_length(std::string_view country);

// `compact` is an IBAN without separators, upper case: known country, its exact length,
// alphanumeric, and the ISO 7064 mod-97 check equals 1.
bool iban_valid(std::string_view compact);

// Dotted quad with every octet 0-255 and no leading zeros.
bool ipv4_valid(std::string_view text);

// Parses with inet_pton; also requires two non-empty groups and a decimal digit, so "::",
// "a::b" and C++ scopes ("std::map") are not addresses.
bool ipv6_valid(std::string_view text);

// US SSN "AAA-GG-SSSS": area not 000, 666 or 9xx; group not 00; serial not 0000.
bool us_ssn_valid(std::string_view text);

// UK National Insurance number with or without spaces: valid prefix letters, six digits,
// suffix A-D.
bool uk_nino_valid(std::string_view text);

// Spanish DNI (8 digits + letter) or NIE (X/Y/Z + 7 digits + letter), optional '-' before
// the letter; the check letter must match.
bool es_dni_valid(std::string_view text);

}  // namespace cqda::anonymize::validate
