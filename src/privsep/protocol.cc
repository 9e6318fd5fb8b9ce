#include "privsep/protocol.h"

#include <algorithm>

#include "ipc/wire.h"

namespace cqda::privsep {
namespace {

using ipc::FdRule;
using ipc::Permit;
using ipc::Rule;
using ipc::WireReader;
using ipc::WireWriter;

Rule rule(MessageType type, const char* name, std::uint32_t cap, FdRule fd, Permit permit) {
  return Rule{wire(type), name, cap, fd, permit};
}

// Every child reports its lockdown once, and answers pings.
Rule ready() { return rule(MessageType::kReady, "ready", kMaxSmallMessage, FdRule::kNone, Permit::kOnce); }
Rule pong() { return rule(MessageType::kPong, "pong", kMaxSmallMessage, FdRule::kNone, Permit::kMany); }
Rule ping() { return rule(MessageType::kPing, "ping", kMaxSmallMessage, FdRule::kNone, Permit::kMany); }

bool read_destination(WireReader& in, policy::Destination& destination) {
  std::uint8_t d = 0;
  if (!in.u8(d) || d > static_cast<std::uint8_t>(policy::Destination::kExport)) return false;
  destination = static_cast<policy::Destination>(d);
  return true;
}

void write_entry(WireWriter& out, const ScanEntry& e) {
  out.str(e.path).str(e.path_sha256).str(e.document_id).str(e.reason);
}

bool read_entry(WireReader& in, ScanEntry& e) {
  return in.str(e.path) && in.str(e.path_sha256) && in.str(e.document_id) && in.str(e.reason);
}

}  // namespace

ipc::PermitTable reader_to_supervisor(const policy::PathPolicy& paths) {
  constexpr std::uint64_t kSlack = 1u << 20;
  // Anonymization can lengthen text (a pseudonym for a short name), hence the factor 4.
  const std::uint64_t text = std::max<std::uint64_t>(paths.max_file_bytes, paths.archive.max_uncompressed_bytes);
  const auto document = static_cast<std::uint32_t>(std::min<std::uint64_t>(4 * text + kSlack, kMaxDocumentMessage));
  const auto scan = static_cast<std::uint32_t>(std::min<std::uint64_t>(2048ull * paths.max_files + kSlack, kMaxScanMessage));
  return ipc::PermitTable{
      ready(), pong(),
      rule(MessageType::kScanResult, "scan_result", scan, FdRule::kNone, Permit::kOnce),
      rule(MessageType::kDocument, "document", document, FdRule::kNone, Permit::kMany),
      rule(MessageType::kVault, "vault", kMaxVaultMessage, FdRule::kNone, Permit::kOnce),
  };
}

const ipc::PermitTable& supervisor_to_reader() {
  static const ipc::PermitTable table{
      ping(),
      rule(MessageType::kScan, "scan", kMaxSmallMessage, FdRule::kNone, Permit::kOnce),
      rule(MessageType::kReadDocument, "read_document", kMaxSmallMessage, FdRule::kNone, Permit::kMany),
      rule(MessageType::kReadPath, "read_path", kMaxSmallMessage, FdRule::kNone, Permit::kMany),
      rule(MessageType::kExportVault, "export_vault", kMaxSmallMessage, FdRule::kNone, Permit::kOnce),
  };
  return table;
}

const ipc::PermitTable& llm_caller_to_supervisor() {
  static const ipc::PermitTable table{
      ready(), pong(),
      rule(MessageType::kLlmResponse, "llm_response", kMaxLlmMessage, FdRule::kNone, Permit::kMany),
      rule(MessageType::kConnect, "connect", kMaxSmallMessage, FdRule::kNone, Permit::kMany),
  };
  return table;
}

const ipc::PermitTable& supervisor_to_llm_caller() {
  static const ipc::PermitTable table{
      ping(),
      rule(MessageType::kLlmRequest, "llm_request", kMaxLlmMessage, FdRule::kNone, Permit::kMany),
      rule(MessageType::kConnected, "connected", kMaxSmallMessage, FdRule::kOne, Permit::kMany),
      rule(MessageType::kConnectRefused, "connect_refused", kMaxSmallMessage, FdRule::kNone, Permit::kMany),
  };
  return table;
}

const ipc::PermitTable& broker_to_supervisor() {
  static const ipc::PermitTable table{
      ready(), pong(),
      rule(MessageType::kDataRequest, "data_request", kMaxDataRequest, FdRule::kNone, Permit::kMany),
      rule(MessageType::kAuditRecord, "audit_record", kMaxAuditRecord, FdRule::kNone, Permit::kMany),
  };
  return table;
}

const ipc::PermitTable& supervisor_to_broker() {
  static const ipc::PermitTable table{
      ping(),
      rule(MessageType::kDataReply, "data_reply", kMaxDataReply, FdRule::kNone, Permit::kMany),
  };
  return table;
}

std::string encode_scan_reply(const ScanReply& reply) {
  WireWriter out;
  out.u32(static_cast<std::uint32_t>(reply.accepted.size()));
  for (const auto& e : reply.accepted) write_entry(out, e);
  out.u32(static_cast<std::uint32_t>(reply.refused.size()));
  for (const auto& e : reply.refused) write_entry(out, e);
  return out.take();
}

Result<ScanReply> decode_scan_reply(std::string_view payload) {
  WireReader in(payload);
  ScanReply reply;
  std::uint32_t n = 0;
  if (in.count(n, 16)) {
    reply.accepted.resize(n);
    for (auto& e : reply.accepted) read_entry(in, e);
  }
  if (in.count(n, 16)) {
    reply.refused.resize(n);
    for (auto& e : reply.refused) read_entry(in, e);
  }
  if (auto st = in.finish("scan result"); !st) return st.error();
  return reply;
}

std::string encode_document_reply(const DocumentReply& r) {
  WireWriter out;
  out.u8(static_cast<std::uint8_t>(r.status)).str(r.path).str(r.path_sha256).str(r.error).str(r.raw_sha256);
  out.u64(r.raw_bytes).u8(static_cast<std::uint8_t>(r.text_kind));
  out.u32(static_cast<std::uint32_t>(r.anonymization_counts.size()));
  for (const auto& [type, n] : r.anonymization_counts) out.str(type).u64(n);
  out.u64(static_cast<std::uint64_t>(r.anonymize_time.count()));
  out.u8(r.document ? 1 : 0);
  if (r.document) {
    const Document& d = *r.document;
    out.str(d.id).str(d.relative_path).u8(static_cast<std::uint8_t>(d.format)).str(d.sha256).u64(d.raw_bytes);
    out.u32(static_cast<std::uint32_t>(d.segments.size()));
    for (const Segment& s : d.segments) out.str(s.speaker).str(s.field).str(s.cue).str(s.text);
  }
  return out.take();
}

Result<DocumentReply> decode_document_reply(std::string_view payload) {
  WireReader in(payload);
  DocumentReply r;
  std::uint8_t status = 0, kind = 0, has_document = 0;
  std::uint64_t nanos = 0;
  std::uint32_t n = 0;
  in.u8(status) && in.str(r.path) && in.str(r.path_sha256) && in.str(r.error) && in.str(r.raw_sha256) &&
      in.u64(r.raw_bytes) && in.u8(kind);
  if (in.count(n, 12)) {
    for (std::uint32_t i = 0; i < n; ++i) {
      std::string type;
      std::uint64_t count = 0;
      if (in.str(type) && in.u64(count)) r.anonymization_counts[type] += count;
    }
  }
  in.u64(nanos) && in.u8(has_document);
  if (status > static_cast<std::uint8_t>(DocumentStatus::kDenied) || kind > static_cast<std::uint8_t>(TextKind::kRaw) ||
      has_document > 1)
    return make_error("document reply: invalid status, text kind or document flag");
  r.status = static_cast<DocumentStatus>(status);
  r.text_kind = static_cast<TextKind>(kind);
  r.anonymize_time = std::chrono::nanoseconds(static_cast<std::int64_t>(nanos & 0x7fffffffffffffffull));
  if (has_document) {
    Document d;
    std::uint8_t format = 0;
    in.str(d.id) && in.str(d.relative_path) && in.u8(format) && in.str(d.sha256) && in.u64(d.raw_bytes);
    if (format > static_cast<std::uint8_t>(DocumentFormat::kCsv)) return make_error("document reply: invalid format");
    d.format = static_cast<DocumentFormat>(format);
    if (in.count(n, 16)) {
      d.segments.resize(n);
      for (Segment& s : d.segments) in.str(s.speaker) && in.str(s.field) && in.str(s.cue) && in.str(s.text);
    }
    if (in.ok()) {
      number_segments(d);
      render_document_text(d);
    }
    r.document = std::move(d);
  }
  if ((r.status == DocumentStatus::kOk) != r.document.has_value())
    return make_error("document reply: a document comes with status ok and only then");
  if (auto st = in.finish("document reply"); !st) return st.error();
  return r;
}

std::string encode_read_document(const ReadDocumentRequest& request) {
  return WireWriter().u32(request.index).u8(static_cast<std::uint8_t>(request.destination)).take();
}

Result<ReadDocumentRequest> decode_read_document(std::string_view payload) {
  WireReader in(payload);
  ReadDocumentRequest request;
  if (!(in.u32(request.index) && read_destination(in, request.destination)))
    return make_error("read_document request: malformed");
  if (auto st = in.finish("read_document request"); !st) return st.error();
  return request;
}

std::string encode_read_path(const ReadPathRequest& request) {
  return WireWriter().str(request.path).u8(static_cast<std::uint8_t>(request.destination)).take();
}

Result<ReadPathRequest> decode_read_path(std::string_view payload) {
  WireReader in(payload);
  ReadPathRequest request;
  if (!(in.str(request.path) && read_destination(in, request.destination)))
    return make_error("read_path request: malformed");
  if (auto st = in.finish("read_path request"); !st) return st.error();
  return request;
}

std::string encode_llm_request(const LlmRequest& r) {
  return WireWriter().str(r.url).str(r.request).u32(r.max_response_bytes).u32(r.timeout_ms).take();
}

Result<LlmRequest> decode_llm_request(std::string_view payload) {
  WireReader in(payload);
  LlmRequest r;
  in.str(r.url) && in.str(r.request) && in.u32(r.max_response_bytes) && in.u32(r.timeout_ms);
  if (auto st = in.finish("llm request"); !st) return st.error();
  return r;
}

std::string encode_llm_response(const LlmResponse& r) {
  return WireWriter()
      .u8(r.ok ? 1 : 0)
      .str(r.error)
      .u32(r.status)
      .str(r.retry_after)
      .str(r.location)
      .str(r.response)
      .u64(r.bytes_sent)
      .u8(r.connection_refused ? 1 : 0)
      .u8(r.certificate_refused ? 1 : 0)
      .take();
}

Result<LlmResponse> decode_llm_response(std::string_view payload) {
  WireReader in(payload);
  LlmResponse r;
  std::uint8_t ok = 0, refused = 0, certificate = 0;
  in.u8(ok) && in.str(r.error) && in.u32(r.status) && in.str(r.retry_after) && in.str(r.location) &&
      in.str(r.response) && in.u64(r.bytes_sent) && in.u8(refused) && in.u8(certificate);
  if (ok > 1 || refused > 1 || certificate > 1) return make_error("llm response: invalid flag");
  r.ok = ok == 1;
  r.connection_refused = refused == 1;
  r.certificate_refused = certificate == 1;
  if (auto st = in.finish("llm response"); !st) return st.error();
  return r;
}

PageWriter::PageWriter(const server::DocumentSummary& d, std::uint32_t segments, std::size_t reserve) {
  out_.reserve(reserve);
  out_.u8(static_cast<std::uint8_t>(kPageReplyMark)).str(d.id).str(d.path).str(d.format).u64(d.segments).u64(d.characters);
  out_.u32(segments);
}

PageWriter& PageWriter::segment(std::string_view id, std::string_view speaker, std::string_view text,
                                std::uint64_t start, std::uint64_t length) {
  out_.str(id).str(speaker).str(text).u64(start).u64(length);
  return *this;
}

std::string PageWriter::take() { return out_.take(); }

std::string encode_page(const server::DataSource::Page& page) {
  PageWriter out(page.document, static_cast<std::uint32_t>(page.segments.size()));
  for (const Segment& s : page.segments) out.segment(s.id, s.speaker, s.text, s.start, s.length);
  return out.take();
}

Result<server::DataSource::Page> decode_page(std::string_view payload) {
  WireReader in(payload);
  server::DataSource::Page page;
  server::DocumentSummary& d = page.document;
  std::uint8_t mark = 0;
  std::uint32_t n = 0;
  if (!in.u8(mark) || mark != static_cast<std::uint8_t>(kPageReplyMark)) return make_error("page reply: no page mark");
  in.str(d.id) && in.str(d.path) && in.str(d.format) && in.u64(d.segments) && in.u64(d.characters);
  // A segment takes 28 bytes at least (three length prefixes, two offsets), and the page grows
  // as segments arrive, so a count never allocates ahead of the bytes.
  if (in.count(n, 28)) {
    for (std::uint32_t i = 0; i < n && in.ok(); ++i) {
      Segment& s = page.segments.emplace_back();
      std::uint64_t start = 0, length = 0;
      in.str(s.id) && in.str(s.speaker) && in.str(s.text) && in.u64(start) && in.u64(length);
      s.start = static_cast<std::size_t>(start);
      s.length = static_cast<std::size_t>(length);
    }
  }
  if (auto st = in.finish("page reply"); !st) return st.error();
  return page;
}

}  // namespace cqda::privsep
