#include "common/csv.h"

#include <array>

namespace cqda::csv {
namespace {

std::string at_line(std::size_t line) { return "line " + std::to_string(line) + ": "; }

}  // namespace

Result<std::vector<Record>> parse(std::string_view text, const Limits& limits) {
  std::vector<Record> records;
  Record record;
  std::string field;
  std::size_t line = 1;
  bool quoted = false, was_quoted = false, any = false;
  auto end_field = [&]() -> Status {
    record.fields.push_back(std::move(field));
    field.clear();
    was_quoted = false;
    if (record.fields.size() > limits.max_columns)
      return make_error(at_line(record.line) + "more than " + std::to_string(limits.max_columns) + " columns");
    return {};
  };
  auto end_record = [&]() -> Status {
    if (auto st = end_field(); !st) return st;
    const bool blank = record.fields.size() == 1 && record.fields[0].empty();
    if (!blank) records.push_back(std::move(record));
    record = Record{};
    any = false;
    if (records.size() > limits.max_rows) return make_error("more than " + std::to_string(limits.max_rows) + " rows");
    return {};
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field.push_back('"');
          ++i;
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') ++line;
        field.push_back(c);
      }
      continue;
    }
    if (!any) {
      record.line = line;
      any = true;
    }
    if (c == '"') {
      if (!field.empty() || was_quoted)
        return make_error(at_line(line) + "a quote inside an unquoted field (quote the whole field and double the quote)");
      quoted = was_quoted = true;
    } else if (c == ',') {
      if (auto st = end_field(); !st) return st.error();
    } else if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      // CRLF: the LF ends the record.
    } else if (c == '\n') {
      if (auto st = end_record(); !st) return st.error();
      ++line;
    } else {
      if (was_quoted) return make_error(at_line(line) + "text after a closing quote");
      field.push_back(c);
    }
  }
  if (quoted) return make_error(at_line(record.line) + "a quoted field is never closed");
  if (any) {
    if (auto st = end_record(); !st) return st.error();
  }
  return records;
}

std::string escape(std::string_view field) {
  std::string out;
  append_escaped(out, field);
  return out;
}

namespace {

// True when a field needs quotes. A table scan: find_first_of with a set of four looks each
// byte up with a call of its own, and codings.csv runs to tens of megabytes.
bool needs_quotes(std::string_view field) {
  static constexpr auto kSpecial = [] {
    std::array<bool, 256> t{};
    t[','] = t['"'] = t['\r'] = t['\n'] = true;
    return t;
  }();
  for (unsigned char c : field)
    if (kSpecial[c]) return true;
  return false;
}

}  // namespace

void append_escaped(std::string& out, std::string_view field) {
  if (!needs_quotes(field)) {
    out += field;
    return;
  }
  out += '"';
  for (std::size_t at = 0;;) {
    const std::size_t quote = field.find('"', at);
    out += field.substr(at, quote == std::string_view::npos ? std::string_view::npos : quote + 1 - at);
    if (quote == std::string_view::npos) break;
    out += '"';  // a quote inside is doubled
    at = quote + 1;
  }
  out += '"';
}

std::string format_row(const Row& row) {
  std::string out;
  for (std::size_t i = 0; i < row.size(); ++i) {
    if (i) out.push_back(',');
    out += escape(row[i]);
  }
  out.push_back('\n');
  return out;
}

}  // namespace cqda::csv
