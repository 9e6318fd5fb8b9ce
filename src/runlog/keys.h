// Ed25519 keys for signing run logs, and their text key files.
//
// Key files (see docs/RUN-LOG.md):
//   signing.key  "cqda-ed25519-secret-v1 <64 lowercase hex: the 32-byte seed>\n"   mode 0600
//   signing.pub  "cqda-ed25519-public-v1 <64 lowercase hex: the 32-byte key>\n"    mode 0644
// A key id is the first 8 bytes (16 hex digits) of SHA-256 over the 32 raw public-key bytes,
// so `xxd -r -p | sha256sum` reproduces it without cqda.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "common/result.h"

namespace cqda::runlog {

inline constexpr std::string_view kSecretKeyFileTag = "cqda-ed25519-secret-v1";
inline constexpr std::string_view kPublicKeyFileTag = "cqda-ed25519-public-v1";
inline constexpr std::string_view kSecretKeyFileName = "signing.key";
inline constexpr std::string_view kPublicKeyFileName = "signing.pub";
// Docker and Compose mount secrets here read-only, often with mode 0444 owned by root; a
// key file below it is exempt from the "group/other must not read" rule (see load_signing_key).
inline constexpr std::string_view kSecretsMountDir = "/run/secrets";

using Ed25519Seed = std::array<std::uint8_t, 32>;
using Ed25519Signature = std::array<std::uint8_t, 64>;

struct PublicKey {
  std::array<std::uint8_t, 32> bytes{};
  friend bool operator==(const PublicKey&, const PublicKey&) = default;
};

// First 8 bytes of SHA-256(public key bytes), as 16 lowercase hex digits.
std::string key_id(const PublicKey& key);

// True when `signature` is a valid Ed25519 signature (RFC 8032, pure Ed25519 - not
// Ed25519ph) of `message` under `key`. libsodium rejects non-canonical signatures and
// small-order keys, so a valid signature has exactly one encoding.
bool verify_signature(const PublicKey& key, std::string_view message,
                      const Ed25519Signature& signature);

// The 64-byte libsodium secret key (seed || public key), held in sodium_malloc'd memory
// (guard pages, excluded from core dumps, locked where the rlimit allows) and wiped by
// sodium_free on destruction. Move-only; a moved-from key is empty and must not sign.
class SigningKey {
 public:
  // A fresh key from the system CSPRNG.
  static Result<SigningKey> generate();
  // The key derived from a fixed seed (crypto_sign_seed_keypair): for tests, fuzz seeds and
  // loading key files.
  static Result<SigningKey> from_seed(const Ed25519Seed& seed);

  SigningKey(SigningKey&& other) noexcept;
  SigningKey& operator=(SigningKey&& other) noexcept;
  SigningKey(const SigningKey&) = delete;
  SigningKey& operator=(const SigningKey&) = delete;
  ~SigningKey();

  bool empty() const { return secret_ == nullptr; }
  PublicKey public_key() const;
  std::string id() const { return key_id(public_key()); }
  // crypto_sign_detached over the whole message (one-shot pure Ed25519; deterministic).
  Ed25519Signature sign(std::string_view message) const;
  // The 32-byte seed, written into `out` (caller wipes it).
  void copy_seed(Ed25519Seed& out) const;

 private:
  explicit SigningKey(unsigned char* secret) : secret_(secret) {}
  unsigned char* secret_ = nullptr;  // 64 bytes from sodium_malloc, owned
};

// Writes a new key pair: dir/signing.key (0600) and dir/signing.pub (0644). Creates `dir`
// (mode 0700) when it does not exist, but not its parents. Refuses when either file already
// exists or is a symlink (O_CREAT|O_EXCL|O_NOFOLLOW), so a key is never overwritten; when the
// public file cannot be written the new secret file is removed again. Both files and the
// folder are fsynced.
Status write_keypair(const std::filesystem::path& dir);

// Loads a secret key file. Refuses a file that group or other may access (the error says
// `chmod 600 FILE`), except below /run/secrets/, where read bits for group/other are
// accepted (write bits never are). Refuses anything but one line in the format above.
Result<SigningKey> load_signing_key(const std::filesystem::path& path);

// Loads a public key file (format above; trailing whitespace is ignored).
Result<PublicKey> load_public_key(const std::filesystem::path& path);

// Text forms, for the CLI and tests.
std::string format_public_key_file(const PublicKey& key);
Result<PublicKey> parse_public_key_file(std::string_view text, std::string_view what);

// True when `path` lies lexically below /run/secrets/ (after making it absolute and
// normalising `..`).
bool is_under_secrets_mount(const std::filesystem::path& path);

}  // namespace cqda::runlog
