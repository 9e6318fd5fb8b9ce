#include "anonymize/roster.h"

#include <map>
#include <set>

#include "common/csv.h"
#include "common/utf8.h"

namespace cqda::anonymize {
namespace {

std::string line_prefix(std::size_t line) { return "roster line " + std::to_string(line) + ": "; }

std::string trim(std::string_view s) {
  const char* ws = " \t\r\n";
  const auto b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  const auto e = s.find_last_not_of(ws);
  return std::string(s.substr(b, e - b + 1));
}

}  // namespace

Result<Roster> parse_roster_csv(std::string_view text, const RosterLimits& limits) {
  if (text.size() > limits.max_bytes)
    return make_error("roster: " + std::to_string(text.size()) + " bytes is more than the limit of " +
                      std::to_string(limits.max_bytes));
  if (auto bad = utf8::first_invalid_byte(text))
    return make_error("roster: invalid UTF-8 at byte " + std::to_string(*bad));
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  auto rows = csv::parse(text, csv::Limits{limits.max_entries + 1, 100});
  if (!rows) return make_error("roster " + rows.error().message);
  if (rows->empty()) return make_error("roster: empty file (expected the header name,aliases,type)");

  // Header: which column holds what.
  int col_name = -1, col_aliases = -1, col_type = -1, col_pseudonym = -1;
  const csv::Record& header = rows->front();
  for (std::size_t i = 0; i < header.fields.size(); ++i) {
    const std::string h = utf8::to_lower(trim(header.fields[i]));
    int* slot = h == "name" ? &col_name : h == "aliases" ? &col_aliases
              : h == "type" ? &col_type : h == "pseudonym" ? &col_pseudonym : nullptr;
    if (!slot) return make_error(line_prefix(header.line) + "unknown column '" + h + "' (expected name, aliases, type, pseudonym)");
    if (*slot >= 0) return make_error(line_prefix(header.line) + "column '" + h + "' appears twice");
    *slot = static_cast<int>(i);
  }
  if (col_name < 0 || col_aliases < 0 || col_type < 0)
    return make_error(line_prefix(header.line) + "the header must name the columns name, aliases and type");
  if (rows->size() - 1 > limits.max_entries)
    return make_error("roster: more than " + std::to_string(limits.max_entries) + " entries");

  Roster roster;
  std::map<std::string, std::size_t> seen_names;  // lowercased name/alias -> line
  std::set<std::string> seen_pseudonyms;
  for (std::size_t r = 1; r < rows->size(); ++r) {
    const csv::Record& row = (*rows)[r];
    const std::string where = line_prefix(row.line);
    if (row.fields.size() != header.fields.size())
      return make_error(where + std::to_string(row.fields.size()) + " fields, the header has " +
                        std::to_string(header.fields.size()));
    auto field = [&](int col) { return col < 0 ? std::string() : utf8::to_nfc(trim(row.fields[static_cast<std::size_t>(col)])); };
    RosterEntry entry;
    entry.line = row.line;
    entry.name = field(col_name);
    if (entry.name.empty()) return make_error(where + "the name is empty");
    const std::string type = utf8::to_lower(field(col_type));
    if (type.empty() || type == "person") entry.type = policy::EntityType::kPerson;
    else if (type == "place") entry.type = policy::EntityType::kPlace;
    else if (type == "org" || type == "organisation" || type == "organization") entry.type = policy::EntityType::kOrg;
    else return make_error(where + "unknown type '" + type + "' (expected person, place or org)");
    const std::string aliases = field(col_aliases);
    std::size_t start = 0;
    while (start <= aliases.size()) {
      std::size_t end = aliases.find(';', start);
      if (end == std::string::npos) end = aliases.size();
      std::string alias = trim(std::string_view(aliases).substr(start, end - start));
      if (!alias.empty() && alias != entry.name) entry.aliases.push_back(std::move(alias));
      start = end + 1;
    }
    if (entry.aliases.size() > limits.max_aliases)
      return make_error(where + "more than " + std::to_string(limits.max_aliases) + " aliases");
    entry.pseudonym = field(col_pseudonym);
    std::vector<std::string> forms = entry.aliases;
    forms.push_back(entry.name);
    for (const std::string& form : forms) {
      if (utf8::length(form) > limits.max_field_chars)
        return make_error(where + "a name or alias longer than " + std::to_string(limits.max_field_chars) + " characters");
      bool has_letter_or_digit = false;
      for (std::size_t pos = 0; pos < form.size();) {
        char32_t cp = utf8::decode(form, pos);
        if (utf8::is_letter(cp) || utf8::is_digit(cp)) has_letter_or_digit = true;
      }
      if (!has_letter_or_digit) return make_error(where + "'" + form + "' has no letter or digit");
      auto [it, fresh] = seen_names.emplace(utf8::to_lower(form), row.line);
      if (!fresh && it->second != row.line)
        return make_error(where + "'" + form + "' is also on line " + std::to_string(it->second) +
                          " (a name or alias must belong to one entry)");
    }
    if (!entry.pseudonym.empty() && !seen_pseudonyms.insert(entry.pseudonym).second)
      return make_error(where + "the pseudonym '" + entry.pseudonym + "' is used by another entry");
    roster.entries.push_back(std::move(entry));
  }
  return roster;
}

}  // namespace cqda::anonymize
