#include "ingest/csv_parser.h"

#include <array>

#include "common/utf8.h"
#include "segment/text_lines.h"

namespace cqda::ingest {
namespace {

constexpr std::size_t kOpenEndedLength = 40;
constexpr std::size_t kOpenEndedWords = 5;

using Row = std::vector<std::string>;

char detect_delimiter(std::string_view text) {
  std::array<std::size_t, 3> counts{};
  constexpr std::array<char, 3> kCandidates{',', ';', '\t'};
  bool quoted = false;
  for (char c : text) {
    if (c == '"') quoted = !quoted;
    if (!quoted && c == '\n') break;
    for (std::size_t k = 0; k < kCandidates.size(); ++k)
      if (!quoted && c == kCandidates[k]) ++counts[k];
  }
  std::size_t best = 0;
  for (std::size_t k = 1; k < kCandidates.size(); ++k)
    if (counts[k] > counts[best]) best = k;
  return kCandidates[best];
}

// Reads one record at a time, so memory holds one row however large the file is.
class CsvReader {
 public:
  CsvReader(std::string_view text, char delimiter) : text_(text), delimiter_(delimiter) {}

  // Fills `row`; false at the end of the input.
  Result<bool> next(Row& row) {
    row.clear();
    if (pos_ >= text_.size()) return false;
    record_line_ = line_;
    while (true) {
      if (row.size() >= kMaxCsvColumns)
        return error("more than " + std::to_string(kMaxCsvColumns) + " columns");
      Result<char> end = read_field(row.emplace_back());
      if (!end) return end.error();
      if (*end != delimiter_) return true;  // '\n' or end of input
    }
  }

  std::size_t record_line() const { return record_line_; }

 private:
  Error error(const std::string& what) const {
    return make_error("line " + std::to_string(line_) + ": " + what);
  }

  // Reads a field and its terminator; returns the terminator ('\0' at the end of input).
  Result<char> read_field(std::string& field) {
    if (pos_ < text_.size() && text_[pos_] == '"') return read_quoted(field);
    while (pos_ < text_.size()) {
      char c = text_[pos_++];
      if (c == delimiter_) return c;
      if (c == '\n') return end_line();
      field.push_back(c);
    }
    return '\0';
  }

  Result<char> read_quoted(std::string& field) {
    std::size_t opened_at = line_;
    ++pos_;
    while (pos_ < text_.size()) {
      char c = text_[pos_++];
      if (c == '\n') ++line_;
      if (c != '"') {
        field.push_back(c);
        continue;
      }
      if (pos_ < text_.size() && text_[pos_] == '"') {
        field.push_back('"');
        ++pos_;
        continue;
      }
      if (pos_ == text_.size()) return '\0';
      char next = text_[pos_++];
      if (next == delimiter_) return next;
      if (next == '\n') return end_line();
      return error("unexpected character after a closing quote");
    }
    return make_error("line " + std::to_string(opened_at) + ": unterminated quoted field");
  }

  char end_line() {
    ++line_;
    return '\n';
  }

  std::string_view text_;
  char delimiter_;
  std::size_t pos_ = 0;
  std::size_t line_ = 1;
  std::size_t record_line_ = 1;
};

bool is_empty_row(const Row& row) {
  for (const std::string& field : row)
    if (!segment::is_blank(field)) return false;
  return true;
}

std::size_t respondent_column(const Row& header) {
  constexpr std::array<std::string_view, 6> kNames{"respondent", "participant",   "case",
                                                   "id",         "respondent_id", "participant_id"};
  for (std::size_t c = 0; c < header.size(); ++c) {
    std::string name = utf8::to_lower(segment::trim(header[c]));
    for (char& ch : name)
      if (ch == ' ' || ch == '-') ch = '_';
    for (std::string_view known : kNames)
      if (name == known) return c;
  }
  return 0;
}

std::size_t word_count(std::string_view text) {
  std::size_t words = 0;
  bool in_word = false;
  for (char c : text) {
    bool space = c == ' ' || c == '\t' || c == '\n';
    if (!space && !in_word) ++words;
    in_word = !space;
  }
  return words;
}

struct ColumnStats {
  std::size_t non_empty = 0;
  std::size_t longest = 0;
  std::size_t wordy = 0;  // values with kOpenEndedWords words or more
  bool open_ended() const {
    return non_empty > 0 && (longest > kOpenEndedLength || 2 * wordy >= non_empty);
  }
};

// Reads the data rows after the header, checking shape and bounds, and calls visit(row, n).
template <typename Visit>
Status for_each_row(std::string_view text, char delimiter, std::size_t columns, Visit visit) {
  CsvReader reader(text, delimiter);
  Row row;
  std::size_t data_rows = 0;
  bool header = true;
  while (true) {
    Result<bool> more = reader.next(row);
    if (!more) return more.error();
    if (!*more) return {};
    if (header) {
      header = false;
      continue;
    }
    if (is_empty_row(row)) continue;
    if (row.size() > columns)
      return make_error("line " + std::to_string(reader.record_line()) + ": " +
                        std::to_string(row.size()) + " fields, but the header has " +
                        std::to_string(columns));
    if (++data_rows > kMaxCsvRows)
      return make_error("more than " + std::to_string(kMaxCsvRows) + " rows");
    row.resize(columns);
    visit(row, data_rows);
  }
}

}  // namespace

Result<std::vector<Segment>> parse_csv(std::string_view text) {
  const char delimiter = detect_delimiter(text);
  Row header;
  CsvReader header_reader(text, delimiter);
  Result<bool> has_header = header_reader.next(header);
  if (!has_header) return has_header.error();
  if (!*has_header) return std::vector<Segment>{};
  for (std::size_t c = 0; c < header.size(); ++c) {
    header[c] = std::string(segment::trim(header[c]));
    if (header[c].empty()) header[c] = "column " + std::to_string(c + 1);
  }
  const std::size_t id_column = respondent_column(header);

  std::vector<ColumnStats> stats(header.size());
  Status scanned = for_each_row(text, delimiter, header.size(), [&](const Row& row, std::size_t) {
    for (std::size_t c = 0; c < row.size(); ++c) {
      std::string_view value = segment::trim(row[c]);
      if (value.empty()) continue;
      ++stats[c].non_empty;
      stats[c].longest = std::max(stats[c].longest, utf8::length(value));
      if (word_count(value) >= kOpenEndedWords) ++stats[c].wordy;
    }
  });
  if (!scanned) return scanned.error();

  std::vector<Segment> segments;
  Status emitted = for_each_row(text, delimiter, header.size(), [&](const Row& row, std::size_t n) {
    std::string id(segment::trim(row[id_column]));
    if (id.empty()) id = "row " + std::to_string(n);
    for (std::size_t c = 0; c < row.size(); ++c) {
      std::string_view value = segment::trim(row[c]);
      if (c == id_column || !stats[c].open_ended() || value.empty()) continue;
      Segment segment;
      segment.speaker = id;
      segment.field = header[c];
      segment.text = std::string(value);
      segments.push_back(std::move(segment));
    }
  });
  if (!emitted) return emitted.error();
  return segments;
}

}  // namespace cqda::ingest
