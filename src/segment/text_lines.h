// Small text helpers shared by the parsers and the segmenter. All input is normalized text
// (valid UTF-8, NFC, LF line endings; see ingest/text_normalize.h).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace cqda::segment {

// Splits on '\n'. A trailing '\n' does not produce an extra empty line.
std::vector<std::string_view> split_lines(std::string_view text);

// Removes leading and trailing whitespace: ASCII space, tab, '\n', and U+00A0 (no-break
// space), which word processors and subtitle tools put where a space belongs.
std::string_view trim(std::string_view text);

// True when the line has nothing but whitespace (as trim() defines it).
bool is_blank(std::string_view line);

// Appends `piece` to `out`, separated by `separator` unless `out` is empty or `piece` is.
void append_joined(std::string& out, std::string_view piece, std::string_view separator);

}  // namespace cqda::segment
