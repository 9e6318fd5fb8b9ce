#include "mcp/cursor.h"

#include <sodium.h>

#include <stdexcept>

namespace cqda::mcp {

CursorSigner::CursorSigner() {
  if (sodium_init() < 0) throw std::runtime_error("sodium_init failed");
  key_.resize(crypto_auth_KEYBYTES);
  randombytes_buf(key_.data(), key_.size());
}

CursorSigner::~CursorSigner() { sodium_memzero(key_.data(), key_.size()); }

std::string CursorSigner::make(std::string_view list, std::size_t offset) const {
  const std::string body = std::to_string(offset);
  const std::string signed_text = std::string(list) + '\0' + body;
  unsigned char mac[crypto_auth_BYTES];
  crypto_auth(mac, reinterpret_cast<const unsigned char*>(signed_text.data()), signed_text.size(),
              reinterpret_cast<const unsigned char*>(key_.data()));
  std::string hex(2 * sizeof mac + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), mac, sizeof mac);
  hex.pop_back();
  return body + "." + hex;
}

std::optional<std::size_t> CursorSigner::read(std::string_view list, const std::string& cursor, std::size_t size) const {
  const std::size_t dot = cursor.find('.');
  if (dot == std::string::npos || dot == 0 || dot > 10) return std::nullopt;
  const std::string body = cursor.substr(0, dot);
  if (body.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  const std::size_t offset = std::stoul(body);
  const std::string expected = make(list, offset);
  if (cursor.size() != expected.size() || sodium_memcmp(cursor.data(), expected.data(), expected.size()) != 0)
    return std::nullopt;
  if (offset >= size) return std::nullopt;
  return offset;
}

}  // namespace cqda::mcp
