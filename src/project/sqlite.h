// A thin RAII layer over the SQLite C API for the project store: one owner of the connection,
// a cache of prepared statements keyed by their (static) SQL text, a Query that binds
// parameters and resets its statement when it goes out of scope, and a write transaction that
// rolls back unless committed.
//
// Ownership and failure behaviour:
// - Database owns the sqlite3 handle and every cached statement; a Query borrows one statement
//   and must not outlive the Database. Only one Query per SQL text may be alive at a time.
// - Values are always bound as parameters; SQL text is never built from input.
// - A bind error is sticky in the Query and reported by the next step(), so call sites bind
//   without checking each call.
// - Not thread-safe (thread-compatible): one thread uses a Database at a time.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "common/result.h"

namespace cqda::project::sqlite {

struct StatementDeleter {
  void operator()(sqlite3_stmt* statement) const { sqlite3_finalize(statement); }
};
using StatementPtr = std::unique_ptr<sqlite3_stmt, StatementDeleter>;

class Query {
 public:
  Query(sqlite3* db, sqlite3_stmt* statement) : db_(db), statement_(statement) {}
  Query(Query&& other) noexcept
      : db_(other.db_),
        statement_(std::exchange(other.statement_, nullptr)),
        bind_error_(std::move(other.bind_error_)) {}
  Query& operator=(Query&&) = delete;
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;
  ~Query();

  Query& bind(int index, std::int64_t value);
  Query& bind(int index, std::string_view value);
  Query& bind(int index, const std::optional<std::string>& value);  // nullopt binds NULL
  Query& bind(int index, const char* value) { return bind(index, std::string_view(value)); }
  Query& bind(int index, const std::string& value) { return bind(index, std::string_view(value)); }
  Query& bind(int index, int value) { return bind(index, static_cast<std::int64_t>(value)); }
  Query& bind(int index, std::size_t value) {
    return bind(index, static_cast<std::int64_t>(value));
  }
  // Binds the arguments to parameters 1, 2, ... in order.
  template <typename... Args>
  Query& bind_all(const Args&... args) {
    int index = 0;
    (bind(++index, args), ...);
    return *this;
  }

  // true: a row is available; false: the statement is done.
  Result<bool> step();
  // Steps to completion, for statements that return no rows.
  Status run();

  std::int64_t int64(int column) const;
  std::string text(int column) const;  // "" for NULL
  bool is_null(int column) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* statement_;
  std::string bind_error_;
};

class Database {
 public:
  // Opens `file` with the given sqlite3_open_v2 flags (SQLITE_OPEN_NOFOLLOW is always added).
  static Result<std::unique_ptr<Database>> open(const std::filesystem::path& file, int flags);
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database();

  // A Query over the cached statement for `sql`, which must be a string literal (its text is
  // the cache key and is assumed to live for the program's lifetime).
  Result<Query> query(const char* sql);
  // Runs SQL text of one or more statements without parameters: pragmas and migrations only.
  Status exec(const char* sql);
  // The first column of the first row of a parameterless statement, as text ("" if none).
  Result<std::string> scalar(const char* sql);

  std::int64_t changes() const { return sqlite3_changes64(db_); }
  std::int64_t last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }
  std::string error_text() const { return sqlite3_errmsg(db_); }
  sqlite3* handle() const { return db_; }

 private:
  explicit Database(sqlite3* db) : db_(db) {}

  sqlite3* db_;
  std::unordered_map<std::string_view, StatementPtr> statements_;
};

// BEGIN IMMEDIATE ... COMMIT: takes the write lock up front (so a busy database fails at the
// start, not half-way) and rolls back on destruction unless commit() succeeded.
class Transaction {
 public:
  static Result<Transaction> begin(Database& db);
  Transaction(Transaction&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  ~Transaction();
  // Returns once SQLite reports the commit durable (per the synchronous setting).
  Status commit();

 private:
  explicit Transaction(Database* db) : db_(db) {}
  Database* db_;
};

}  // namespace cqda::project::sqlite
