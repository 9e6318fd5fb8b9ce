// Bounded JSON parsing and JSON Schema validation for untrusted documents.
// nlohmann::json has no nesting limit, so depth is checked by a scan before parsing.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <memory>
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

// "a/b~c" -> "a~1b~0c" (RFC 6901).
std::string escape_pointer_token(std::string_view token);

struct SchemaViolation {
  std::string pointer;  // JSON pointer into the instance, "" for the root
  std::string message;
};

// A compiled JSON Schema (draft 7, as valijson supports it). `pattern` (with RE2, not
// valijson's slow, recursive std::regex) and `minLength`/`maxLength` (every character counted,
// U+0000 included, where valijson stops at a NUL) are checked by cqda: the schema given to
// valijson has them removed, and a second pass walks the instance along `properties`,
// `additionalProperties`, `items` and local `$ref`s to apply them. A schema with one of them
// anywhere else, or with a length that is not a non-negative integer, is refused
// (std::logic_error) when it is compiled.
class SchemaValidator {
 public:
  // A schema that cannot be loaded is a programming error and throws std::logic_error.
  explicit SchemaValidator(const Json& schema);
  ~SchemaValidator();
  SchemaValidator(SchemaValidator&&) noexcept;
  SchemaValidator& operator=(SchemaValidator&&) noexcept;

  // Every violation; pointers are prefixed with `instance_pointer`. A schema that uses only
  // type (one name), properties, required, additionalProperties, items, minItems, maxItems,
  // minimum, maximum, minLength, maxLength, pattern, an enum of strings and local $refs (and
  // annotations) has a quick form, checked straight on the Json, patterns included; an
  // instance it passes is valid, and any other goes through valijson, which says why.
  std::vector<SchemaViolation> validate(const Json& instance, std::string_view instance_pointer = "") const;
  // The same for an unordered nlohmann::json, always through valijson, which reads it
  // without a conversion.
  std::vector<SchemaViolation> validate(const nlohmann::json& instance, std::string_view instance_pointer = "") const;
  bool has_quick_form() const;

  // A validator for the subschema at `schema_pointer` (e.g. "/properties/codings/items"),
  // keeping the root's `definitions` so local $refs still resolve: large arrays are then
  // validated one item at a time.
  SchemaValidator subschema(std::string_view schema_pointer) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Validates `instance` against `schema` (compiled for this call) and returns every violation.
std::vector<SchemaViolation> validate_against_schema(const Json& schema, const Json& instance);

// Formats violations one per line: "  /paths/max_file_bytes: value is below the minimum".
std::string format_violations(const std::vector<SchemaViolation>& violations);

}  // namespace cqda
