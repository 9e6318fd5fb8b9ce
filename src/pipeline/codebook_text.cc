#include "pipeline/codebook_text.h"

#include "common/utf8.h"

namespace cqda::pipeline {

codebook::Codebook anonymize_codebook(const codebook::Codebook& codebook, anonymize::Anonymizer& anonymizer,
                                      std::map<std::string, std::size_t>& counts) {
  // Documents are NFC by the time they are anonymized; the codebook must be too, or a name
  // written with combining marks would not match the roster.
  auto anonymized = [&](const std::string& text) { return anonymizer.anonymize(utf8::to_nfc(text)); };
  auto clean = [&](std::string& text) {
    if (text.empty()) return;
    anonymize::AnonymizedText a = anonymized(text);
    text = std::move(a.text);
    for (const auto& [key, n] : a.counts) counts[key] += n;
  };
  // The JSON document is anonymized without counting: the same texts as the fields below.
  auto clean_json = [&](Json& object, const char* key) {
    auto it = object.find(key);
    if (it == object.end()) return;
    if (it->is_string()) {
      *it = anonymized(it->get<std::string>()).text;
    } else if (it->is_array()) {
      for (Json& item : *it)
        if (item.is_string()) item = anonymized(item.get<std::string>()).text;
    }
  };
  auto clean_code_json = [&](auto& self, Json& code) -> void {
    if (!code.is_object()) return;
    for (const char* key : {"name", "definition", "inclusion", "exclusion", "examples", "keywords"}) clean_json(code, key);
    if (auto children = code.find("children"); children != code.end() && children->is_array())
      for (Json& child : *children) self(self, child);
  };

  codebook::Codebook out = codebook;
  clean(out.name);
  clean(out.description);
  for (auto& category : out.categories) {
    clean(category.name);
    clean(category.description);
  }
  for (auto& code : out.codes) {
    clean(code.name);
    clean(code.definition);
    for (auto* list : {&code.inclusion, &code.exclusion, &code.examples, &code.keywords})
      for (std::string& item : *list) clean(item);
  }
  if (out.document.is_object()) {
    clean_json(out.document, "name");
    clean_json(out.document, "description");
    if (auto changelog = out.document.find("changelog"); changelog != out.document.end() && changelog->is_array())
      for (Json& entry : *changelog)
        if (entry.is_object()) {
          clean_json(entry, "change");
          clean_json(entry, "by");
        }
    if (auto categories = out.document.find("categories"); categories != out.document.end() && categories->is_array()) {
      for (Json& category : *categories) {
        if (!category.is_object()) continue;
        clean_json(category, "name");
        clean_json(category, "description");
        if (auto codes = category.find("codes"); codes != category.end() && codes->is_array())
          for (Json& code : *codes) clean_code_json(clean_code_json, code);
      }
    }
  }
  return out;
}

}  // namespace cqda::pipeline
