// Keyed, human-readable pseudonyms. A pseudonym's code is the Crockford base32 text of
// HMAC-SHA-256(key, type_key || 0x00 || canonical); the same key and canonical form always
// give the same code, and nobody without the key can compute or invert it.
#pragma once

#include <string>
#include <string_view>

#include "anonymize/secret.h"
#include "common/hash.h"
#include "policy/policy.h"

namespace cqda::anonymize {

// How a code is dressed: prefix + code + suffix, e.g. "Person-" "7KQ2" "".
struct PseudonymFormat {
  std::string prefix;
  std::string suffix;
  bool lowercase = false;      // e-mails and handles use a lowercase code
  std::size_t code_chars = 4;  // grows only to resolve a collision
};

// The format for an entity type; `custom_name` names a custom pattern ("case_number" ->
// "[CASE_NUMBER-XXXX]").
PseudonymFormat pseudonym_format(policy::EntityType type, std::string_view custom_name = {});

Sha256Digest pseudonym_mac(const PseudonymKey& key, std::string_view type_key,
                           std::string_view canonical);

// The first `chars` Crockford base32 characters (0-9, A-Z without I, L, O, U) of `digest`
// (at most 51).
std::string crockford_base32(const Sha256Digest& digest, std::size_t chars);

// prefix + the first `chars` code characters + suffix.
std::string render_pseudonym(const PseudonymFormat& format, const Sha256Digest& digest,
                             std::size_t chars);

}  // namespace cqda::anonymize
