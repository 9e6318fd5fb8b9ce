#include "common/document.h"

#include <array>
#include <cstdio>
#include <utility>

#include "common/utf8.h"

namespace cqda {
namespace {

constexpr std::array<std::pair<DocumentFormat, std::string_view>, 7> kFormats{{
    {DocumentFormat::kText, "txt"},
    {DocumentFormat::kMarkdown, "md"},
    {DocumentFormat::kDocx, "docx"},
    {DocumentFormat::kOdt, "odt"},
    {DocumentFormat::kVtt, "vtt"},
    {DocumentFormat::kSrt, "srt"},
    {DocumentFormat::kCsv, "csv"},
}};

}  // namespace

std::string_view format_name(DocumentFormat format) {
  for (const auto& [f, name] : kFormats)
    if (f == format) return name;
  return "txt";
}

std::optional<DocumentFormat> format_from_name(std::string_view name) {
  for (const auto& [f, n] : kFormats)
    if (n == name) return f;
  return std::nullopt;
}

std::optional<DocumentFormat> format_from_extension(std::string_view extension) {
  std::string lower;
  for (char c : extension) lower.push_back((c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c);
  if (lower == "markdown") lower = "md";
  if (lower == "text") lower = "txt";
  return format_from_name(lower);
}

std::string document_id_for_path(std::string_view relative_path) {
  std::string id;
  bool dash = false;
  for (char c : relative_path) {
    char lower = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
    bool keep = (lower >= 'a' && lower <= 'z') || (lower >= '0' && lower <= '9');
    if (keep) {
      id.push_back(lower);
      dash = false;
    } else if (!dash && !id.empty()) {
      id.push_back('-');
      dash = true;
    }
  }
  while (!id.empty() && id.back() == '-') id.pop_back();
  return id.empty() ? std::string("document") : id;
}

void render_document_text(Document& document) {
  std::string text;
  std::size_t bytes = 0;
  for (const auto& segment : document.segments) bytes += segment.text.size() + segment.speaker.size() + segment.field.size() + 8;
  text.reserve(bytes);
  std::size_t cursor = 0;  // code points in `text`
  for (std::size_t i = 0; i < document.segments.size(); ++i) {
    Segment& segment = document.segments[i];
    if (i > 0) {
      text += "\n\n";
      cursor += 2;
    }
    if (!segment.speaker.empty()) {
      std::string label = segment.speaker;
      if (!segment.field.empty()) label += " (" + segment.field + ")";
      label += ": ";
      text += label;
      cursor += utf8::length(label);
    }
    segment.start = cursor;
    segment.length = utf8::length(segment.text);
    text += segment.text;
    cursor += segment.length;
  }
  document.text = std::move(text);
}

void number_segments(Document& document) {
  for (std::size_t i = 0; i < document.segments.size(); ++i) {
    char suffix[32];
    std::snprintf(suffix, sizeof suffix, ".s%04zu", i);
    document.segments[i].index = i;
    document.segments[i].id = document.id + suffix;
  }
}

}  // namespace cqda
