#include "common/csv.h"

namespace cqda::csv {

Result<std::vector<Row>> parse(std::string_view text, const Limits& limits) {
  std::vector<Row> rows;
  Row row;
  std::string field;
  std::size_t line = 1, row_line = 1;
  bool quoted = false, field_started = false, after_quote = false;
  auto end_field = [&]() -> bool {
    row.push_back(std::move(field));
    field.clear();
    field_started = after_quote = false;
    return row.size() <= limits.max_columns;
  };
  auto end_row = [&]() {
    if (!(row.size() == 1 && row[0].empty())) rows.push_back(std::move(row));  // skip blank lines
    row.clear();
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field.push_back('"');
          ++i;
        } else {
          quoted = false;
          after_quote = true;
        }
      } else {
        if (c == '\n') ++line;
        field.push_back(c);
      }
      continue;
    }
    if (c == ',') {
      if (!end_field()) return make_error("line " + std::to_string(row_line) + ": more than " + std::to_string(limits.max_columns) + " columns");
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      if (!end_field()) return make_error("line " + std::to_string(row_line) + ": more than " + std::to_string(limits.max_columns) + " columns");
      end_row();
      if (rows.size() > limits.max_rows) return make_error("more than " + std::to_string(limits.max_rows) + " rows");
      row_line = ++line;
    } else if (c == '"' && !field_started) {
      quoted = true;
      field_started = true;
    } else if (after_quote) {
      return make_error("line " + std::to_string(line) + ": unexpected character after a closing quote");
    } else {
      field.push_back(c);
      field_started = true;
    }
  }
  if (quoted) return make_error("line " + std::to_string(row_line) + ": unterminated quoted field");
  if (field_started || !row.empty()) {
    if (!end_field()) return make_error("line " + std::to_string(row_line) + ": too many columns");
    end_row();
  }
  if (rows.size() > limits.max_rows) return make_error("more than " + std::to_string(limits.max_rows) + " rows");
  return rows;
}

std::string escape(std::string_view field) {
  if (field.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(field);
  std::string out = "\"";
  for (char c : field) {
    if (c == '"') out += "\"\"";
    else out.push_back(c);
  }
  out += '"';
  return out;
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
