#include "anonymize/entity.h"

#include <array>

namespace cqda::anonymize {
namespace {

using policy::EntityType;

struct TypeInfo {
  EntityType type;
  std::string_view key;
  std::string_view tag;
};

constexpr std::array<TypeInfo, 14> kTypes{{
    {EntityType::kPerson, "person", "[PERSON]"},
    {EntityType::kPlace, "place", "[PLACE]"},
    {EntityType::kOrg, "org", "[ORG]"},
    {EntityType::kEmail, "email", "[EMAIL]"},
    {EntityType::kPhone, "phone", "[PHONE]"},
    {EntityType::kUrl, "url", "[URL]"},
    {EntityType::kIp, "ip", "[IP]"},
    {EntityType::kIban, "iban", "[IBAN]"},
    {EntityType::kPaymentCard, "payment_card", "[CARD]"},
    {EntityType::kNationalId, "national_id", "[NATIONAL-ID]"},
    {EntityType::kPostcode, "postcode", "[POSTCODE]"},
    {EntityType::kDateOfBirth, "date_of_birth", "[DOB]"},
    {EntityType::kHandle, "handle", "[HANDLE]"},
    {EntityType::kCustom, "custom", "[CUSTOM]"},
}};

const TypeInfo& info(EntityType type) {
  for (const TypeInfo& t : kTypes)
    if (t.type == type) return t;
  return kTypes.back();
}

}  // namespace

std::string_view type_key(EntityType type) { return info(type).key; }
std::string_view type_tag(EntityType type) { return info(type).tag; }

policy::Action action_for(const policy::AnonymizationPolicy& policy, EntityType type) {
  auto it = policy.actions.find(type);
  return it == policy.actions.end() ? policy::Action::kPseudonymize : it->second;
}

}  // namespace cqda::anonymize
