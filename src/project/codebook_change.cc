#include "project/codebook_change.h"

#include <algorithm>
#include <initializer_list>
#include <set>

#include "project/input.h"

namespace cqda::project {
namespace {

constexpr std::size_t kMaxMergeSources = 1000;
constexpr std::size_t kMaxChangelogText = 2000;  // schema: changelog[].change maxLength

// What one operation did to the document, besides editing it in place.
struct Edit {
  std::string description;  // ASCII: built from validated ids only
  Json summary = Json::object();
};

using Apply = Result<Edit> (*)(Json& doc, const codebook::Codebook& current, const Json& change,
                               PlannedChange& plan);

Status only_members(const Json& change, std::initializer_list<std::string_view> allowed) {
  for (const auto& [key, value] : change.items())
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
      return make_error("unknown member " + quote_text(key) + " for op " +
                        quote_text(change["op"].get<std::string>()));
  return {};
}

// The string member `key`; nullopt when absent, an error when present but not a string.
Result<std::optional<std::string>> optional_string(const Json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end()) return std::optional<std::string>();
  if (!it->is_string()) return make_error(std::string("\"") + key + "\" must be a string");
  return std::optional<std::string>(it->get<std::string>());
}

Result<std::string> required_string(const Json& object, const char* key) {
  Result<std::optional<std::string>> value = optional_string(object, key);
  if (!value) return value.error();
  if (!*value) return make_error(std::string("\"") + key + "\" is required");
  return **value;
}

Result<const codebook::Code*> existing_code(const codebook::Codebook& book, const std::string& id) {
  const codebook::Code* code = book.find(id);
  if (code == nullptr) return make_error("unknown code " + quote_text(id));
  return code;
}

Status new_id(const codebook::Codebook& book, const std::string& id) {
  if (!is_valid_code_id(id))
    return make_error("invalid id " + quote_text(id) +
                      ": 1-64 characters of a-z, 0-9 and '-', not starting with '-'");
  if (book.find(id) || book.find_category(id))
    return make_error("the id " + quote_text(id) + " is already used in the codebook");
  return {};
}

Json* find_code_in(Json& codes, std::string_view id) {
  for (Json& code : codes) {
    if (code.at("id").get_ref<const std::string&>() == id) return &code;
    if (code.contains("children"))
      if (Json* found = find_code_in(code["children"], id)) return found;
  }
  return nullptr;
}

// The code's object in the document; it exists because the Codebook was loaded from it.
Json& code_object(Json& doc, std::string_view id) {
  for (Json& category : doc["categories"])
    if (Json* found = find_code_in(category["codes"], id)) return *found;
  throw std::logic_error("codebook document lacks code " + std::string(id));
}

Result<Edit> apply_add(Json& doc, const codebook::Codebook& current, const Json& change,
                       PlannedChange&) {
  if (Status ok = only_members(change, {"op", "code", "category_id", "parent_id"}); !ok)
    return ok.error();
  auto code = change.find("code");
  if (code == change.end() || !code->is_object()) return make_error("\"code\" must be an object");
  Result<std::string> id = required_string(*code, "id");
  Result<std::optional<std::string>> category_id = optional_string(change, "category_id");
  Result<std::optional<std::string>> parent_id = optional_string(change, "parent_id");
  if (!id) return make_error("code: " + id.error().message);
  if (!category_id) return category_id.error();
  if (!parent_id) return parent_id.error();
  if (Status ok = new_id(current, *id); !ok) return ok.error();

  Edit edit{"added code " + *id, {{"code_id", *id}}};
  if (*parent_id) {
    Result<const codebook::Code*> parent = existing_code(current, **parent_id);
    if (!parent) return make_error("parent: " + parent.error().message);
    if (*category_id && **category_id != (*parent)->category_id)
      return make_error("parent code " + quote_text(**parent_id) + " is in category " +
                        quote_text((*parent)->category_id) + ", not " + quote_text(**category_id));
    Json& parent_code = code_object(doc, **parent_id);
    if (!parent_code.contains("children")) parent_code["children"] = Json::array();
    parent_code["children"].push_back(*code);
    edit.description += " under " + **parent_id;
    edit.summary["category_id"] = (*parent)->category_id;
    edit.summary["parent_id"] = **parent_id;
    return edit;
  }
  if (!*category_id) return make_error("\"category_id\" or \"parent_id\" is required");
  if (!current.find_category(**category_id))
    return make_error("unknown category " + quote_text(**category_id));
  for (Json& category : doc["categories"])
    if (category["id"] == **category_id) category["codes"].push_back(*code);
  edit.description += " in category " + **category_id;
  edit.summary["category_id"] = **category_id;
  return edit;
}

Result<Edit> apply_edit(Json& doc, const codebook::Codebook& current, const Json& change,
                        PlannedChange&) {
  static const std::set<std::string> kEditable = {
      "name", "definition", "inclusion", "exclusion", "examples", "keywords", "patterns", "color"};
  static const std::set<std::string> kRequired = {"name", "definition"};
  if (Status ok = only_members(change, {"op", "code_id", "fields"}); !ok) return ok.error();
  Result<std::string> id = required_string(change, "code_id");
  if (!id) return id.error();
  if (Result<const codebook::Code*> code = existing_code(current, *id); !code) return code.error();
  auto fields = change.find("fields");
  if (fields == change.end() || !fields->is_object() || fields->empty())
    return make_error("\"fields\" must be a non-empty object");
  Json& code = code_object(doc, *id);
  Edit edit{"edited code " + *id + ":", {{"code_id", *id}, {"fields", Json::array()}}};
  for (const auto& [key, value] : fields->items()) {
    if (!kEditable.count(key))
      return make_error("field " + quote_text(key) +
                        " cannot be edited (editable: name, definition, inclusion, exclusion, "
                        "examples, keywords, patterns, color; use rename or retire for id and "
                        "status)");
    if (value.is_null() && kRequired.count(key))
      return make_error("field \"" + key + "\" is required and cannot be removed");
    if (value.is_null())
      code.erase(key);
    else
      code[key] = value;
    edit.description += " " + key;
    edit.summary["fields"].push_back(key);
  }
  return edit;
}

Result<Edit> apply_rename(Json& doc, const codebook::Codebook& current, const Json& change,
                          PlannedChange& plan) {
  if (Status ok = only_members(change, {"op", "code_id", "new_id", "name"}); !ok) return ok.error();
  Result<std::string> id = required_string(change, "code_id");
  Result<std::string> renamed = required_string(change, "new_id");
  Result<std::optional<std::string>> name = optional_string(change, "name");
  if (!id) return id.error();
  if (!renamed) return renamed.error();
  if (!name) return name.error();
  if (Result<const codebook::Code*> code = existing_code(current, *id); !code) return code.error();
  if (Status ok = new_id(current, *renamed); !ok) return ok.error();
  Json& code = code_object(doc, *id);
  code["id"] = *renamed;
  if (*name) code["name"] = **name;
  plan.move_from = {*id};
  plan.move_to = *renamed;
  plan.move = CodingMove::kRename;
  return Edit{"renamed code " + *id + " to " + *renamed, {{"code_id", *id}, {"new_id", *renamed}}};
}

Result<Edit> apply_merge(Json& doc, const codebook::Codebook& current, const Json& change,
                         PlannedChange& plan) {
  if (Status ok = only_members(change, {"op", "from", "into"}); !ok) return ok.error();
  Result<std::string> into = required_string(change, "into");
  if (!into) return into.error();
  Result<const codebook::Code*> target = existing_code(current, *into);
  if (!target) return make_error("into: " + target.error().message);
  if ((*target)->retired)
    return make_error("cannot merge into the retired code " + quote_text(*into));
  auto from = change.find("from");
  if (from == change.end() || !from->is_array() || from->empty() || from->size() > kMaxMergeSources)
    return make_error("\"from\" must be an array of 1 to " + std::to_string(kMaxMergeSources) +
                      " code ids");
  std::vector<std::string> sources;
  for (const Json& item : *from) {
    if (!item.is_string()) return make_error("\"from\" must hold code ids (strings)");
    std::string id = item.get<std::string>();
    if (Result<const codebook::Code*> code = existing_code(current, id); !code)
      return make_error("from: " + code.error().message);
    if (id == *into) return make_error("cannot merge code " + quote_text(id) + " into itself");
    if (std::find(sources.begin(), sources.end(), id) != sources.end())
      return make_error("code " + quote_text(id) + " is listed twice in \"from\"");
    sources.push_back(id);
  }
  Edit edit{"merged", {{"from", sources}, {"into", *into}}};
  for (std::size_t i = 0; i < sources.size(); ++i) {
    code_object(doc, sources[i])["status"] = "retired";
    edit.description += (i == 0 ? " " : ", ") + sources[i];
  }
  edit.description += " into " + *into + " (merged codes retired)";
  plan.move = CodingMove::kMerge;
  plan.move_from = sources;
  plan.move_to = *into;
  return edit;
}

Result<Edit> apply_retire(Json& doc, const codebook::Codebook& current, const Json& change,
                          PlannedChange&) {
  if (Status ok = only_members(change, {"op", "code_id"}); !ok) return ok.error();
  Result<std::string> id = required_string(change, "code_id");
  if (!id) return id.error();
  Result<const codebook::Code*> code = existing_code(current, *id);
  if (!code) return code.error();
  if ((*code)->retired) return make_error("code " + quote_text(*id) + " is already retired");
  code_object(doc, *id)["status"] = "retired";
  return Edit{"retired code " + *id, {{"code_id", *id}}};
}

Result<Edit> apply_add_category(Json& doc, const codebook::Codebook& current, const Json& change,
                                PlannedChange&) {
  if (Status ok = only_members(change, {"op", "category"}); !ok) return ok.error();
  auto category = change.find("category");
  if (category == change.end() || !category->is_object())
    return make_error("\"category\" must be an object");
  Result<std::string> id = required_string(*category, "id");
  if (!id) return make_error("category: " + id.error().message);
  if (Status ok = new_id(current, *id); !ok) return ok.error();
  Json added = *category;
  if (!added.contains("codes")) added["codes"] = Json::array();
  doc["categories"].push_back(std::move(added));
  return Edit{"added category " + *id, {{"category_id", *id}}};
}

struct Operation {
  std::string_view name;
  Apply apply;
};

// Every operation a change may name; anything else is refused.
constexpr Operation kOperations[] = {
    {"add", apply_add},     {"edit", apply_edit},     {"rename", apply_rename},
    {"merge", apply_merge}, {"retire", apply_retire}, {"add_category", apply_add_category},
};

}  // namespace

