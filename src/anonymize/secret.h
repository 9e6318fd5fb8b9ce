// A 32-byte secret that is wiped (sodium_memzero) whenever a copy of it dies.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace cqda::anonymize {

class SecretKey32 {
 public:
  static constexpr std::size_t kSize = 32;

  SecretKey32();  // all zero
  static SecretKey32 random();
  static SecretKey32 from_bytes(const std::uint8_t* bytes);  // reads kSize bytes

  SecretKey32(const SecretKey32& other) = default;
  SecretKey32& operator=(const SecretKey32& other) = default;
  ~SecretKey32();

  const std::uint8_t* data() const { return bytes_.data(); }
  std::uint8_t* data() { return bytes_.data(); }
  bool operator==(const SecretKey32& other) const;  // constant time

 private:
  std::array<std::uint8_t, kSize> bytes_{};
};

// The key that encrypts the vault (kept outside the cache, e.g. /run/secrets/vault_key).
using VaultKey = SecretKey32;
// The HMAC key that pseudonyms are derived from (kept inside the encrypted vault).
using PseudonymKey = SecretKey32;

}  // namespace cqda::anonymize
