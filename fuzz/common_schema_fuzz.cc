// Differential fuzzing of the quick form of a schema: an instance it passes is final (tool
// arguments from MCP clients are checked this way), so valijson must accept every such
// instance too. The schemas use every keyword the quick form knows.
#include <cstdint>
#include <string>
#include <vector>

#include "common/json.h"

namespace {

const std::vector<cqda::SchemaValidator>& validators() {
  static const std::vector<cqda::SchemaValidator> all = [] {
    const char* schemas[] = {
        // read_document's arguments
        R"({"type":"object","required":["id"],"additionalProperties":false,"properties":{
            "id":{"type":"string","minLength":1,"maxLength":200,"pattern":"^[a-z0-9-]+$"},
            "offset":{"type":"integer","minimum":0},"limit":{"type":"integer","minimum":1,"maximum":500}}})",
        // references, enums, lengths and item counts
        R"({"$schema":"http://json-schema.org/draft-07/schema#","type":"object","required":["id"],
            "definitions":{"id":{"type":"string","pattern":"^[a-z0-9-]+$","maxLength":8},
                           "kind":{"type":"string","enum":["add","edit","rename","merge","retire"]}},
            "properties":{"id":{"$ref":"#/definitions/id"},"action":{"$ref":"#/definitions/kind"},
              "text":{"type":"string","minLength":2,"maxLength":5},
              "ids":{"type":"array","minItems":1,"maxItems":3,"items":{"$ref":"#/definitions/id"}},
              "n":{"type":"number","minimum":-1.5,"maximum":2}},
            "additionalProperties":{"type":"array","items":{"type":"boolean"}}})",
        // nested objects and arrays
        R"({"type":"array","maxItems":4,"items":{"type":"object","required":["a"],"properties":{
            "a":{"type":"integer","maximum":10},"b":{"type":"null"},
            "c":{"type":"object","additionalProperties":false,"properties":{"d":{"type":"string","minLength":1}}}}}})",
    };
    std::vector<cqda::SchemaValidator> out;
    for (const char* text : schemas) {
      out.emplace_back(cqda::Json::parse(text));
      if (!out.back().has_quick_form()) __builtin_trap();  // the target would test nothing
    }
    return out;
  }();
  return all;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  if (size > 4096 || cqda::json_nesting_depth(text, 32) >= 32) return 0;
  cqda::Json instance;
  nlohmann::json plain;
  try {
    instance = cqda::Json::parse(text);
    plain = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception&) {
    return 0;
  }
  for (const auto& validator : validators()) {
    // validate(Json) decides with the quick form when it passes and asks valijson otherwise;
    // validate(nlohmann::json) always asks valijson.
    if (validator.validate(instance).empty() != validator.validate(plain).empty()) __builtin_trap();
  }
  return 0;
}
