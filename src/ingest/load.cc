#include "ingest/load.h"

#include "common/hash.h"
#include "ingest/csv_parser.h"
#include "ingest/docx_parser.h"
#include "ingest/md_parser.h"
#include "ingest/odt_parser.h"
#include "ingest/srt_parser.h"
#include "ingest/text_normalize.h"
#include "ingest/txt_parser.h"
#include "ingest/vtt_parser.h"
#include "segment/segmenter.h"

namespace cqda::ingest {
namespace {

Result<std::vector<Segment>> parse_text_format(const RawFile& file) {
  Result<std::string> text = normalize_text(file.bytes, file.relative_path);
  if (!text) return text.error();
  switch (file.format) {
    case DocumentFormat::kMarkdown:
      return parse_md(*text);
    case DocumentFormat::kVtt:
      return parse_vtt(*text);
    case DocumentFormat::kSrt:
      return parse_srt(*text);
    case DocumentFormat::kCsv:
      return parse_csv(*text);
    default:
      return parse_txt(*text);
  }
}

Result<std::vector<Segment>> parse(const RawFile& file, const policy::PathPolicy& policy) {
  switch (file.format) {
    case DocumentFormat::kDocx:
      return parse_docx(file.bytes, policy.archive);
    case DocumentFormat::kOdt:
      return parse_odt(file.bytes, policy.archive);
    default:
      return parse_text_format(file);
  }
}

Error prefixed(const std::string& path, const Error& error) {
  // normalize_text already names the file; parser errors do not.
  if (error.message.rfind(path + ":", 0) == 0) return error;
  return make_error(path + ": " + error.message);
}

}  // namespace

Result<Document> load_document(const RawFile& file, const policy::PathPolicy& policy) {
  const std::string& path = file.relative_path;
  if (file.bytes.size() > policy.max_file_bytes)
    return make_error(path + ": " + std::to_string(file.bytes.size()) +
                      " bytes is more than the policy's max_file_bytes (" +
                      std::to_string(policy.max_file_bytes) + ")");
  if (file.bytes.empty()) return make_error(path + ": empty file");
  Result<std::vector<Segment>> segments = parse(file, policy);
  if (!segments) return prefixed(path, segments.error());

  Document document;
  document.id = document_id_for_path(path);
  document.relative_path = path;
  document.format = file.format;
  document.sha256 = sha256_hex(file.bytes);
  document.raw_bytes = file.bytes.size();
  document.segments = std::move(*segments);
  segment::finish_document(document);
  if (document.segments.empty()) return make_error(path + ": empty file (no text)");
  return document;
}

}  // namespace cqda::ingest
