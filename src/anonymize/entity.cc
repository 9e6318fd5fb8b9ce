#include "anonymize/entity.h"

#include <array>

namespace cqda::anonymize {
namespace {

using policy::EntityType;

struct TypeInfo {
  EntityType type;
  std::string_view tag;
};

constexpr std::array<TypeInfo, 14> kTypes{{
    {EntityType::kPerson, "[PERSON]"},
    {EntityType::kPlace, "[PLACE]"},
    {EntityType::kOrg, "[ORG]"},
    {EntityType::kEmail, "[EMAIL]"},
    {EntityType::kPhone, "[PHONE]"},
    {EntityType::kUrl, "[URL]"},
    {EntityType::kIp, "[IP]"},
    {EntityType::kIban, "[IBAN]"},
    {EntityType::kPaymentCard, "[CARD]"},
    {EntityType::kNationalId, "[NATIONAL-ID]"},
    {EntityType::kPostcode, "[POSTCODE]"},
    {EntityType::kDateOfBirth, "[DOB]"},
    {EntityType::kHandle, "[HANDLE]"},
    {EntityType::kCustom, "[CUSTOM]"},
}};

const TypeInfo& info(EntityType type) {
  for (const TypeInfo& t : kTypes)
    if (t.type == type) return t;
  return kTypes.back();
}

}  // namespace

std::string_view type_key(EntityType type) { return policy::entity_type_name(type); }
std::string_view type_tag(EntityType type) { return info(type).tag; }

policy::Action action_for(const policy::AnonymizationPolicy& policy, EntityType type) {
  return policy.action_for(type);
}

}  // namespace cqda::anonymize
