#include "common/json.h"

#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include <re2/re2.h>

#include <algorithm>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>

#include "common/utf8.h"

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
  } catch (const Json::exception& e) {
    // parse_error, and out_of_range for a number too large for a double ("1e999").
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
    pointer += "/" + escape_pointer_token(token);
  }
  return pointer;
}

// nlohmann::ordered_json -> nlohmann::json, which valijson's adapter takes, without the
// cost of serializing and reparsing.
nlohmann::json to_plain(const Json& in) {
  switch (in.type()) {
    case Json::value_t::object: {
      nlohmann::json out = nlohmann::json::object();
      for (auto it = in.begin(); it != in.end(); ++it) out[it.key()] = to_plain(it.value());
      return out;
    }
    case Json::value_t::array: {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& item : in) out.push_back(to_plain(item));
      return out;
    }
    case Json::value_t::string: return in.get<std::string>();
    case Json::value_t::boolean: return in.get<bool>();
    case Json::value_t::number_integer: return in.get<std::int64_t>();
    case Json::value_t::number_unsigned: return in.get<std::uint64_t>();
    case Json::value_t::number_float: return in.get<double>();
    default: return nullptr;
  }
}

// A copy of the schema without `pattern` keywords (checked with RE2 instead).
// A non-negative integer, as a length bound must be (parsed text holds it unsigned; a schema
// built in C++ from an int holds it signed).
std::optional<std::uint64_t> non_negative_integer(const Json& value) {
  if (value.is_number_unsigned()) return value.get<std::uint64_t>();
  if (value.is_number_integer() && value.get<std::int64_t>() >= 0) return static_cast<std::uint64_t>(value.get<std::int64_t>());
  return std::nullopt;
}

// Keywords whose values are data, not schemas: nothing under them is a keyword.
bool holds_data(const std::string& key) {
  return key == "enum" || key == "const" || key == "default" || key == "examples";
}

// The string keywords the second pass checks instead of valijson: `pattern` (valijson's
// regex is not RE2) and `minLength`/`maxLength` (valijson stops counting at a NUL, so
// "\u0000" followed by a megabyte would pass any maxLength).
bool is_string_check(const std::string& key, const Json& value) {
  if (key == "pattern") return value.is_string();
  return key == "minLength" || key == "maxLength";
}

// Keywords whose value is an object of schemas by name: its keys are names, not keywords.
bool holds_named_schemas(const std::string& key) {
  return key == "properties" || key == "definitions" || key == "patternProperties";
}

Json without_string_checks(const Json& schema);

Json without_string_checks_by_name(const Json& named) {
  if (!named.is_object()) return without_string_checks(named);
  Json out = Json::object();
  for (auto it = named.begin(); it != named.end(); ++it) out[it.key()] = without_string_checks(it.value());
  return out;
}

Json without_string_checks(const Json& schema) {
  if (schema.is_object()) {
    Json out = Json::object();
    for (auto it = schema.begin(); it != schema.end(); ++it) {
      const std::string& key = it.key();
      if (is_string_check(key, it.value())) continue;
      out[key] = holds_data(key)            ? it.value()
                 : holds_named_schemas(key) ? without_string_checks_by_name(it.value())
                                            : without_string_checks(it.value());
    }
    return out;
  }
  if (schema.is_array()) {
    Json out = Json::array();
    for (const auto& item : schema) out.push_back(without_string_checks(item));
    return out;
  }
  return schema;
}

// Whether a schema has a keyword `wanted` accepts (key and value) anywhere a schema can be.
template <typename Wanted>
bool has_keyword(const Json& schema, const Wanted& wanted) {
  if (schema.is_object()) {
    for (auto it = schema.begin(); it != schema.end(); ++it) {
      const std::string& key = it.key();
      if (wanted(key, it.value())) return true;
      if (holds_data(key)) continue;
      if (holds_named_schemas(key) && it.value().is_object()) {
        for (const auto& child : it.value())
          if (has_keyword(child, wanted)) return true;
      } else if (has_keyword(it.value(), wanted)) {
        return true;
      }
    }
  } else if (schema.is_array()) {
    for (const auto& item : schema)
      if (has_keyword(item, wanted)) return true;
  }
  return false;
}

// Whether a schema has any keyword the second pass checks.
bool has_string_check(const Json& schema) { return has_keyword(schema, is_string_check); }

bool has_ref(const Json& schema) {
  return has_keyword(schema, [](const std::string& key, const Json&) { return key == "$ref"; });
}

