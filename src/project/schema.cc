#include "project/schema.h"

#include <string>

namespace cqda::project {
namespace {

// Version 1: the initial schema. Comments inside CREATE statements are kept by SQLite, so
// `.schema` in the sqlite3 shell shows them.
constexpr const char* kInitialSchema = R"sql(
PRAGMA application_id = 1129399361;

CREATE TABLE codebook_versions (
  version    INTEGER PRIMARY KEY,  -- the codebook's own "version" field; +1 per change
  created_at TEXT NOT NULL,        -- UTC, 2025-01-31T12:00:00.000Z
  author     TEXT NOT NULL,        -- who made the change
  change     TEXT NOT NULL,        -- JSON: the operation and what it did
  document   TEXT NOT NULL,        -- the whole codebook (schemas/codebook.schema.json)
  sha256     TEXT NOT NULL         -- of document, lowercase hex
) STRICT;

CREATE TABLE codings (
  id               INTEGER PRIMARY KEY,
  document_id      TEXT NOT NULL,
  segment_id       TEXT NOT NULL,
  segment_start    INTEGER NOT NULL CHECK (segment_start >= 0),  -- code points in the document
  span_start       INTEGER NOT NULL CHECK (span_start >= 0),     -- code points in the segment
  span_end         INTEGER NOT NULL CHECK (span_end > span_start),  -- exclusive
  quote            TEXT NOT NULL,  -- the segment's text in [span_start, span_end), verbatim
  segment_sha256   TEXT NOT NULL,  -- of the segment text the coder saw
  code_id          TEXT NOT NULL,  -- follows renames and merges of the code
  codebook_version INTEGER NOT NULL REFERENCES codebook_versions (version),  -- when coded
  coder            TEXT NOT NULL,  -- a person's name, "offline-rules" or "llm:<model>"
  memo             TEXT NOT NULL DEFAULT '',
  created_at       TEXT NOT NULL,
  removed_at       TEXT,           -- soft delete: NULL while the coding is live
  removed_by       TEXT,
  CHECK ((removed_at IS NULL) = (removed_by IS NULL))
) STRICT;

-- One live coding per (segment, span, code, coder); removed rows stay as history.
CREATE UNIQUE INDEX codings_live_key
  ON codings (segment_id, span_start, span_end, code_id, coder, document_id)
  WHERE removed_at IS NULL;
CREATE INDEX codings_by_code ON codings (code_id);
CREATE INDEX codings_by_document ON codings (document_id);

CREATE TABLE memos (
  id          INTEGER PRIMARY KEY,
  title       TEXT NOT NULL DEFAULT '',
  text        TEXT NOT NULL,
  author      TEXT NOT NULL,
  document_id TEXT,  -- optional links
  segment_id  TEXT,
  code_id     TEXT,
  created_at  TEXT NOT NULL
) STRICT;

PRAGMA user_version = 1;
)sql";

// Version 2: record why a coding was removed (a researcher's removal, or a duplicate that a
// merge of codes collapsed). Rows removed under version 1 were removed by a coder.
constexpr const char* kRemovalReason = R"sql(
ALTER TABLE codings ADD COLUMN removed_reason TEXT;
UPDATE codings SET removed_reason = 'removed by a coder' WHERE removed_at IS NOT NULL;
PRAGMA user_version = 2;
)sql";

}  // namespace

const std::vector<Migration>& migrations() {
  static const std::vector<Migration> all = {
      {1, "initial schema: codebook versions, codings, memos", kInitialSchema},
      {2, "codings.removed_reason", kRemovalReason},
  };
  return all;
}

int schema_version() { return migrations().back().version; }

Result<int> read_user_version(sqlite::Database& db) {
  Result<std::string> text = db.scalar("PRAGMA user_version");
  if (!text) return text.error();
  return std::stoi(*text);
}

Result<std::int32_t> read_application_id(sqlite::Database& db) {
  Result<std::string> text = db.scalar("PRAGMA application_id");
  if (!text) return text.error();
  return static_cast<std::int32_t>(std::stol(*text));
}

Result<int> migrate(sqlite::Database& db) {
  Result<int> before = read_user_version(db);
  if (!before) return before.error();
  if (*before > schema_version())
    return make_error("schema version " + std::to_string(*before) + " is newer than " +
                      std::to_string(schema_version()));
  for (const Migration& step : migrations()) {
    if (step.version <= *before) continue;
    Result<sqlite::Transaction> transaction = sqlite::Transaction::begin(db);
    if (!transaction) return transaction.error();
    // Re-read under the write lock: another process may have migrated meanwhile.
    Result<int> now = read_user_version(db);
    if (!now) return now.error();
    if (*now >= step.version) continue;
    Status applied = db.exec(step.sql);
    if (applied) applied = transaction->commit();
    if (!applied)
      return make_error("migration " + std::to_string(step.version) + " (" + step.summary +
                        "): " + applied.error().message);
  }
  return *before;
}

}  // namespace cqda::project
