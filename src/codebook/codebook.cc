#include "codebook/codebook.h"

#include <re2/re2.h>

#include <map>

#include "common/files.h"
#include "common/hash.h"
#include "resources/resources.h"

namespace cqda::codebook {
namespace {

const Json& schema() {
  static const Json parsed = Json::parse(resources::get("schemas/codebook.schema.json"));
  return parsed;
}

std::vector<std::string> strings(const Json& object, const char* key) {
  std::vector<std::string> out;
  if (object.contains(key))
    for (const auto& s : object[key]) out.push_back(s.get<std::string>());
  return out;
}

struct Walker {
  Codebook& book;
  std::map<std::string, std::string> seen;  // id -> pointer of its first use
  std::vector<SchemaViolation>& violations;

  void note_id(const std::string& id, const std::string& pointer) {
    auto [it, inserted] = seen.emplace(id, pointer);
    if (!inserted) violations.push_back({pointer + "/id", "duplicate id \"" + id + "\" (first used at " + it->second + ")"});
  }

  void code(const Json& c, const std::string& pointer, const std::string& category, const std::string& parent, int depth) {
    Code out;
    out.id = c["id"].get<std::string>();
    out.name = c["name"].get<std::string>();
    out.definition = c["definition"].get<std::string>();
    out.inclusion = strings(c, "inclusion");
    out.exclusion = strings(c, "exclusion");
    out.examples = strings(c, "examples");
    out.keywords = strings(c, "keywords");
    out.patterns = strings(c, "patterns");
    out.color = c.value("color", std::string());
    out.retired = c.value("status", std::string("active")) == "retired";
    out.category_id = category;
    out.parent_id = parent;
    out.depth = depth;
    note_id(out.id, pointer);
    for (std::size_t i = 0; i < out.patterns.size(); ++i) {
      RE2::Options options;
      options.set_log_errors(false);
      RE2 re(out.patterns[i], options);
      std::string at = pointer + "/patterns/" + std::to_string(i);
      if (!re.ok()) violations.push_back({at, "not a valid RE2 pattern: " + re.error()});
      else if (RE2::FullMatch("", re)) violations.push_back({at, "pattern matches the empty string"});
    }
    std::string id = out.id;
    book.codes.push_back(std::move(out));
    if (c.contains("children")) {
      for (std::size_t i = 0; i < c["children"].size(); ++i)
        code(c["children"][i], pointer + "/children/" + std::to_string(i), category, id, depth + 1);
    }
  }
};

}  // namespace

const Code* Codebook::find(std::string_view id) const {
  for (const auto& c : codes)
    if (c.id == id) return &c;
  return nullptr;
}

const Category* Codebook::find_category(std::string_view id) const {
  for (const auto& c : categories)
    if (c.id == id) return &c;
  return nullptr;
}

std::string Codebook::path_of(const Code& code) const {
  std::string path = code.name;
  for (const Code* parent = find(code.parent_id); parent; parent = find(parent->parent_id))
    path = parent->name + " > " + path;
  if (const Category* category = find_category(code.category_id)) path = category->name + " > " + path;
  return path;
}

Result<Codebook> load_codebook_text(std::string_view text, std::string_view file_name) {
  auto parsed = parse_json(text, file_name, JsonLimits{16u << 20, 48, false});
  if (!parsed) return parsed.error();
  std::vector<SchemaViolation> violations = validate_against_schema(schema(), *parsed);
  Codebook book;
  if (violations.empty()) {
    const Json& doc = *parsed;
    book.name = doc["name"].get<std::string>();
    book.description = doc.value("description", std::string());
    book.version = doc["version"].get<int>();
    Walker walker{book, {}, violations};
    for (std::size_t i = 0; i < doc["categories"].size(); ++i) {
      const Json& cat = doc["categories"][i];
      std::string pointer = "/categories/" + std::to_string(i);
      book.categories.push_back({cat["id"].get<std::string>(), cat["name"].get<std::string>(),
                                 cat.value("description", std::string())});
      walker.note_id(book.categories.back().id, pointer);
      for (std::size_t j = 0; j < cat["codes"].size(); ++j)
        walker.code(cat["codes"][j], pointer + "/codes/" + std::to_string(j), book.categories.back().id, "", 0);
    }
    if (book.codes.empty()) violations.push_back({"/categories", "the codebook has no codes"});
  }
  if (!violations.empty()) {
    return make_error(std::string(file_name) + ": the codebook is invalid (" +
                      std::to_string(violations.size()) + " violation" +
                      (violations.size() == 1 ? "" : "s") + "):\n" + format_violations(violations));
  }
  book.document = std::move(parsed).value();
  book.sha256 = sha256_hex(text);
  return book;
}

Result<Codebook> load_codebook_file(const std::string& path) {
  auto text = read_file(path, 16u << 20);
  if (!text) return make_error("cannot read the codebook: " + text.error().message);
  return load_codebook_text(*text, path);
}

}  // namespace cqda::codebook