// Why a schema's string checks cannot all be made by the second pass, or "" when they can.
// The pass follows properties, additionalProperties, items and $ref (definitions are reached
// through it); a check anywhere else (under anyOf, oneOf, allOf, not, if/then/else, tuple
// items, beside a $ref, which draft 7 ignores) would be taken from valijson and never made.
// A minLength or maxLength that is not a non-negative integer is refused too.
std::string string_check_problem(const Json& node, int depth = 0) {
  if (!node.is_object()) return "";
  if (depth > 64) return "the schema nests deeper than 64 levels";
  const bool ref = node.contains("$ref");
  for (auto it = node.begin(); it != node.end(); ++it) {
    const std::string& key = it.key();
    const Json& value = it.value();
    if (holds_data(key)) continue;
    if (is_string_check(key, value)) {
      if (key != "pattern" && !non_negative_integer(value)) return key + " must be a non-negative integer";
      if (ref) return key + " beside a $ref, which draft 7 ignores";
      continue;
    }
    std::string problem;
    if ((key == "properties" || key == "definitions") && value.is_object()) {
      for (const auto& child : value)
        if (problem = string_check_problem(child, depth + 1); !problem.empty()) return problem;
    } else if ((key == "additionalProperties" || key == "items") && value.is_object()) {
      if (problem = string_check_problem(value, depth + 1); !problem.empty()) return problem;
    } else if (has_string_check(value) || has_ref(value)) {
      // a $ref from there could lead to a definition with a string check
      return "pattern, minLength or maxLength under " + key + ", where cqda's string checks do not reach";
    }
  }
  return "";
}

// Characters in full: bytes that are not UTF-8 continuation bytes, so U+0000 counts as one;
// for valid UTF-8 this is the number of code points.
std::size_t characters(const std::string& text) {
  std::size_t count = 0;
  for (char c : text) count += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return count;
}

// The keywords most of our schemas use, checked straight on an ordered Json: a result that
// passes is valid, and anything else (a failure, to be explained) goes to valijson. A schema
// with any other keyword has no quick form and always goes to valijson. Patterns are compiled
// here (RE2), so an instance the quick form passes needs no second pass.
struct QuickSchema {
  enum class Type { kAny, kObject, kArray, kString, kInteger, kNumber, kBoolean, kNull };
  Type type = Type::kAny;
  std::vector<std::pair<std::string, std::unique_ptr<QuickSchema>>> properties;
  std::vector<std::string> required;
  std::unique_ptr<QuickSchema> items;
  std::optional<std::size_t> min_items, max_items;
  bool additional_allowed = true;
  std::unique_ptr<QuickSchema> additional;  // when additionalProperties is a schema
  std::optional<double> minimum, maximum;
  std::optional<std::size_t> min_length, max_length;  // in characters (see characters())
  std::unique_ptr<RE2> pattern;
  std::optional<std::vector<std::string>> string_enum;  // an enum of strings only
};

// A local `$ref` ("#/definitions/x") inside `root`, or null. valijson also decodes %xx in a
// pointer and drops a trailing slash; such a reference is left to it.
const Json* resolve_local(const Json& root, const Json& ref) {
  if (!ref.is_string()) return nullptr;
  const std::string& text = ref.get_ref<const std::string&>();
  if (text.rfind('#', 0) != 0 || text.find('%') != std::string::npos || (text.size() > 1 && text.back() == '/'))
    return nullptr;
  try {
    Json::json_pointer pointer(text.substr(1));
    return root.contains(pointer) ? &root.at(pointer) : nullptr;
  } catch (const Json::exception&) {
    return nullptr;
  }
}

std::optional<std::size_t> length_bound(const Json& value) {
  if (!value.is_number_unsigned() && !(value.is_number_integer() && value.get<std::int64_t>() >= 0)) return std::nullopt;
  return static_cast<std::size_t>(value.get<std::uint64_t>());
}

