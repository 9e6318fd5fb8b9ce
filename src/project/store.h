// project::Store: the durable project state of a cqda server — codings, memos and the codebook's
// versions — in one SQLite database (WAL mode) under the output folder. docs/PROJECT-STATE.md
// describes the file, its schema and migrations.
//
// Ownership and failure behaviour:
// - A Store owns its database connection. One process writes a project at a time; the current
//   codebook is cached in memory, so a second writer would not see the other's codebook
//   changes. Readers (open_read_only, the sqlite3 shell) may look at any time.
// - Thread-compatible: one thread uses a Store at a time.
// - Every mutating call runs in one write transaction and returns only after COMMIT, with
//   synchronous=FULL: an acknowledged write survives a crash of the process or the machine.
//   Refused input changes nothing; an error names the operation and the offending value.
// - Offsets are Unicode code points from 0 (text is UTF-8), as REFI-QDA counts them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "codebook/codebook.h"
#include "common/json.h"
#include "common/result.h"

namespace cqda::project {

namespace sqlite {
class Database;
}
enum class CodingMove;  // project/codebook_change.h

// Bounds on what callers pass in (bytes unless stated).
inline constexpr std::size_t kMaxIdBytes = 256;            // document and segment ids
inline constexpr std::size_t kMaxNameBytes = 200;          // coder, author, memo title
inline constexpr std::size_t kMaxSegmentBytes = 1u << 20;  // segment text
inline constexpr std::size_t kMaxMemoBytes = 64u << 10;    // memo text, coding memo
inline constexpr std::size_t kMaxCodesPerCoding = 100;
inline constexpr std::size_t kMaxBatch = 10000;  // codings per add_codings call
inline constexpr std::size_t kMaxPage = 10000;   // rows per list call

struct Span {
  std::size_t start = 0;  // code points inside the segment
  std::size_t end = 0;    // exclusive
  bool operator==(const Span&) const = default;
};

// A coding as a coder submits it: a quote or a span (or both) inside one segment, and the codes
// it gets. With only a quote, its first occurrence in the segment is used; with both, the span
// must hold exactly the quote (that is how a repeated quote is disambiguated).
struct NewCoding {
  std::string document_id;
  std::string segment_id;
  std::string segment_text;       // the (anonymized) text the coder saw
  std::size_t segment_start = 0;  // code-point offset of the segment in its document
  std::optional<Span> span;
  std::string quote;                  // "" when only a span is given
  std::vector<std::string> code_ids;  // one or more, each an active code of the codebook
  std::string coder;                  // a person's name, "offline-rules" or "llm:<model>"
  std::string memo;                   // optional
};

// One code applied to one span of one segment (one row of the codings table).
struct Coding {
  std::int64_t id = 0;
  std::string document_id;
  std::string segment_id;
  std::size_t segment_start = 0;
  Span span;  // in the segment; the document span is segment_start + span
  std::string quote;
  std::string segment_sha256;  // of the segment text the coder saw
  std::string code_id;         // follows renames and merges
  int codebook_version = 0;    // the codebook version current when the coding was made
  std::string coder;
  std::string memo;
  std::string created_at;  // UTC, ISO 8601 with milliseconds
  std::string removed_at;  // "" while live
  std::string removed_by;
  std::string removed_reason;
  bool removed() const { return !removed_at.empty(); }
};

// Any combination of filters; unset ones match everything. Ordered by id.
struct CodingFilter {
  std::optional<std::string> code_id;
  std::optional<std::string> document_id;
  std::optional<std::string> segment_id;
  std::optional<std::string> coder;
  bool include_removed = false;
  std::size_t offset = 0;
  std::size_t limit = 100;  // 1..kMaxPage
};

struct CodingPage {
  std::vector<Coding> codings;
  std::int64_t total = 0;  // rows matching the filter, ignoring offset and limit
};

struct NewMemo {
  std::string text;
  std::string title;  // optional
  std::string author;
  std::string document_id;  // optional links; "" for none
  std::string segment_id;
  std::string code_id;  // must name a code of the current codebook
};

struct Memo {
  std::int64_t id = 0;
  std::string title;
  std::string text;
  std::string author;
  std::string document_id;
  std::string segment_id;
  std::string code_id;
  std::string created_at;
};

struct MemoFilter {
  std::optional<std::string> document_id;
  std::optional<std::string> segment_id;
  std::optional<std::string> code_id;
  std::optional<std::string> author;
  std::size_t offset = 0;
  std::size_t limit = 100;  // 1..kMaxPage
};

struct MemoPage {
  std::vector<Memo> memos;
  std::int64_t total = 0;
};

struct CodebookVersion {
  int version = 0;  // the codebook's own "version" field
  std::string created_at;
  std::string author;
  Json change;         // {"op": ..., ...}; the first version has {"op": "create", ...}
  std::string sha256;  // of the stored document
};

struct CodeFrequency {
  std::string code_id;
  std::string name;
  std::string path;  // "Category > Parent > Code"
  bool retired = false;
  std::int64_t codings = 0;
  std::int64_t documents = 0;
  std::int64_t segments = 0;
};

class Store {
 public:
  // Opens the project database at `file`, creating it (mode 0600; missing folders 0700) with
  // `initial` as the first codebook version when it does not exist. An existing project keeps
  // its own codebook (`initial` is then unused) and is migrated to the current schema. Refuses
  // a file that is not a cqda project, and a project made by a newer cqda.
  static Result<std::unique_ptr<Store>> open(const std::filesystem::path& file,
                                             const codebook::Codebook& initial);
  // Opens an existing project for reading (verification tools); it must be at the current
  // schema version. Every mutating call then fails.
  static Result<std::unique_ptr<Store>> open_read_only(const std::filesystem::path& file);

  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  const std::filesystem::path& path() const { return path_; }

