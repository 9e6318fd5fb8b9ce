#include "anonymize/secret.h"

#include <sodium.h>

#include <cstring>

namespace cqda::anonymize {

SecretKey32::SecretKey32() = default;

SecretKey32 SecretKey32::random() {
  if (sodium_init() < 0) __builtin_trap();  // no usable randomness: never go on without it
  SecretKey32 key;
  randombytes_buf(key.bytes_.data(), kSize);
  return key;
}

SecretKey32 SecretKey32::from_bytes(const std::uint8_t* bytes) {
  SecretKey32 key;
  std::memcpy(key.bytes_.data(), bytes, kSize);
  return key;
}

SecretKey32::~SecretKey32() { sodium_memzero(bytes_.data(), kSize); }

bool SecretKey32::operator==(const SecretKey32& other) const {
  return sodium_memcmp(bytes_.data(), other.bytes_.data(), kSize) == 0;
}

}  // namespace cqda::anonymize
