// The roster: people, places and organisations the researcher knows are in the data, with
// their aliases, kept as a CSV file next to the policy.
//
//   name,aliases,type,pseudonym
//   Maria Santos,Mimi;Mrs S,person,
//   St Anne's Care Home,St Anne's,place,
//   "Northgate Hospital NHS Trust",Northgate,org,Hospital A
//
// RFC 4180: comma-separated, fields may be double-quoted ("" is a quote inside), CRLF or LF.
// The header is required; columns may come in any order; `pseudonym` is optional. Aliases are
// separated by ';'. type is person, place or org (empty means person).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "policy/policy.h"

namespace cqda::anonymize {

struct RosterEntry {
  std::string name;                  // the canonical name; every alias maps to its pseudonym
  std::vector<std::string> aliases;
  policy::EntityType type = policy::EntityType::kPerson;  // kPerson, kPlace or kOrg
  std::string pseudonym;             // chosen by the researcher; "" means a derived one
  std::size_t line = 0;              // 1-based line in the CSV, for messages
};

struct Roster {
  std::vector<RosterEntry> entries;
};

struct RosterLimits {
  std::size_t max_bytes = 8u << 20;
  std::size_t max_entries = 50000;
  std::size_t max_field_chars = 500;
  std::size_t max_aliases = 50;
};

// Parses and checks the roster. Errors name the line: "roster line 4: unknown type 'persn'
// (expected person, place or org)". Names and aliases are trimmed and NFC-normalized; a
// name or alias that appears in two entries, or two entries with the same chosen pseudonym,
// is an error.
Result<Roster> parse_roster_csv(std::string_view csv_text, const RosterLimits& limits = {});

}  // namespace cqda::anonymize