  // Adds one row per code (in the order given). A coding identical to a live one (same
  // document, segment, span, code and coder) is not added again: the existing row is returned.
  Result<std::vector<Coding>> add_coding(const NewCoding& coding);
  // The same for many codings in one transaction (all or nothing): one fsync for the batch.
  Result<std::vector<Coding>> add_codings(const std::vector<NewCoding>& codings);
  // Soft delete: the row stays as history with who removed it and when. Refuses an unknown or
  // already removed id.
  Status remove_coding(std::int64_t id, const std::string& by);
  Result<Coding> get_coding(std::int64_t id) const;
  Result<CodingPage> list_codings(const CodingFilter& filter) const;

  Result<Memo> add_memo(const NewMemo& memo);
  Result<MemoPage> list_memos(const MemoFilter& filter) const;

  const codebook::Codebook& current_codebook() const { return codebook_; }
  int codebook_version() const { return codebook_.version; }
  Result<std::vector<CodebookVersion>> history() const;  // oldest first
  Result<codebook::Codebook> codebook_at(int version) const;
  // Applies one change (project/codebook_change.h) and stores the result as the next version,
  // all in one transaction. A rename moves every coding and memo of the old id to the new one;
  // a merge moves live codings (collapsing duplicates) and leaves memos on the retired codes.
  Result<CodebookVersion> change_codebook(const Json& change, const std::string& author);

  // Per code of the current codebook, in codebook order, codes without codings included.
  // With `coder`, counts only that coder's codings.
  Result<std::vector<CodeFrequency>> code_frequencies(
      const std::optional<std::string>& coder = std::nullopt) const;

  // What the last successful mutating call changed, for the caller's audit log:
  // {"kind": "project.create" | "project.migrate" | "codings.add" | "coding.remove" |
  //  "memo.add" | "codebook.change", ids, and the SHA-256 of each new row's content}.
  // null before any change.
  const Json& last_change() const { return last_change_; }

  // PRAGMA integrity_check and foreign_key_check, and every codebook version's stored hash.
  Status check_integrity() const;

 private:
  Store(std::filesystem::path path, std::unique_ptr<sqlite::Database> db, bool read_only);
  Status writable() const;
  Status load_current_codebook();
  Status store_initial_codebook(const codebook::Codebook& initial);
  Result<Coding> insert_coding(const NewCoding& coding, const std::string& code_id,
                               const Span& span, const std::string& quote, const std::string& now,
                               bool& created);
  Result<std::int64_t> move_codings(const std::string& from, const std::string& to, CodingMove how,
                                    const std::string& author, const std::string& now,
                                    std::int64_t& collapsed);

  std::filesystem::path path_;
  std::unique_ptr<sqlite::Database> db_;
  bool read_only_ = false;
  codebook::Codebook codebook_;
  Json last_change_;
};

// Stable JSON forms: used in tool results and hashed for last_change() (the SHA-256 of a row's
// content is sha256_hex(to_json(row).dump())).
Json to_json(const Coding& coding);
Json to_json(const Memo& memo);
Json to_json(const CodebookVersion& version);
Json to_json(const CodeFrequency& frequency);

}  // namespace cqda::project
