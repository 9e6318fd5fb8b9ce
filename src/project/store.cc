// Store: opening, schema checks, the codebook's versions and integrity checks. Codings and
// memos are in store_codings.cc and store_memos.cc.
#include "project/store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "common/fd.h"
#include "common/files.h"
#include "common/hash.h"
#include "project/codebook_change.h"
#include "project/input.h"
#include "project/schema.h"
#include "project/sqlite.h"

namespace cqda::project {
namespace {

constexpr int kBusyTimeoutMs = 5000;
constexpr const char* kInitialAuthor = "cqda";

Status fsync_folder(const std::filesystem::path& folder) {
  UniqueFd fd(::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid() || ::fsync(fd.get()) != 0)
    return make_error("fsync(" + folder.string() + "): " + errno_text(errno));
  return {};
}

// Creates the missing folders above `file` (mode 0700) and the file itself (mode 0600, never
// through a symlink) if missing; an existing file must be a regular file.
Status prepare_file(const std::filesystem::path& file) {
  if (!file.has_filename()) return make_error("project database: no file name in " + file.string());
  std::filesystem::path folder = file.parent_path();
  if (folder.empty()) folder = ".";
  std::vector<std::filesystem::path> missing;
  std::error_code ec;
  for (auto p = folder;
       !p.empty() && !std::filesystem::exists(std::filesystem::symlink_status(p, ec));
       p = p.parent_path()) {
    missing.push_back(p);
    if (p == p.parent_path()) break;
  }
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    if (::mkdir(it->c_str(), 0700) != 0) {
      if (errno == EEXIST) continue;  // made meanwhile by someone else: not ours to chmod
      return make_error("mkdir(" + it->string() + "): " + errno_text(errno));
    }
    // Whatever the umask: the project holds research data.
    if (::chmod(it->c_str(), 0700) != 0)
      return make_error("chmod(" + it->string() + "): " + errno_text(errno));
  }
  struct stat st {};
  if (::lstat(file.c_str(), &st) == 0) {
    if (S_ISLNK(st.st_mode))
      return make_error(file.string() + ": is a symbolic link; refusing to open it as a project");
    if (!S_ISREG(st.st_mode)) return make_error(file.string() + ": not a regular file");
    return {};
  }
  if (errno != ENOENT) return make_error("lstat(" + file.string() + "): " + errno_text(errno));
  UniqueFd fd(::open(file.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd.valid()) return make_error("create(" + file.string() + "): " + errno_text(errno));
  if (::fchmod(fd.get(), 0600) != 0)
    return make_error("chmod(" + file.string() + "): " + errno_text(errno));
  return fsync_folder(folder);  // the new name is durable before any commit relies on it
}

// Hardening that applies before anything is read: wait for locks instead of failing at once,
// refuse to let SQL (or a crafted file) corrupt the database through writable_schema and
// friends, and run no functions with side effects from views or triggers stored in the file.
void harden(sqlite::Database& db) {
  sqlite3_busy_timeout(db.handle(), kBusyTimeoutMs);
  sqlite3_db_config(db.handle(), SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
  sqlite3_db_config(db.handle(), SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, nullptr);
}

enum class FileState { kEmpty, kProject };

// Tells an empty database (new file) from a cqda project, refusing anything else, and a project
// of a newer schema. Reads only, so a refused file is left exactly as it was.
Result<FileState> recognize(sqlite::Database& db, const std::filesystem::path& file,
                            int* user_version) {
  const std::string name = file.string();
  Result<std::int32_t> application_id = read_application_id(db);
  if (!application_id)
    return make_error(name + ": not a cqda project database (" + application_id.error().message +
                      ")");
  Result<int> version = read_user_version(db);
  if (!version) return make_error(name + ": " + version.error().message);
  if (*application_id == 0 && *version == 0) {
    Result<std::string> objects = db.scalar("SELECT count(*) FROM sqlite_schema");
    if (!objects) return make_error(name + ": " + objects.error().message);
    if (*objects == "0") return FileState::kEmpty;
  }
  if (*application_id != kApplicationId) {
    char hex[16];
    std::snprintf(hex, sizeof hex, "0x%08x", static_cast<unsigned>(*application_id));
    return make_error(name + ": not a cqda project database (SQLite application_id " + hex +
                      ", expected 0x43514441)");
  }
  if (*version > schema_version())
    return make_error(name + ": made by a newer cqda (schema version " + std::to_string(*version) +
                      "; this cqda knows up to " + std::to_string(schema_version()) +
                      "); upgrade cqda to open it");
  *user_version = *version;
  return FileState::kProject;
}

// WAL: readers (verification, the sqlite3 shell) never block the writer and a crash cannot
// tear a commit. synchronous=FULL: COMMIT returns after the WAL is fsynced, so acknowledged
// writes survive power loss too, not just a crash of the process. foreign_keys: codings must
// name a stored codebook version.
Status configure_for_writing(sqlite::Database& db, const std::string& name) {
  Result<std::string> mode = db.scalar("PRAGMA journal_mode = WAL");
  if (!mode) return make_error(name + ": " + mode.error().message);
  if (*mode != "wal")
    return make_error(name + ": cannot use WAL mode (journal mode is " + *mode + ")");
  Status set = db.exec("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;");
  if (!set) return make_error(name + ": " + set.error().message);
  return {};
}

}  // namespace

Store::Store(std::filesystem::path path, std::unique_ptr<sqlite::Database> db, bool read_only)
    : path_(std::move(path)), db_(std::move(db)), read_only_(read_only) {}

Store::~Store() = default;

Result<std::unique_ptr<Store>> Store::open(const std::filesystem::path& file,
                                           const codebook::Codebook& initial) {
  const std::string name = file.string();
  if (Status prepared = prepare_file(file); !prepared) return prepared.error();
  auto db = sqlite::Database::open(file, SQLITE_OPEN_READWRITE);
  if (!db) return db.error();
  harden(**db);
  int before = 0;
  Result<FileState> state = recognize(**db, file, &before);
  if (!state) return state.error();
  if (Status ok = configure_for_writing(**db, name); !ok) return ok.error();
  if (Result<int> migrated = migrate(**db); !migrated)
    return make_error(name + ": " + migrated.error().message);

  std::unique_ptr<Store> store(new Store(file, std::move(db).value(), false));
  Result<std::string> versions = store->db_->scalar("SELECT count(*) FROM codebook_versions");
  if (!versions) return make_error(name + ": " + versions.error().message);
  if (*versions == "0") {
    if (Status stored = store->store_initial_codebook(initial); !stored)
      return make_error(name + ": storing the initial codebook: " + stored.error().message);
  } else if (before < schema_version()) {
    store->last_change_ = {{"kind", "project.migrate"}, {"from", before}, {"to", schema_version()}};
  }
  if (Status loaded = store->load_current_codebook(); !loaded) return loaded.error();
  return store;
}

Result<std::unique_ptr<Store>> Store::open_read_only(const std::filesystem::path& file) {
  const std::string name = file.string();
  struct stat st {};
  if (::lstat(file.c_str(), &st) != 0)
    return make_error("open(" + name + "): " + errno_text(errno));
  if (!S_ISREG(st.st_mode)) return make_error(name + ": not a regular file");
  auto db = sqlite::Database::open(file, SQLITE_OPEN_READONLY);
  if (!db) return db.error();
  harden(**db);
  int version = 0;
  Result<FileState> state = recognize(**db, file, &version);
  if (!state) return state.error();
  if (*state == FileState::kEmpty) return make_error(name + ": an empty database, not a project");
  if (version < schema_version())
    return make_error(name + ": schema version " + std::to_string(version) + " is older than " +
                      std::to_string(schema_version()) + "; open it for writing once to migrate");
  if (Status ok = (*db)->exec("PRAGMA query_only = ON"); !ok) return ok.error();
  std::unique_ptr<Store> store(new Store(file, std::move(db).value(), true));
  if (Status loaded = store->load_current_codebook(); !loaded) return loaded.error();
  return store;
}

Status Store::writable() const {
  if (read_only_) return make_error("project " + path_.string() + " is open read-only");
  return {};
}

Status Store::store_initial_codebook(const codebook::Codebook& initial) {
  Result<std::string> text = codebook_document_text(initial.document);
  if (!text) return text.error();
  Result<codebook::Codebook> book = codebook::load_codebook_text(*text, "initial codebook");
  if (!book) return book.error();
  Result<sqlite::Transaction> transaction = sqlite::Transaction::begin(*db_);
  if (!transaction) return transaction.error();
  const Json change = {
      {"op", "create"}, {"source_sha256", initial.sha256}, {"change", "initial codebook"}};
  Result<sqlite::Query> insert = db_->query(
      "INSERT INTO codebook_versions (version, created_at, author, change, document, sha256) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  if (!insert) return insert.error();
  insert->bind_all(book->version, utc_now(), kInitialAuthor, change.dump(), *text, book->sha256);
  if (Status ok = insert->run(); !ok) return ok.error();
  if (Status ok = transaction->commit(); !ok) return ok.error();
  last_change_ = {{"kind", "project.create"},
                  {"schema_version", schema_version()},
                  {"codebook_version", book->version},
                  {"sha256", book->sha256},
                  {"source_sha256", initial.sha256}};
  return {};
}

Status Store::load_current_codebook() {
  Result<sqlite::Query> q = db_->query(
      "SELECT version, document, sha256 FROM codebook_versions ORDER BY version DESC LIMIT 1");
  if (!q) return q.error();
  Result<bool> row = q->step();
  if (!row) return row.error();
  const std::string name = path_.string();
  if (!*row) return make_error(name + ": the project has no codebook");
  const std::string what = "codebook version " + std::to_string(q->int64(0)) + " in " + name;
  const std::string text = q->text(1);
  Result<codebook::Codebook> book = codebook::load_codebook_text(text, what);
  if (!book) return book.error();
  if (book->sha256 != q->text(2) || book->version != q->int64(0))
    return make_error(what + ": the stored document does not match its hash or version");
  codebook_ = std::move(book).value();
  return {};
}

Result<std::vector<CodebookVersion>> Store::history() const {
  Result<sqlite::Query> q = db_->query(
      "SELECT version, created_at, author, change, sha256 FROM codebook_versions ORDER BY version");
  if (!q) return q.error();
  std::vector<CodebookVersion> out;
  for (;;) {
    Result<bool> row = q->step();
    if (!row) return row.error();
    if (!*row) break;
    Json change = Json::parse(q->text(3), nullptr, false);
    out.push_back({static_cast<int>(q->int64(0)), q->text(1), q->text(2),
                   change.is_discarded() ? Json() : change, q->text(4)});
  }
  return out;
}

Result<codebook::Codebook> Store::codebook_at(int version) const {
  Result<sqlite::Query> q = db_->query("SELECT document FROM codebook_versions WHERE version = ?1");
  if (!q) return q.error();
  q->bind(1, version);
  Result<bool> row = q->step();
  if (!row) return row.error();
  if (!*row) return make_error("codebook version " + std::to_string(version) + " does not exist");
  return codebook::load_codebook_text(q->text(0), "codebook version " + std::to_string(version));
}

Result<CodebookVersion> Store::change_codebook(const Json& change, const std::string& author) {
  if (Status ok = writable(); !ok) return ok.error();
  if (Status ok = check_field("author", author, kMaxNameBytes, true); !ok) return ok.error();
  const std::string now = utc_now();
  Result<PlannedChange> plan = plan_codebook_change(codebook_, change, author, now);
  if (!plan) return plan.error();

  Result<sqlite::Transaction> transaction = sqlite::Transaction::begin(*db_);
  if (!transaction) return transaction.error();
  Json summary = plan->summary;
  if (!plan->move_from.empty()) {
    std::int64_t moved = 0, collapsed = 0;
    for (const std::string& from : plan->move_from) {
      Result<std::int64_t> n =
          move_codings(from, plan->move_to, plan->move, author, now, collapsed);
      if (!n) return n.error();
      moved += *n;
    }
    summary["codings_moved"] = moved;
    summary["codings_collapsed"] = collapsed;
  }
  if (plan->move == CodingMove::kRename) {  // the old id leaves the codebook: memos follow
    Result<sqlite::Query> memos = db_->query("UPDATE memos SET code_id = ?2 WHERE code_id = ?1");
    if (!memos) return memos.error();
    memos->bind_all(plan->move_from.front(), plan->move_to);
    if (Status ok = memos->run(); !ok) return ok.error();
  }
  const CodebookVersion stored{plan->codebook.version, now, author, summary, plan->codebook.sha256};
  Result<sqlite::Query> insert = db_->query(
      "INSERT INTO codebook_versions (version, created_at, author, change, document, sha256) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  if (!insert) return insert.error();
  insert->bind_all(stored.version, now, author, summary.dump(), plan->text, stored.sha256);
  if (Status ok = insert->run(); !ok) return ok.error();
  if (Status ok = transaction->commit(); !ok) return ok.error();

  codebook_ = std::move(plan->codebook);
  last_change_ = {{"kind", "codebook.change"},
                  {"version", stored.version},
                  {"sha256", stored.sha256},
                  {"change", summary}};
  return stored;
}

Status Store::check_integrity() const {
  const std::string name = path_.string();
  Result<sqlite::Query> check = db_->query("PRAGMA integrity_check");
  if (!check) return check.error();
  std::string problems;
  for (;;) {
    Result<bool> row = check->step();
    if (!row) return make_error(name + ": integrity_check: " + row.error().message);
    if (!*row) break;
    if (check->text(0) != "ok") problems += "\n  " + check->text(0);
  }
  Result<sqlite::Query> keys = db_->query("PRAGMA foreign_key_check");
  if (!keys) return keys.error();
  for (;;) {
    Result<bool> row = keys->step();
    if (!row) return make_error(name + ": foreign_key_check: " + row.error().message);
    if (!*row) break;
    problems +=
        "\n  row " + keys->text(1) + " of " + keys->text(0) + " names a missing " + keys->text(2);
  }
  Result<sqlite::Query> versions =
      db_->query("SELECT version, document, sha256 FROM codebook_versions ORDER BY version");
  if (!versions) return versions.error();
  for (;;) {
    Result<bool> row = versions->step();
    if (!row) return make_error(name + ": " + row.error().message);
    if (!*row) break;
    if (sha256_hex(versions->text(1)) != versions->text(2))
      problems += "\n  codebook version " + versions->text(0) + " does not match its sha256";
  }
  if (!problems.empty()) return make_error(name + ": the project database is damaged:" + problems);
  return {};
}

Json to_json(const CodebookVersion& version) {
  return {{"version", version.version},
          {"created_at", version.created_at},
          {"author", version.author},
          {"change", version.change},
          {"sha256", version.sha256}};
}

}  // namespace cqda::project
