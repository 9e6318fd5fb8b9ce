// SHA-256 (OpenSSL) and hex helpers. All digests are returned as lowercase hex.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace cqda {

using Sha256Digest = std::array<std::uint8_t, 32>;

Sha256Digest sha256(std::string_view bytes);
std::string sha256_hex(std::string_view bytes);

// SHA-256 of bytes that arrive in pieces (a file written block by block).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&& other) noexcept;
  Sha256& operator=(Sha256&& other) noexcept;
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(std::string_view bytes);
  // The digest of everything given so far, as hex; the hasher is then spent.
  std::string finish_hex();

 private:
  struct Context;
  Context* context_ = nullptr;
};
std::string to_hex(const std::uint8_t* data, std::size_t size);
template <std::size_t N>
std::string to_hex(const std::array<std::uint8_t, N>& bytes) {
  return to_hex(bytes.data(), bytes.size());
}
// Decodes lowercase or uppercase hex; returns false on odd length or a non-hex character.
bool from_hex(std::string_view hex, std::string& out);

}  // namespace cqda