// `budget` bounds the nodes compiled: each $ref is compiled where it is used, so a schema
// that refers to a definition many times over could otherwise grow without end.
std::unique_ptr<QuickSchema> compile_quick(const Json& schema, const Json& root, int& budget, int depth = 0) {
  using Type = QuickSchema::Type;
  static const std::map<std::string, Type, std::less<>> kTypes = {
      {"object", Type::kObject}, {"array", Type::kArray},     {"string", Type::kString}, {"integer", Type::kInteger},
      {"number", Type::kNumber}, {"boolean", Type::kBoolean}, {"null", Type::kNull}};
  if (!schema.is_object() || depth > 32 || --budget < 0) return nullptr;  // deeper: a $ref cycle, or near one
  if (auto ref = schema.find("$ref"); ref != schema.end()) {
    // A reference alone (annotations aside) is its target; beside other keywords it is
    // valijson's to interpret.
    for (auto it = schema.begin(); it != schema.end(); ++it)
      if (it.key() != "$ref" && it.key() != "description" && it.key() != "title") return nullptr;
    const Json* target = resolve_local(root, *ref);
    return target ? compile_quick(*target, root, budget, depth + 1) : nullptr;
  }
  auto quick = std::make_unique<QuickSchema>();
  for (auto it = schema.begin(); it != schema.end(); ++it) {
    const std::string& key = it.key();
    const Json& value = it.value();
    if (key == "description" || key == "title" || key == "default" || key == "examples" ||
        (key == "$schema" && depth == 0) || (key == "definitions" && value.is_object())) {
      continue;  // annotations; definitions are reached through $ref
    } else if (key == "type" && value.is_string() && kTypes.count(value.get<std::string>())) {
      quick->type = kTypes.find(value.get<std::string>())->second;
    } else if (key == "properties" && value.is_object()) {
      for (auto p = value.begin(); p != value.end(); ++p) {
        auto child = compile_quick(p.value(), root, budget, depth + 1);
        if (!child) return nullptr;
        quick->properties.emplace_back(p.key(), std::move(child));
      }
    } else if (key == "required" && value.is_array()) {
      for (const auto& name : value) {
        if (!name.is_string()) return nullptr;
        quick->required.push_back(name.get<std::string>());
      }
    } else if (key == "items" && value.is_object()) {
      quick->items = compile_quick(value, root, budget, depth + 1);
      if (!quick->items) return nullptr;
    } else if ((key == "minItems" || key == "maxItems") && length_bound(value)) {
      (key == "minItems" ? quick->min_items : quick->max_items) = length_bound(value);
    } else if (key == "additionalProperties" && value.is_boolean()) {
      quick->additional_allowed = value.get<bool>();
    } else if (key == "additionalProperties" && value.is_object()) {
      quick->additional = compile_quick(value, root, budget, depth + 1);
      if (!quick->additional) return nullptr;
    } else if ((key == "minimum" || key == "maximum") && value.is_number()) {
      (key == "minimum" ? quick->minimum : quick->maximum) = value.get<double>();
    } else if ((key == "minLength" || key == "maxLength") && length_bound(value)) {
      (key == "minLength" ? quick->min_length : quick->max_length) = length_bound(value);
    } else if (key == "pattern" && value.is_string()) {
      RE2::Options options;
      options.set_log_errors(false);
      quick->pattern = std::make_unique<RE2>(value.get<std::string>(), options);
      if (!quick->pattern->ok()) return nullptr;  // valijson's path reports it
    } else if (key == "enum" && value.is_array() && !value.empty()) {
      std::vector<std::string> names;
      for (const auto& item : value) {
        if (!item.is_string()) return nullptr;
        names.push_back(item.get<std::string>());
      }
      quick->string_enum = std::move(names);
    } else {
      return nullptr;
    }
  }
  return quick;
}

bool quick_valid(const QuickSchema& schema, const Json& instance) {
  using Type = QuickSchema::Type;
  switch (schema.type) {
    case Type::kAny: break;
    case Type::kObject: if (!instance.is_object()) return false; break;
    case Type::kArray: if (!instance.is_array()) return false; break;
    case Type::kString: if (!instance.is_string()) return false; break;
    case Type::kInteger: if (!instance.is_number_integer()) return false; break;
    case Type::kNumber: if (!instance.is_number()) return false; break;
    case Type::kBoolean: if (!instance.is_boolean()) return false; break;
    case Type::kNull: if (!instance.is_null()) return false; break;
  }
  if (schema.string_enum) {
    if (!instance.is_string()) return false;
    const auto& text = instance.get_ref<const std::string&>();
    if (std::find(schema.string_enum->begin(), schema.string_enum->end(), text) == schema.string_enum->end()) return false;
  }
  if (instance.is_number()) {
    // valijson reads an unsigned integer as a signed one, so one above INT64_MAX is its
    // to judge against a bound.
    if ((schema.minimum || schema.maximum) && instance.is_number_unsigned() &&
        instance.get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      return false;
    const double value = instance.get<double>();
    if ((schema.minimum && value < *schema.minimum) || (schema.maximum && value > *schema.maximum)) return false;
  } else if (instance.is_string()) {
    const auto& text = instance.get_ref<const std::string&>();
    if (schema.min_length || schema.max_length) {
      // Counted as the second pass counts (valijson does not see lengths).
      const std::size_t length = characters(text);
      if ((schema.min_length && length < *schema.min_length) || (schema.max_length && length > *schema.max_length))
        return false;
    }
    if (schema.pattern && !RE2::PartialMatch(text, *schema.pattern)) return false;
  } else if (instance.is_object()) {
    for (const auto& name : schema.required)
      if (!instance.contains(name)) return false;
    for (auto it = instance.begin(); it != instance.end(); ++it) {
      const QuickSchema* child = nullptr;
      for (const auto& [name, property] : schema.properties)
        if (name == it.key()) {
          child = property.get();
          break;
        }
      if (!child) {
        if (!schema.additional_allowed) return false;
        child = schema.additional.get();
      }
      if (child && !quick_valid(*child, it.value())) return false;
    }
  } else if (instance.is_array()) {
    if ((schema.min_items && instance.size() < *schema.min_items) || (schema.max_items && instance.size() > *schema.max_items))
      return false;
    if (schema.items)
      for (const auto& item : instance)
        if (!quick_valid(*schema.items, item)) return false;
  }
  return true;
}

}  // namespace

