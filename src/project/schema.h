// The project database's schema and its migrations (docs/PROJECT-STATE.md).
//
// Rules: the schema version is `PRAGMA user_version`; migration N takes a database from
// version N-1 to N and sets user_version = N itself, inside one transaction, so a crash leaves
// the database at N-1 or N, never between. Migrations are append-only: a released migration is
// never edited, a change is a new migration. `PRAGMA application_id` marks the file as a cqda
// project (migration 1 sets it).
#pragma once

#include <cstdint>
#include <vector>

#include "common/result.h"
#include "project/sqlite.h"

namespace cqda::project {

inline constexpr std::int32_t kApplicationId = 0x43514441;  // "CQDA"

struct Migration {
  int version;          // the user_version after this step
  const char* summary;  // one line, for logs and docs
  const char* sql;      // fixed SQL text; ends by setting user_version
};

// Every migration in order; the last one's version is the schema version this code writes.
const std::vector<Migration>& migrations();
int schema_version();

// Applies the migrations above the database's user_version, each in its own write transaction.
// Returns the version the database had before. Refuses a version above schema_version().
Result<int> migrate(sqlite::Database& db);

// PRAGMA user_version / application_id.
Result<int> read_user_version(sqlite::Database& db);
Result<std::int32_t> read_application_id(sqlite::Database& db);

}  // namespace cqda::project
