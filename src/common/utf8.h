// UTF-8 helpers over utf8proc. Offsets exposed to users are Unicode code points counted
// from 0 (as REFI-QDA defines them); these helpers convert between the two.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace cqda::utf8 {

// Byte offset of the first byte that is not part of well-formed UTF-8 (overlongs,
// surrogates and code points above U+10FFFF are ill-formed), or nullopt if all is valid.
std::optional<std::size_t> first_invalid_byte(std::string_view bytes);

// Canonical composition (NFC). The input must be valid UTF-8.
std::string to_nfc(std::string_view valid_utf8);

// Number of code points in valid UTF-8.
std::size_t length(std::string_view valid_utf8);

// Byte offset of code point `index` (index == length() gives size()).
std::size_t byte_offset(std::string_view valid_utf8, std::size_t index);

// The substring of code points [start, start + count).
std::string_view substr(std::string_view valid_utf8, std::size_t start, std::size_t count);

// Decodes the code point starting at byte `pos`; advances `pos`. Returns U+FFFD on a bad byte.
char32_t decode(std::string_view valid_utf8, std::size_t& pos);
void append(std::string& out, char32_t code_point);

// Simple (1:1) lowercase/uppercase per code point; keeps code point counts unchanged.
std::string to_lower(std::string_view valid_utf8);
std::string to_upper(std::string_view valid_utf8);

bool is_letter(char32_t cp);
bool is_upper(char32_t cp);
bool is_digit(char32_t cp);

}  // namespace cqda::utf8
