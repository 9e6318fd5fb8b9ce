#include "pipeline/codebook_text.h"

namespace cqda::pipeline {

codebook::Codebook anonymize_codebook(const codebook::Codebook& codebook, anonymize::Anonymizer& anonymizer,
                                      std::map<std::string, std::size_t>& counts) {
  auto clean = [&](std::string& text) {
    if (text.empty()) return;
    anonymize::AnonymizedText a = anonymizer.anonymize(text);
    text = std::move(a.text);
    for (const auto& [key, n] : a.counts) counts[key] += n;
  };
  // The JSON document is anonymized without counting: the same texts as the fields below.
  auto clean_json = [&](Json& object, const char* key) {
    auto it = object.find(key);
    if (it == object.end()) return;
    if (it->is_string()) {
      *it = anonymizer.anonymize(it->get<std::string>()).text;
    } else if (it->is_array()) {
      for (Json& item : *it)
        if (item.is_string()) item = anonymizer.anonymize(item.get<std::string>()).text;
    }
  };
  auto clean_code_json = [&](auto& self, Json& code) -> void {
    if (!code.is_object()) return;
    for (const char* key : {"name", "definition", "inclusion", "exclusion", "examples"}) clean_json(code, key);
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
    for (auto* list : {&code.inclusion, &code.exclusion, &code.examples})
      for (std::string& item : *list) clean(item);
  }
  if (out.document.is_object()) {
    clean_json(out.document, "name");
    clean_json(out.document, "description");
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
