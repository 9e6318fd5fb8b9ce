#include "anonymize/pseudonym.h"

#include <sodium.h>

#include "common/utf8.h"

namespace cqda::anonymize {

using policy::EntityType;

PseudonymFormat pseudonym_format(EntityType type, std::string_view custom_name) {
  switch (type) {
    case EntityType::kPerson: return {"Person-", "", false, 4};
    case EntityType::kPlace: return {"Place-", "", false, 4};
    case EntityType::kOrg: return {"Org-", "", false, 4};
    case EntityType::kEmail: return {"person-", "@example.invalid", true, 4};
    case EntityType::kPhone: return {"[PHONE-", "]", false, 4};
    case EntityType::kUrl: return {"[URL-", "]", false, 4};
    case EntityType::kIp: return {"[IP-", "]", false, 4};
    case EntityType::kIban: return {"[IBAN-", "]", false, 4};
    case EntityType::kPaymentCard: return {"[CARD-", "]", false, 4};
    case EntityType::kNationalId: return {"[NATIONAL-ID-", "]", false, 4};
    case EntityType::kPostcode: return {"[POSTCODE-", "]", false, 4};
    case EntityType::kDateOfBirth: return {"[DOB-", "]", false, 4};
    case EntityType::kHandle: return {"@user-", "", true, 4};
    case EntityType::kCustom: {
      std::string name = utf8::to_upper(custom_name.empty() ? "custom" : custom_name);
      return {"[" + name + "-", "]", false, 4};
    }
  }
  return {"[REDACTED-", "]", false, 4};
}

Sha256Digest pseudonym_mac(const PseudonymKey& key, std::string_view type_key,
                           std::string_view canonical) {
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, key.data(), PseudonymKey::kSize);
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(type_key.data()),
                                type_key.size());
  const unsigned char zero = 0;
  crypto_auth_hmacsha256_update(&state, &zero, 1);
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(canonical.data()),
                                canonical.size());
  Sha256Digest digest{};
  crypto_auth_hmacsha256_final(&state, digest.data());
  sodium_memzero(&state, sizeof state);
  return digest;
}

std::string crockford_base32(const Sha256Digest& digest, std::size_t chars) {
  static constexpr char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  chars = std::min<std::size_t>(chars, digest.size() * 8 / 5);
  std::string out;
  out.reserve(chars);
  for (std::size_t i = 0; i < chars; ++i) {
    const std::size_t bit = i * 5;
    const std::size_t byte = bit / 8;
    unsigned value = static_cast<unsigned>(digest[byte]) << 8;
    if (byte + 1 < digest.size()) value |= digest[byte + 1];
    out.push_back(kAlphabet[(value >> (11 - bit % 8)) & 31]);
  }
  return out;
}

std::string render_pseudonym(const PseudonymFormat& format, const Sha256Digest& digest,
                             std::size_t chars) {
  std::string code = crockford_base32(digest, chars);
  if (format.lowercase)
    for (char& c : code) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  return format.prefix + code + format.suffix;
}

}  // namespace cqda::anonymize
