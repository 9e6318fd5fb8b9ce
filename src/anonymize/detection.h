// One finding of a detector or of the name finder, before overlaps are resolved and the
// action is applied. Offsets are bytes in the text being anonymized.
#pragma once

#include <cstddef>
#include <string>

#include "policy/policy.h"

namespace cqda::anonymize {

// Fixed tie-break order when two overlapping detections have the same length (lower wins).
enum DetectionPriority : int {
  kPriorityVoiceTag = 0,
  kPriorityRoster = 1,
  kPriorityEmail = 2,
  kPriorityUrl = 3,
  kPriorityIban = 4,
  kPriorityCard = 5,
  kPriorityNationalId = 6,
  kPriorityPhone = 7,
  kPriorityIp = 8,
  kPriorityDateOfBirth = 9,
  kPriorityPostcode = 10,
  kPriorityHandle = 11,
  kPriorityCustom = 12,
  kPriorityName = 13,
};

struct Detection {
  std::size_t begin = 0;
  std::size_t end = 0;
  policy::EntityType type = policy::EntityType::kPerson;
  int priority = kPriorityName;
  std::string canonical;    // what the pseudonym is keyed by
  std::string generalized;  // the coarser value for `generalize`; "" means the type tag
  int custom_index = -1;    // index into the policy's custom patterns for kCustom
  int preset_index = -1;    // a replacement computed in advance (voice tags)

  std::size_t length() const { return end - begin; }
};

}  // namespace cqda::anonymize
