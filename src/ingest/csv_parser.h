// Survey exports (.csv): each open-ended answer becomes a segment.
#pragma once

#include <string_view>
#include <vector>

#include "common/document.h"
#include "common/result.h"

namespace cqda::ingest {

inline constexpr std::size_t kMaxCsvColumns = 1000;
inline constexpr std::size_t kMaxCsvRows = 1000000;

// `text` is normalized (text_normalize.h). RFC 4180: quoted fields with doubled quotes and
// embedded newlines and delimiters. The delimiter is ',' unless the header line has more ';'
// or tabs (European spreadsheet exports, TSV). The first row is the header.
//   * The respondent column is the first whose header, lowercased with spaces and '-' read as
//     '_', is respondent, participant, case, id, respondent_id or participant_id; otherwise
//     the first column. An empty id becomes "row N" (N counts data rows from 1).
//   * A column is open-ended when its longest value has more than 40 code points, or when at
//     least half of its non-empty values have five words or more. Closed answers (scales,
//     dates, yes/no, codes) are short and few-worded; free text is neither.
//   * Each non-empty open-ended value is a segment: speaker = respondent id, field = header.
//     Segments run respondent by respondent, columns left to right.
// Errors: an unterminated quote, a character after a closing quote, a row with more fields
// than the header, more than kMaxCsvColumns columns or kMaxCsvRows rows; each names the line.
Result<std::vector<Segment>> parse_csv(std::string_view text);

}  // namespace cqda::ingest