Result<std::string> codebook_document_text(const Json& document) {
  try {
    return document.dump(2) + "\n";
  } catch (const Json::exception&) {
    return make_error("the codebook holds text that is not valid UTF-8");
  }
}

bool is_valid_code_id(std::string_view id) {
  if (id.empty() || id.size() > 64 || id[0] == '-') return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

Result<PlannedChange> plan_codebook_change(const codebook::Codebook& current, const Json& change,
                                           std::string_view author, std::string_view time) {
  if (!change.is_object()) return make_error("a codebook change must be a JSON object");
  Result<std::string> op = required_string(change, "op");
  if (!op) return op.error();
  const Operation* operation = nullptr;
  for (const Operation& candidate : kOperations)
    if (candidate.name == *op) operation = &candidate;
  if (operation == nullptr)
    return make_error("unknown op " + quote_text(*op) +
                      " (known: add, edit, rename, merge, retire, add_category)");
  if (current.version >= 2147483647) return make_error("the codebook version cannot grow further");

  PlannedChange plan;
  Json doc = current.document;
  Result<Edit> edit = operation->apply(doc, current, change, plan);
  if (!edit) return make_error("codebook " + *op + ": " + edit.error().message);
  const int version = current.version + 1;
  std::string description = edit->description.substr(0, kMaxChangelogText);
  doc["version"] = version;
  if (!doc.contains("changelog")) doc["changelog"] = Json::array();
  doc["changelog"].push_back(
      {{"version", version}, {"change", description}, {"by", author}, {"time", time}});

  Result<std::string> text = codebook_document_text(doc);
  if (!text) return make_error("codebook " + *op + ": " + text.error().message);
  Result<codebook::Codebook> book =
      codebook::load_codebook_text(*text, "codebook version " + std::to_string(version));
  if (!book)
    return make_error("codebook " + *op +
                      " refused, the codebook would become invalid: " + book.error().message);
  plan.codebook = std::move(book).value();
  plan.text = std::move(text).value();
  plan.summary = Json{{"op", *op}};
  plan.summary.update(edit->summary);
  plan.summary["change"] = description;
  return plan;
}

}  // namespace cqda::project
