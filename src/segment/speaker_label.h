// Recognizes a speaker label at the start of a transcript line: "Interviewer: ...",
// "I: ...", "P03: ...", "MARIA: ...", "Maria Santos: ...", "Dr. Okafor: ...".
//
// The rule, kept small on purpose so a researcher can predict it:
//   * the label starts with a letter, has at most 4 words and 40 code points;
//   * it holds only letters, digits, spaces and . - ' ’ _ ( ) #  — so a sentence with a comma,
//     a question mark or a quote before its colon is never a label;
//   * every word after the first starts with an uppercase letter, a digit or '(' ("Maria
//     Santos", "Interviewer 2"), so prose such as "She said: no" is not a label;
//   * the colon is followed by whitespace or the end of the line ("10:30", "https://x" are not
//     labels);
//   * a few metadata words are never speakers: Note, Date, Time, Location, Duration, ...
// Whether labels are used at all is a per-document decision (see segmenter.h): a document needs
// at least two labelled lines.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace cqda::segment {

struct SpeakerLabel {
  std::string speaker;    // the label without the colon, trimmed
  std::string_view rest;  // the words after the colon, trimmed (may be empty); views the line
};

std::optional<SpeakerLabel> parse_speaker_label(std::string_view line);

}  // namespace cqda::segment
