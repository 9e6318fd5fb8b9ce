// SHA-256 (OpenSSL) and hex helpers. All digests are returned as lowercase hex.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace cqda {

using Sha256Digest = std::array<std::uint8_t, 32>;

Sha256Digest sha256(std::string_view bytes);
std::string sha256_hex(std::string_view bytes);
std::string to_hex(const std::uint8_t* data, std::size_t size);
template <std::size_t N>
std::string to_hex(const std::array<std::uint8_t, N>& bytes) {
  return to_hex(bytes.data(), bytes.size());
}
// Decodes lowercase or uppercase hex; returns false on odd length or a non-hex character.
bool from_hex(std::string_view hex, std::string& out);

}  // namespace cqda
