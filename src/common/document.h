// The document model shared by ingest, segmentation, anonymization, coding and export.
// All text is valid UTF-8 in NFC with LF line endings; all offsets are code points from 0.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cqda {

enum class DocumentFormat { kText, kMarkdown, kDocx, kOdt, kVtt, kSrt, kCsv };

std::string_view format_name(DocumentFormat format);  // "txt", "md", ...
std::optional<DocumentFormat> format_from_name(std::string_view name);
// By file extension, case-insensitive, without the dot ("TXT" -> kText).
std::optional<DocumentFormat> format_from_extension(std::string_view extension);

struct Segment {
  std::string id;          // stable: "<document id>.s<index, 4 digits>"
  std::size_t index = 0;   // position in the document, from 0
  std::string speaker;     // speaker label or survey respondent id; "" when none
  std::string field;       // survey question column; "" otherwise
  std::string cue;         // timecode of the first cue for vtt/srt; "" otherwise
  std::string text;        // the segment's words, without the speaker label
  std::size_t start = 0;   // code-point offset of `text` within Document::text
  std::size_t length = 0;  // code points of `text`
};

struct Document {
  std::string id;             // stable, derived from relative_path
  std::string relative_path;  // '/'-separated, relative to the input root
  DocumentFormat format = DocumentFormat::kText;
  std::string sha256;         // of the raw bytes as read
  std::uint64_t raw_bytes = 0;
  std::string text;           // canonical rendering of the segments (render_document_text)
  std::vector<Segment> segments;
};

// The document id for a relative path: lowercase ASCII letters, digits and '-', e.g.
// "interviews/P01 Maria.txt" -> "interviews-p01-maria-txt".
std::string document_id_for_path(std::string_view relative_path);

// Rebuilds Document::text from the segments and sets each segment's start and length.
// Each segment renders as "<label>: <text>" (label = speaker, plus " (field)" when set)
// or just "<text>"; segments are separated by a blank line.
void render_document_text(Document& document);

// Assigns index and id ("<document id>.s0000") to every segment in order.
void number_segments(Document& document);

}  // namespace cqda
