// The messages between the supervisor and its children, and which side may send which
// (OpenSSH's monitor table, one per channel and direction). Each table is the whole truth:
// a type missing from it ends the channel.
//
//   supervisor <-> reader      scan, read_document, read_path, export_vault / their replies
//   supervisor <-> llm-caller  llm_request / llm_response; connect (from the caller) / connected
//   supervisor <-> broker      ping / pong; data_request (from the broker) / data_reply;
//                              audit_record (from the broker, never answered)
// Every child sends `ready` exactly once, after its lockdown, with the lockdown report.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/document.h"
#include "common/result.h"
#include "ipc/frame.h"
#include "ipc/wire.h"
#include "policy/policy.h"
#include "server/data_source.h"

namespace cqda::privsep {

enum class MessageType : std::uint16_t {
  kReady = 1,          // child -> supervisor, once: lockdown report (text)
  kPing = 2,           // supervisor -> child
  kPong = 3,           // child -> supervisor
  kScan = 10,          // supervisor -> reader, once
  kScanResult = 11,    // reader -> supervisor, once
  kReadDocument = 12,  // supervisor -> reader: an accepted file by its scan index
  kReadPath = 13,      // supervisor -> reader: a relative path given by a user
  kDocument = 14,      // reader -> supervisor: the reply to kReadDocument/kReadPath
  kExportVault = 15,   // supervisor -> reader, once
  kVault = 16,         // reader -> supervisor, once: the pseudonym vault, sealed
  kLlmRequest = 20,    // supervisor -> llm-caller: send this request to that endpoint
  kLlmResponse = 21,   // llm-caller -> supervisor
  kConnect = 22,       // llm-caller -> supervisor: connect me to this URL
  kConnected = 23,     // supervisor -> llm-caller: the connected socket (fd attached)
  kConnectRefused = 24,  // supervisor -> llm-caller: why not
  kDataRequest = 30,     // broker -> supervisor: a JSON request for project data
  kDataReply = 31,       // supervisor -> broker: its JSON answer (a page: decode_page; a tool result: kResultReplyMark)
  kAuditRecord = 32,     // broker -> supervisor, unanswered: a tool call for the run log
};

inline std::uint16_t wire(MessageType type) { return static_cast<std::uint16_t>(type); }

// What each side accepts from the other.
// The reader's caps follow the path policy: a document reply is bounded by what the largest
// allowed file (or archive's text) can become, the scan by max_files.
ipc::PermitTable reader_to_supervisor(const policy::PathPolicy& paths);
const ipc::PermitTable& supervisor_to_reader();
const ipc::PermitTable& llm_caller_to_supervisor();
const ipc::PermitTable& supervisor_to_llm_caller();
const ipc::PermitTable& broker_to_supervisor();
const ipc::PermitTable& supervisor_to_broker();

// ---- reader ---------------------------------------------------------------------------

// One input file as the scan found it. Real paths never leave the reader: `path` is the
// form that may leave (pseudonymized when the destination's text is anonymized) and
// `path_sha256` identifies the real path for the run log.
struct ScanEntry {
  std::string path;
  std::string path_sha256;
  std::string document_id;  // accepted entries only
  std::string reason;       // refused entries only: refusal_reason_name
};

struct ScanReply {
  std::vector<ScanEntry> accepted;  // in input order; index = position
  std::vector<ScanEntry> refused;
};

enum class DocumentStatus : std::uint8_t {
  kOk = 0,
  kSkipped = 1,  // read but unusable (invalid UTF-8, too large, broken archive, ...)
  kDenied = 2,   // a requested path the reader refused to open (escape, policy, not found)
};

enum class TextKind : std::uint8_t {
  kAnonymized = 0,
  kRaw = 1,  // only where the policy lets raw text reach the destination
};

struct DocumentReply {
  DocumentStatus status = DocumentStatus::kOk;
  std::string path;         // the form that may leave
  std::string path_sha256;  // of the real path
  std::string error;        // why skipped or denied; names `path`, never the real path
  std::string raw_sha256;   // "" when the file was not read
  std::uint64_t raw_bytes = 0;
  TextKind text_kind = TextKind::kAnonymized;
  std::map<std::string, std::uint64_t> anonymization_counts;
  std::chrono::nanoseconds anonymize_time{};
  std::optional<Document> document;  // kOk only
};

std::string encode_scan_reply(const ScanReply& reply);
Result<ScanReply> decode_scan_reply(std::string_view payload);

// The document goes without its text and segment offsets: the receiver re-renders them
// (render_document_text) and renumbers segment ids, so they cannot disagree.
std::string encode_document_reply(const DocumentReply& reply);
Result<DocumentReply> decode_document_reply(std::string_view payload);

struct ReadDocumentRequest {
  std::uint32_t index = 0;
  policy::Destination destination = policy::Destination::kExport;
};
std::string encode_read_document(const ReadDocumentRequest& request);
Result<ReadDocumentRequest> decode_read_document(std::string_view payload);

struct ReadPathRequest {
  std::string path;  // as the user gave it, untrusted
  policy::Destination destination = policy::Destination::kExport;
};
std::string encode_read_path(const ReadPathRequest& request);
Result<ReadPathRequest> decode_read_path(std::string_view payload);

// ---- llm caller -----------------------------------------------------------------------

struct LlmRequest {
  std::string url;      // the endpoint, checked against the egress allow-list by the supervisor
  std::string request;  // the bytes to send once connected
  std::uint32_t max_response_bytes = 1u << 20;
  std::uint32_t timeout_ms = 30000;
};
std::string encode_llm_request(const LlmRequest& request);
Result<LlmRequest> decode_llm_request(std::string_view payload);

// What came back: an HTTP response parsed by the caller (`ok`), or why there is none (the
// connection was refused, failed, timed out or the response was malformed).
struct LlmResponse {
  bool ok = false;
  std::string error;        // when !ok
  std::uint32_t status = 0;  // HTTP status
  std::string retry_after;  // Retry-After header, verbatim
  std::string location;     // Location header (redirects are never followed)
  std::string response;     // the body (bounded by max_response_bytes)
  std::uint64_t bytes_sent = 0;  // request bytes written to the connection
  bool connection_refused = false;  // the supervisor refused the connection (egress policy)
  bool certificate_refused = false;  // TLS: the server's chain or name did not verify
};
std::string encode_llm_response(const LlmResponse& response);
Result<LlmResponse> decode_llm_response(std::string_view payload);

// ---- broker ------------------------------------------------------------------------------

// The data reply to read_document is a page in the wire encoding rather than JSON: the broker
// takes it without building a JSON tree. Such a reply starts with the byte kPageReplyMark (a
// JSON reply starts with '{'), then the document summary (id, path, format, segments,
// characters) and the page's segments (id, speaker, text, start, length), "" for no speaker.
inline constexpr char kPageReplyMark = '\x01';
// The data reply to read_document_result is read_document's whole tool result, written by the
// supervisor, which records the call (server::page_result_text): the byte kResultReplyMark,
// then the result's JSON text, which the broker sends to the client as it is.
inline constexpr char kResultReplyMark = '\x02';
class PageWriter {
 public:
  PageWriter(const server::DocumentSummary& document, std::uint32_t segments, std::size_t reserve = 0);
  PageWriter& segment(std::string_view id, std::string_view speaker, std::string_view text, std::uint64_t start,
                      std::uint64_t length);
  std::string take();

 private:
  ipc::WireWriter out_;
};
std::string encode_page(const server::DataSource::Page& page);
// Refuses a short or inconsistent page, bytes left over, and a count of segments other than
// the one announced.
Result<server::DataSource::Page> decode_page(std::string_view payload);

// Caps shared by the tables and the senders.
inline constexpr std::uint32_t kMaxDocumentMessage = 512u << 20;  // never more, whatever the policy allows
inline constexpr std::uint32_t kMaxScanMessage = 256u << 20;      // never more, whatever the policy allows
inline constexpr std::uint32_t kMaxVaultMessage = 256u << 20;
inline constexpr std::uint32_t kMaxSmallMessage = 64u << 10;
inline constexpr std::uint32_t kMaxLlmMessage = 16u << 20;
inline constexpr std::uint32_t kMaxDataRequest = 1u << 20;
inline constexpr std::uint32_t kMaxDataReply = 64u << 20;
inline constexpr std::uint32_t kMaxAuditRecord = 4u << 10;  // a tool name, two hashes, a count

}  // namespace cqda::privsep
