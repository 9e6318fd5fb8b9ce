// Names, tags and actions for the entity types the anonymizer produces. Names and actions
// come from the policy component; the redaction tags are the anonymizer's own.
#pragma once

#include <string>
#include <string_view>

#include "policy/policy.h"

namespace cqda::anonymize {

// "person", "email", "payment_card", ... (the count keys and the HMAC domain separator).
std::string_view type_key(policy::EntityType type);

// The tag a redaction writes: "[PERSON]", "[EMAIL]", "[CARD]", ...
std::string_view type_tag(policy::EntityType type);

// The action for a type: the policy's entry, or pseudonymize when the policy has none
// (the safe default: the text still never carries the original value).
policy::Action action_for(const policy::AnonymizationPolicy& policy, policy::EntityType type);

}  // namespace cqda::anonymize
