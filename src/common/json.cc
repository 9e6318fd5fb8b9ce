#include "common/json.h"

#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include <algorithm>

namespace cqda {

std::size_t json_nesting_depth(std::string_view text, std::size_t limit) {
  std::size_t depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        break;
      case '[':
      case '{':
        deepest = std::max(deepest, ++depth);
        if (deepest > limit) return deepest;
        break;
      case ']':
      case '}':
        if (depth > 0) --depth;
        break;
      default:
        break;
    }
  }
  return deepest;
}

Result<Json> parse_json(std::string_view text, std::string_view what, const JsonLimits& limits) {
  if (text.size() > limits.max_bytes) {
    return make_error(std::string(what) + ": " + std::to_string(text.size()) +
                      " bytes is more than the limit of " + std::to_string(limits.max_bytes));
  }
  // Comment bodies may contain brackets; the scan over-counts there, which only errs
  // on the strict side for a file that nests close to the limit.
  if (json_nesting_depth(text, limits.max_depth) > limits.max_depth) {
    return make_error(std::string(what) + ": JSON nests deeper than " +
                      std::to_string(limits.max_depth) + " levels");
  }
  try {
    return Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/true,
                       /*ignore_comments=*/limits.allow_comments);
  } catch (const Json::parse_error& e) {
    std::string detail = e.what();
    // nlohmann prefixes "[json.exception.parse_error.101] "; keep only the human part.
    if (auto cut = detail.find("] "); cut != std::string::npos) detail = detail.substr(cut + 2);
    return make_error(std::string(what) + ": invalid JSON: " + detail);
  }
}

namespace {

// valijson reports paths as {"<root>", "[paths]", "[0]", ...}; turn them into a JSON pointer.
std::string to_pointer(const std::vector<std::string>& context) {
  std::string pointer;
  for (const auto& part : context) {
    if (part == "<root>") continue;
    std::string token = part;
    if (token.size() >= 2 && token.front() == '[' && token.back() == ']') {
      token = token.substr(1, token.size() - 2);
      if (token.size() >= 2 && token.front() == '"' && token.back() == '"')
        token = token.substr(1, token.size() - 2);
    }
    std::string escaped;
    for (char c : token) {
      if (c == '~') escaped += "~0";
      else if (c == '/') escaped += "~1";
      else escaped += c;
    }
    pointer += "/" + escaped;
  }
  return pointer;
}

}  // namespace

std::vector<SchemaViolation> validate_against_schema(const Json& schema_json, const Json& instance) {
  // valijson's adapter is written for nlohmann::json; convert the ordered variants.
  const nlohmann::json schema_doc = nlohmann::json::parse(schema_json.dump());
  const nlohmann::json instance_doc = nlohmann::json::parse(instance.dump());

  valijson::Schema schema;
  valijson::SchemaParser parser;
  valijson::adapters::NlohmannJsonAdapter schema_adapter(schema_doc);
  parser.populateSchema(schema_adapter, schema);

  valijson::Validator validator;
  valijson::ValidationResults results;
  valijson::adapters::NlohmannJsonAdapter instance_adapter(instance_doc);
  validator.validate(schema, instance_adapter, &results);

  std::vector<SchemaViolation> violations;
  valijson::ValidationResults::Error error;
  while (results.popError(error)) {
    violations.push_back({to_pointer(error.context), error.description});
  }
  // valijson reports a failing subschema and then its container ("Failed to validate
  // against schema associated with property name ..."); keep only the specific causes
  // when there are any.
  std::vector<SchemaViolation> specific;
  for (const auto& v : violations) {
    if (v.message.rfind("Failed to validate against schema associated with", 0) == 0) continue;
    if (v.message.rfind("Failed to validate item #", 0) == 0) continue;
    specific.push_back(v);
  }
  return specific.empty() ? violations : specific;
}

std::string format_violations(const std::vector<SchemaViolation>& violations) {
  std::string out;
  for (const auto& v : violations) {
    out += "  " + (v.pointer.empty() ? std::string("/") : v.pointer) + ": " + v.message + "\n";
  }
  return out;
}

}  // namespace cqda
