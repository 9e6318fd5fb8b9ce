// Helpers for the ingest tests: policies, zip archives built in memory, file lookups.
#pragma once

#include <zip.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "ingest/input_root.h"
#include "policy/policy.h"

namespace cqda::ingest::testing {

inline policy::PathPolicy default_paths() {
  policy::PathPolicy paths;
  paths.include = {"**/*.txt", "**/*.md",  "**/*.docx", "**/*.odt",
                   "**/*.vtt", "**/*.srt", "**/*.csv"};
  paths.document_types = {DocumentFormat::kText, DocumentFormat::kMarkdown, DocumentFormat::kDocx,
                          DocumentFormat::kOdt,  DocumentFormat::kVtt,      DocumentFormat::kSrt,
                          DocumentFormat::kCsv};
  return paths;
}

// A zip archive with the given (name, content) members, deflated, built in memory.
inline std::string make_zip(const std::vector<std::pair<std::string, std::string>>& members,
                            zip_uint32_t level = 9) {
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* buffer = zip_source_buffer_create(nullptr, 0, 0, &error);
  zip_t* archive = zip_open_from_source(buffer, ZIP_TRUNCATE, &error);
  if (archive == nullptr) throw std::runtime_error("zip_open_from_source failed");
  zip_source_keep(buffer);
  for (const auto& [name, content] : members) {
    zip_source_t* source = zip_source_buffer(archive, content.data(), content.size(), 0);
    zip_int64_t index = zip_file_add(archive, name.c_str(), source, ZIP_FL_OVERWRITE);
    if (index < 0) throw std::runtime_error("zip_file_add failed");
    zip_set_file_compression(archive, static_cast<zip_uint64_t>(index), ZIP_CM_DEFLATE, level);
  }
  if (zip_close(archive) != 0) throw std::runtime_error("zip_close failed");
  zip_source_open(buffer);
  zip_source_seek(buffer, 0, SEEK_END);
  zip_int64_t size = zip_source_tell(buffer);
  zip_source_seek(buffer, 0, SEEK_SET);
  std::string bytes(static_cast<std::size_t>(size), '\0');
  zip_source_read(buffer, bytes.data(), static_cast<zip_uint64_t>(size));
  zip_source_close(buffer);
  zip_source_free(buffer);
  return bytes;
}

// Rewrites the declared uncompressed size of every member (local headers and the central
// directory) so the archive lies about what it inflates to.
inline void patch_declared_sizes(std::string& zip, std::uint32_t size) {
  auto patch = [&](const char* signature, std::size_t field_offset) {
    for (std::size_t at = zip.find(signature, 0, 4); at != std::string::npos;
         at = zip.find(signature, at + 4, 4))
      std::memcpy(zip.data() + at + field_offset, &size, sizeof size);
  };
  patch("PK\x03\x04", 22);
  patch("PK\x01\x02", 24);
}

inline bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

inline const Refusal* find_refusal(const ScanResult& scan, const std::string& path) {
  for (const Refusal& refusal : scan.refused)
    if (refusal.relative_path == path) return &refusal;
  return nullptr;
}

inline bool accepted(const ScanResult& scan, const std::string& path) {
  return std::find(scan.accepted.begin(), scan.accepted.end(), path) != scan.accepted.end();
}

}  // namespace cqda::ingest::testing