std::string escape_pointer_token(std::string_view token) {
  std::string escaped;
  for (char c : token) {
    if (c == '~') escaped += "~0";
    else if (c == '/') escaped += "~1";
    else escaped += c;
  }
  return escaped;
}

struct SchemaValidator::Impl {
  Json schema;  // the original, with patterns and lengths
  bool patterns = false;  // whether it has any string check (pattern, lengths) for the second pass
  std::unique_ptr<QuickSchema> quick;  // null when the schema uses other keywords
  valijson::Schema compiled;
  // Compiled on first use. A validator is shared by threads (an MCP server validates calls
  // concurrently), so the cache is locked; a compiled RE2 itself is safe to share.
  std::mutex regex_mutex;
  std::map<std::string, std::unique_ptr<RE2>> regexes;

  const RE2& regex(const std::string& pattern) {
    std::lock_guard lock(regex_mutex);
    auto& slot = regexes[pattern];
    if (!slot) {
      RE2::Options options;
      options.set_log_errors(false);
      slot = std::make_unique<RE2>(pattern, options);
      if (!slot->ok()) throw std::logic_error("schema pattern is not RE2: " + pattern);
    }
    return *slot;
  }

  const Json* resolve(const Json* node) const {
    for (int hops = 0; node && node->is_object() && node->contains("$ref") && hops < 32; ++hops) {
      const std::string ref = (*node)["$ref"].get<std::string>();
      if (ref.rfind("#", 0) != 0) return nullptr;
      Json::json_pointer pointer(ref.substr(1));
      node = schema.contains(pointer) ? &schema.at(pointer) : nullptr;
    }
    return node;
  }

  // Where check_patterns is in the instance, made into a JSON pointer only for a violation.
  struct Path {
    const Path* parent = nullptr;
    const std::string* key = nullptr;  // an object member, or
    std::size_t index = 0;             // an array item
    std::string pointer(std::string_view prefix) const {
      std::vector<std::string> tokens;  // innermost first
      for (const Path* p = this; p && p->parent; p = p->parent)
        tokens.push_back(p->key ? escape_pointer_token(*p->key) : std::to_string(p->index));
      std::string out(prefix);
      for (auto it = tokens.rbegin(); it != tokens.rend(); ++it) {
        out += '/';
        out += *it;
      }
      return out;
    }
  };

  template <typename Instance>
  void check_patterns(const Json* node, const Instance& instance, const Path& path, std::string_view prefix,
                      std::vector<SchemaViolation>& out) const {
    node = resolve(node);
    if (!node || !node->is_object()) return;
    if (instance.is_string()) {
      const std::string& value = instance.template get_ref<const std::string&>();
      auto bound = [&](const char* key) {
        auto it = node->find(key);
        return it == node->end() ? std::nullopt : non_negative_integer(*it);
      };
      const auto min_length = bound("minLength"), max_length = bound("maxLength");
      if (min_length || max_length) {
        const std::size_t length = characters(value);
        if (min_length && length < *min_length)
          out.push_back({path.pointer(prefix), "String should be no fewer than " + std::to_string(*min_length) + " characters"});
        if (max_length && length > *max_length)
          out.push_back({path.pointer(prefix), "String should be no more than " + std::to_string(*max_length) + " characters"});
      }
      auto pattern = node->find("pattern");
      if (pattern == node->end() || !pattern->is_string()) return;
      const std::string& text = pattern->template get_ref<const std::string&>();
      if (!RE2::PartialMatch(value, const_cast<Impl*>(this)->regex(text)))
        out.push_back({path.pointer(prefix), "String does not match the pattern " + text});
    } else if (instance.is_object()) {
      auto properties = node->find("properties");
      auto additional = node->find("additionalProperties");
      for (auto it = instance.begin(); it != instance.end(); ++it) {
        const Json* child = nullptr;
        if (properties != node->end()) {
          if (auto p = properties->find(it.key()); p != properties->end()) child = &*p;
        }
        if (!child && additional != node->end()) child = &*additional;
        if (child) check_patterns(child, it.value(), Path{&path, &it.key(), 0}, prefix, out);
      }
    } else if (instance.is_array()) {
      auto items = node->find("items");
      if (items == node->end() || !items->is_object()) return;
      for (std::size_t i = 0; i < instance.size(); ++i)
        check_patterns(&*items, instance[i], Path{&path, nullptr, i}, prefix, out);
    }
  }
};

