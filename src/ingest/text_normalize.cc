#include "ingest/text_normalize.h"

#include <optional>

#include "common/utf8.h"

namespace cqda::ingest {
namespace {

constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

bool has_utf16_bom(std::string_view bytes) {
  return bytes.substr(0, 2) == "\xFF\xFE" || bytes.substr(0, 2) == "\xFE\xFF";
}

std::optional<Error> check_bytes(std::string_view bytes, std::string_view what) {
  if (std::size_t nul = bytes.find('\0'); nul != std::string_view::npos) {
    if (has_utf16_bom(bytes))
      return make_error(std::string(what) + ": UTF-16 text is not supported; save it as UTF-8");
    return make_error(std::string(what) + ": binary content: NUL byte at offset " +
                      std::to_string(nul));
  }
  if (std::optional<std::size_t> bad = utf8::first_invalid_byte(bytes))
    return make_error(std::string(what) + ": invalid UTF-8 at byte offset " + std::to_string(*bad));
  return std::nullopt;
}

// Line endings and control characters (steps 3 and 4). Works on valid UTF-8 and keeps it so.
std::string clean_controls(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t pos = 0;
  while (pos < text.size()) {
    unsigned char c = static_cast<unsigned char>(text[pos]);
    if (c == '\r') {
      out.push_back('\n');
      pos += (pos + 1 < text.size() && text[pos + 1] == '\n') ? 2 : 1;
      continue;
    }
    if (c < 0x80) {
      ++pos;
      if (c == '\n' || c == '\t')
        out.push_back(static_cast<char>(c));
      else if (c == '\f' || c == '\v')
        out.push_back('\n');
      else if (c < 0x20 || c == 0x7F)
        out.push_back(' ');
      else
        out.push_back(static_cast<char>(c));
      continue;
    }
    std::size_t begin = pos;
    char32_t cp = utf8::decode(text, pos);
    if (cp == 0x2028 || cp == 0x2029)
      out.push_back('\n');
    else if (cp >= 0x80 && cp <= 0x9F)
      out.push_back(' ');
    else
      out.append(text.substr(begin, pos - begin));
  }
  return out;
}

}  // namespace

Result<std::string> normalize_text(std::string_view bytes, std::string_view what) {
  if (std::optional<Error> error = check_bytes(bytes, what)) return *error;
  if (bytes.substr(0, kUtf8Bom.size()) == kUtf8Bom) bytes.remove_prefix(kUtf8Bom.size());
  return utf8::to_nfc(clean_controls(bytes));
}

}  // namespace cqda::ingest
