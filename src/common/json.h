// Bounded JSON parsing and JSON Schema validation for untrusted documents.
// nlohmann::json has no nesting limit, so depth is checked by a scan before parsing.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace cqda {

using Json = nlohmann::ordered_json;

struct JsonLimits {
  std::size_t max_bytes = 16u << 20;
  std::size_t max_depth = 64;
  bool allow_comments = false;  // `//` and `/* */` comments, as the policy file allows
};

// Deepest nesting of arrays/objects outside strings; stops counting past `limit`.
std::size_t json_nesting_depth(std::string_view text, std::size_t limit);

// Parses `text` named `what` in messages (a file name or "request body").
Result<Json> parse_json(std::string_view text, std::string_view what, const JsonLimits& limits);

struct SchemaViolation {
  std::string pointer;  // JSON pointer into the instance, "" for the root
  std::string message;
};

// Validates `instance` against the JSON Schema `schema` and returns every violation.
// A schema that valijson cannot load is a programming error and throws.
std::vector<SchemaViolation> validate_against_schema(const Json& schema, const Json& instance);

// Formats violations one per line: "  /paths/max_file_bytes: value is below the minimum".
std::string format_violations(const std::vector<SchemaViolation>& violations);

}  // namespace cqda
