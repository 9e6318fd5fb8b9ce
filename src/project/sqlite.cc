#include "project/sqlite.h"

namespace cqda::project::sqlite {

Query::~Query() {
  if (statement_ == nullptr) return;
  sqlite3_reset(statement_);
  sqlite3_clear_bindings(statement_);
}

Query& Query::bind(int index, std::int64_t value) {
  if (sqlite3_bind_int64(statement_, index, value) != SQLITE_OK && bind_error_.empty())
    bind_error_ = sqlite3_errmsg(db_);
  return *this;
}

Query& Query::bind(int index, std::string_view value) {
  if (sqlite3_bind_text64(statement_, index, value.data(), value.size(), SQLITE_TRANSIENT,
                          SQLITE_UTF8) != SQLITE_OK &&
      bind_error_.empty())
    bind_error_ = sqlite3_errmsg(db_);
  return *this;
}

Query& Query::bind(int index, const std::optional<std::string>& value) {
  if (value) return bind(index, std::string_view(*value));
  if (sqlite3_bind_null(statement_, index) != SQLITE_OK && bind_error_.empty())
    bind_error_ = sqlite3_errmsg(db_);
  return *this;
}

Result<bool> Query::step() {
  if (!bind_error_.empty())
    return make_error("sqlite bind (" + std::string(sqlite3_sql(statement_)) + "): " + bind_error_);
  switch (sqlite3_step(statement_)) {
    case SQLITE_ROW:
      return true;
    case SQLITE_DONE:
      return false;
    default:
      return make_error(std::string("sqlite: ") + sqlite3_errmsg(db_));
  }
}

Status Query::run() {
  for (;;) {
    Result<bool> row = step();
    if (!row) return row.error();
    if (!*row) return {};
  }
}

std::int64_t Query::int64(int column) const { return sqlite3_column_int64(statement_, column); }

std::string Query::text(int column) const {
  const unsigned char* bytes = sqlite3_column_text(statement_, column);
  if (bytes == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(bytes),
                     static_cast<std::size_t>(sqlite3_column_bytes(statement_, column)));
}

bool Query::is_null(int column) const {
  return sqlite3_column_type(statement_, column) == SQLITE_NULL;
}

Result<std::unique_ptr<Database>> Database::open(const std::filesystem::path& file, int flags) {
  sqlite3* handle = nullptr;
  int rc = sqlite3_open_v2(file.c_str(), &handle, flags | SQLITE_OPEN_NOFOLLOW, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = handle ? sqlite3_errmsg(handle) : sqlite3_errstr(rc);
    sqlite3_close_v2(handle);
    return make_error("open(" + file.string() + "): " + message);
  }
  sqlite3_extended_result_codes(handle, 1);
  return std::unique_ptr<Database>(new Database(handle));
}

Database::~Database() {
  statements_.clear();  // finalize every statement before closing
  sqlite3_close_v2(db_);
}

Result<Query> Database::query(const char* sql) {
  auto it = statements_.find(sql);
  if (it == statements_.end()) {
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &statement, nullptr) !=
        SQLITE_OK)
      return make_error("sqlite prepare (" + std::string(sql) + "): " + sqlite3_errmsg(db_));
    it = statements_.emplace(sql, StatementPtr(statement)).first;
  }
  return Query(db_, it->second.get());
}

Status Database::exec(const char* sql) {
  char* message = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) == SQLITE_OK) return {};
  std::string text = message ? message : sqlite3_errmsg(db_);
  sqlite3_free(message);
  return make_error("sqlite: " + text);
}

Result<std::string> Database::scalar(const char* sql) {
  Result<Query> q = query(sql);
  if (!q) return q.error();
  Result<bool> row = q->step();
  if (!row) return row.error();
  return *row ? q->text(0) : std::string();
}

Result<Transaction> Transaction::begin(Database& db) {
  Status begun = db.exec("BEGIN IMMEDIATE");
  if (!begun) return begun.error();
  return Transaction(&db);
}

Transaction::~Transaction() {
  if (db_ != nullptr) (void)db_->exec("ROLLBACK");
}

Status Transaction::commit() {
  Status committed = db_->exec("COMMIT");
  // A failed COMMIT leaves the transaction open (e.g. SQLITE_BUSY); the destructor rolls back.
  if (committed) db_ = nullptr;
  return committed;
}

}  // namespace cqda::project::sqlite
