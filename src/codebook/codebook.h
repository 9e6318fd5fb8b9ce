// The codebook (schemas/codebook.schema.json): categories of codes, codes with child codes,
// definitions, inclusion/exclusion criteria, examples, and keywords or RE2 patterns for the
// offline coder. A Codebook value is always valid: only load_codebook_* produce one.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/json.h"
#include "common/result.h"

namespace cqda::codebook {

struct Code {
  std::string id;
  std::string name;
  std::string definition;
  std::vector<std::string> inclusion;
  std::vector<std::string> exclusion;
  std::vector<std::string> examples;
  std::vector<std::string> keywords;
  std::vector<std::string> patterns;  // RE2, checked at load
  std::string color;                  // "#rrggbb" or ""
  bool retired = false;
  std::string category_id;
  std::string parent_id;  // "" for a top-level code of its category
  int depth = 0;          // 0 for top-level codes
};

struct Category {
  std::string id;
  std::string name;
  std::string description;
};

struct Codebook {
  std::string name;
  std::string description;
  int version = 1;
  std::vector<Category> categories;
  std::vector<Code> codes;  // every code, depth-first in file order
  Json document;            // the validated source document
  std::string sha256;       // of the file's bytes

  const Code* find(std::string_view id) const;
  const Category* find_category(std::string_view id) const;
  // Path of names from the category down: "Working conditions > Workload > Night shifts".
  std::string path_of(const Code& code) const;
};

// Parses, validates against the schema and checks unique ids and RE2 patterns. On failure
// the Error lists every violation with its JSON pointer, one per line.
Result<Codebook> load_codebook_text(std::string_view text, std::string_view file_name);
Result<Codebook> load_codebook_file(const std::string& path);

}  // namespace cqda::codebook
