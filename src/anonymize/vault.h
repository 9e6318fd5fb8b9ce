// The pseudonym vault: the HMAC key pseudonyms are derived from and the re-identification map
// (pseudonym -> entity type and original canonical form). It lives only in the cache folder,
// encrypted with XSalsa20-Poly1305 (crypto_secretbox) under a VaultKey that is kept elsewhere
// (a key file in cache/keys/ or a secret in /run/secrets/). Nothing in it is ever written in
// clear text; the map never goes to an output, a log, a prompt or a tool result.
//
// File layout: "CQDAVLT1" | 24-byte random nonce | secretbox(JSON). A new nonce is drawn for
// every save. A wrong key or any changed byte makes open() fail; a broken vault is never
// silently replaced, because that would change every pseudonym.
//
// Thread safety: every member function may be called from several threads at once (one mutex
// guards the map). Moving a Vault is not thread-safe.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "anonymize/pseudonym.h"
#include "anonymize/secret.h"
#include "common/result.h"

namespace cqda::anonymize {

// Reads the 32-byte vault key at `path` (raw bytes, or 64 hex characters with an optional
// trailing newline). If the file does not exist it is created with O_EXCL, mode 0600, from
// 32 random bytes. Symlinks are not followed.
Result<VaultKey> load_or_create_vault_key(const std::filesystem::path& path);

struct VaultEntry {
  std::string type_key;   // "person", "email", "custom:case_number"
  std::string canonical;  // the original, in the canonical form it was keyed by
};

class Vault {
 public:
  // Opens the vault at `path`, or starts a new one (with a fresh random pseudonym key) when
  // the file does not exist; the new vault is written by the first save().
  static Result<Vault> open(const std::filesystem::path& path, const VaultKey& key);
  // A vault from the bytes sealed() produced (e.g. handed over by the reader process), to be
  // saved at `path`; fails when they do not decrypt under `key` or do not parse.
  static Result<Vault> from_sealed(std::string_view sealed, const VaultKey& key, const std::filesystem::path& path);
  // A vault that lives only in memory (save() does nothing): tests and fuzzing.
  static Vault in_memory();
  static Vault in_memory(const PseudonymKey& pseudonym_key);

  Vault(Vault&& other) noexcept;
  Vault& operator=(Vault&& other) noexcept;
  ~Vault();

  // The pseudonym of (type_key, canonical): the recorded one, or a new one rendered with
  // `format` from the HMAC code and recorded. Two different originals never share a
  // pseudonym: on a collision the code grows by one character until it is unique.
  std::string pseudonym(std::string_view type_key, std::string_view canonical,
                        const PseudonymFormat& format);

  // Records a pseudonym chosen by the roster. If another original held it, that original
  // loses it (and gets a derived one the next time it is seen): the roster is authoritative.
  void assign(std::string_view type_key, std::string_view canonical, std::string_view pseudonym);

  // Re-identification: the original behind a pseudonym.
  std::optional<VaultEntry> reidentify(std::string_view pseudonym) const;

  std::size_t size() const;
  bool modified() const;  // changed since open/save
  const std::filesystem::path& path() const;

  // True when this vault has `base`'s pseudonym key and every mapping `base` holds, unchanged:
  // what a vault handed back by the reader must satisfy (it may only have added mappings).
  bool extends(const Vault& base) const;

  // The whole vault encrypted under its key (a fresh nonce each time): the file's content.
  std::string sealed() const;

  // Writes the vault atomically (mode 0600) under the key it was opened with.
  Status save();

 private:
  struct State;
  explicit Vault(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace cqda::anonymize