SchemaValidator::SchemaValidator(const Json& schema) : impl_(std::make_unique<Impl>()) {
  impl_->schema = schema;
  impl_->patterns = has_string_check(schema);
  if (impl_->patterns)
    if (std::string problem = string_check_problem(schema); !problem.empty())
      throw std::logic_error("invalid JSON Schema: " + problem);
  int budget = 10000;
  impl_->quick = compile_quick(schema, schema, budget);
  const nlohmann::json plain = to_plain(without_string_checks(schema));
  try {
    valijson::SchemaParser parser;
    valijson::adapters::NlohmannJsonAdapter adapter(plain);
    parser.populateSchema(adapter, impl_->compiled);
  } catch (const std::exception& e) {
    throw std::logic_error(std::string("invalid JSON Schema: ") + e.what());
  }
}

SchemaValidator::~SchemaValidator() = default;
SchemaValidator::SchemaValidator(SchemaValidator&&) noexcept = default;
SchemaValidator& SchemaValidator::operator=(SchemaValidator&&) noexcept = default;

std::vector<SchemaViolation> SchemaValidator::validate(const Json& instance, std::string_view prefix) const {
  if (impl_->quick && quick_valid(*impl_->quick, instance)) return {};  // patterns included
  return validate(to_plain(instance), prefix);
}

bool SchemaValidator::has_quick_form() const { return impl_->quick != nullptr; }

std::vector<SchemaViolation> SchemaValidator::validate(const nlohmann::json& plain, std::string_view prefix) const {
  valijson::Validator validator;
  valijson::adapters::NlohmannJsonAdapter adapter(plain);
  // Most instances are valid: a first pass without results stops at the first failure and
  // keeps no context for each value it visits, and only a failure is validated again to
  // say why.
  if (validator.validate(impl_->compiled, adapter, nullptr)) {
    std::vector<SchemaViolation> violations;
    if (impl_->patterns) impl_->check_patterns(&impl_->schema, plain, Impl::Path{}, prefix, violations);
    return violations;
  }
  valijson::ValidationResults results;
  validator.validate(impl_->compiled, adapter, &results);

  std::vector<SchemaViolation> violations;
  valijson::ValidationResults::Error error;
  while (results.popError(error)) violations.push_back({std::string(prefix) + to_pointer(error.context), error.description});
  // valijson reports a failing subschema and then its container ("Failed to validate
  // against schema associated with property name ..."); keep only the specific causes.
  std::vector<SchemaViolation> specific;
  for (const auto& v : violations) {
    if (v.message.rfind("Failed to validate against schema associated with", 0) == 0) continue;
    if (v.message.rfind("Failed to validate item #", 0) == 0) continue;
    specific.push_back(v);
  }
  if (specific.empty()) specific = std::move(violations);
  if (impl_->patterns) impl_->check_patterns(&impl_->schema, plain, Impl::Path{}, prefix, specific);
  return specific;
}

SchemaValidator SchemaValidator::subschema(std::string_view schema_pointer) const {
  Json sub = impl_->schema.at(Json::json_pointer(std::string(schema_pointer)));
  if (impl_->schema.contains("definitions")) sub["definitions"] = impl_->schema["definitions"];
  return SchemaValidator(sub);
}

std::vector<SchemaViolation> validate_against_schema(const Json& schema, const Json& instance) {
  return SchemaValidator(schema).validate(instance);
}

std::string format_violations(const std::vector<SchemaViolation>& violations) {
  std::string out;
  for (const auto& v : violations) {
    out += "  " + (v.pointer.empty() ? std::string("/") : v.pointer) + ": " + v.message + "\n";
  }
  return out;
}

}  // namespace cqda
