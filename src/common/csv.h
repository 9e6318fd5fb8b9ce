// RFC 4180 CSV: quoted fields, doubled quotes, embedded commas and line breaks.
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

// Parses the whole text (LF or CRLF line ends). Errors name the 1-based line:
// "line 14: unterminated quoted field".
Result<std::vector<Row>> parse(std::string_view text, const Limits& limits = {});

// Quotes a field when it holds a comma, quote, CR or LF.
std::string escape(std::string_view field);
std::string format_row(const Row& row);  // ends with "\n"

}  // namespace cqda::csv
