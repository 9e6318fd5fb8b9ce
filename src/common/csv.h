// RFC 4180 CSV: quoted fields, doubled quotes, embedded commas and line breaks. Strict: a
// quote inside an unquoted field, or text after a closing quote, is an error.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace cqda::csv {

struct Limits {
  std::size_t max_rows = 1000000;
  std::size_t max_columns = 1000;
};

using Row = std::vector<std::string>;

struct Record {
  Row fields;
  std::size_t line = 0;  // 1-based line the record starts on
};

// Parses the whole text (LF or CRLF line ends); blank lines are skipped. Errors name the
// 1-based line: "line 14: a quoted field is never closed".
Result<std::vector<Record>> parse(std::string_view text, const Limits& limits = {});

// Quotes a field when it holds a comma, quote, CR or LF.
std::string escape(std::string_view field);
// The same, appended to `out`.
void append_escaped(std::string& out, std::string_view field);
std::string format_row(const Row& row);  // ends with "\n"

}  // namespace cqda::csv
