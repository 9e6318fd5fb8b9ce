// The database file itself: modes, schema versions and migrations, refusing foreign files, and
// surviving a SIGKILL in the middle of a stream of writes.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <map>
#include <random>
#include <set>

#include "common/hash.h"
#include "project/schema.h"
#include "project/sqlite.h"
#include "project/store.h"
#include "project_test_support.h"

namespace cqda::project {
namespace {

using Catch::Contains;
using cqda::test::TempDir;
using test::add_one;
using test::error_of;
using test::open_store;
using test::quote_coding;

const std::string kSegment = "We were short-staffed all the time, and short-staffed at night.";

unsigned mode_of(const std::filesystem::path& path) {
  struct stat st {};
  REQUIRE(::lstat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

std::unique_ptr<sqlite::Database> raw(const std::filesystem::path& file) {
  auto db = sqlite::Database::open(file, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  REQUIRE(db);
  return std::move(db).value();
}

TEST_CASE("the database is created 0600 in folders created 0700", "[project][durability]") {
  TempDir tmp;
  const auto file = tmp / "out/project/cqda-project.sqlite3";
  auto store = open_store(file);
  add_one(*store, quote_coding("s1", kSegment, "night", {"workload"}));
  CHECK(mode_of(file) == 0600);
  CHECK(mode_of(tmp / "out/project") == 0700);
  CHECK(mode_of(tmp / "out") == 0700);
  const auto wal = file.string() + "-wal";
  CHECK(mode_of(wal) == 0600);  // SQLite gives the WAL the database's mode
  CHECK(mode_of(file.string() + "-shm") == 0600);
  auto mode = raw(file)->scalar("PRAGMA journal_mode");
  CHECK(*mode == "wal");
}

TEST_CASE("an existing folder keeps its mode; a symlink or a folder at the path is refused",
          "[project][durability]") {
  TempDir tmp;
  std::filesystem::create_directories(tmp / "shared");
  ::chmod((tmp / "shared").c_str(), 0755);
  open_store(tmp / "shared/p.sqlite3");
  CHECK(mode_of(tmp / "shared") == 0755);

  std::filesystem::create_symlink(tmp / "shared/p.sqlite3", tmp / "link.sqlite3");
  CHECK_THAT(error_of(Store::open(tmp / "link.sqlite3", test::example_codebook())),
             Contains("is a symbolic link"));
  CHECK_THAT(error_of(Store::open(tmp / "shared", test::example_codebook())),
             Contains("not a regular file"));
}

TEST_CASE("a version-1 database is migrated to the current schema, keeping its data",
          "[project][durability]") {
  TempDir tmp;
  const auto file = tmp / "v1.sqlite3";
  const std::string document = test::example_codebook().document.dump(2) + "\n";
  {
    // What the first release of the store wrote: migration 1 only, then some rows.
    auto db = raw(file);
    REQUIRE(db->exec("PRAGMA journal_mode = WAL"));
    REQUIRE(db->exec(migrations().at(0).sql));
    auto version = db->query(
        "INSERT INTO codebook_versions VALUES (1, '2024-05-01T10:00:00.000Z', 'ana', "
        "'{\"op\":\"create\"}', ?1, ?2)");
    REQUIRE(version);
    version->bind_all(document, sha256_hex(document));
    REQUIRE(version->run());
    REQUIRE(db->exec(
        "INSERT INTO codings (document_id, segment_id, segment_start, span_start, span_end, quote,"
        " segment_sha256, code_id, codebook_version, coder, memo, created_at, removed_at, "
        "removed_by)"
        " VALUES ('d1', 'd1.s0001', 0, 0, 5, 'night', 'x', 'workload', 1, 'ana', 'm',"
        " '2024-05-01T10:01:00.000Z', NULL, NULL),"
        " ('d1', 'd1.s0002', 9, 1, 4, 'ate', 'x', 'pay', 1, 'ben', '',"
        " '2024-05-01T10:02:00.000Z', '2024-05-02T09:00:00.000Z', 'ben');"
        "INSERT INTO memos (text, author, code_id, created_at)"
        " VALUES ('old memo', 'ana', 'pay', '2024-05-01T10:03:00.000Z');"));
    CHECK(*read_user_version(*db) == 1);
  }
  auto store = open_store(file);
  CHECK(store->last_change() == Json({{"kind", "project.migrate"}, {"from", 1}, {"to", 2}}));
  CHECK(*read_user_version(*raw(file)) == schema_version());
  auto codings = store->list_codings({.include_removed = true});
  REQUIRE(codings->total == 2);
  CHECK(codings->codings[0].quote == "night");
  CHECK(codings->codings[0].memo == "m");
  CHECK_FALSE(codings->codings[0].removed());
  CHECK(codings->codings[1].removed_by == "ben");
  CHECK(codings->codings[1].removed_reason == "removed by a coder");
  CHECK(store->list_memos({.code_id = "pay"})->memos.at(0).text == "old memo");
  CHECK(store->history()->at(0).author == "ana");
  CHECK(store->check_integrity());
  // The migrated database takes new writes, and opening it again migrates nothing.
  add_one(*store, quote_coding("s1", kSegment, "night", {"pay"}));
  store.reset();
  CHECK(open_store(file)->last_change().is_null());
}

TEST_CASE("a database of a newer schema is refused and left alone", "[project][durability]") {
  TempDir tmp;
  const auto file = tmp / "p.sqlite3";
  open_store(file);
  REQUIRE(raw(file)->exec("PRAGMA user_version = 99"));
  const std::string before = cqda::test::slurp(file);
  const std::string message = error_of(Store::open(file, test::example_codebook()));
  CHECK_THAT(message, Contains("made by a newer cqda (schema version 99; this cqda knows up to " +
                               std::to_string(schema_version()) + "); upgrade cqda"));
  CHECK_THAT(error_of(Store::open_read_only(file)), Contains("made by a newer cqda"));
  CHECK(cqda::test::slurp(file) == before);
}

TEST_CASE("an SQLite database that is not a cqda project is refused and left alone",
          "[project][durability]") {
  TempDir tmp;
  const auto file = tmp / "other.sqlite3";
  REQUIRE(raw(file)->exec("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('hello');"));
  const std::string before = cqda::test::slurp(file);
  CHECK_THAT(error_of(Store::open(file, test::example_codebook())),
             Contains("not a cqda project database (SQLite application_id 0x00000000"));
  CHECK(cqda::test::slurp(file) == before);
  CHECK_FALSE(std::filesystem::exists(file.string() + "-wal"));

  REQUIRE(raw(file)->exec("PRAGMA application_id = 1234"));
  CHECK_THAT(error_of(Store::open_read_only(file)), Contains("application_id 0x000004d2"));
}

TEST_CASE("a file that is not an SQLite database is refused without being modified",
          "[project][durability]") {
  TempDir tmp;
  for (const std::string& garbage : {std::string("not a database at all\n"), std::string(8192, 'x'),
                                     std::string("SQLite format 3") + std::string(4000, '\x01')}) {
    const auto file = tmp / "garbage.sqlite3";
    cqda::test::write_text(file, garbage);
    ::chmod(file.c_str(), 0644);
    CHECK_THAT(error_of(Store::open(file, test::example_codebook())),
               Contains("not a cqda project database"));
    CHECK(cqda::test::slurp(file) == garbage);
    CHECK(mode_of(file) == 0644);
    CHECK_FALSE(std::filesystem::exists(file.string() + "-wal"));
    CHECK_FALSE(std::filesystem::exists(file.string() + "-journal"));
  }
}

TEST_CASE("check_integrity finds a codebook version that no longer matches its hash",
          "[project][durability]") {
  TempDir tmp;
  const auto file = tmp / "p.sqlite3";
  {
    auto store = open_store(file);
    REQUIRE(store->change_codebook({{"op", "retire"}, {"code_id", "pay"}}, "ana"));
  }
  REQUIRE(raw(file)->exec(
      "UPDATE codebook_versions SET document = replace(document, 'Pay', 'Pie') WHERE version = 1"));
  auto store = open_store(file);  // the current version (2) is intact
  CHECK_THAT(error_of(store->check_integrity()),
             Contains("codebook version 1 does not match its sha256"));
  REQUIRE(raw(file)->exec(
      "UPDATE codebook_versions SET document = replace(document, 'Pay', 'Pie') WHERE version = 2"));
  CHECK_THAT(error_of(Store::open(file, test::example_codebook())),
             Contains("does not match its hash or version"));
}

// Reads "ack N\n" lines from `fd` until `want` acks arrived (or EOF when want < 0).
void read_acks(int fd, std::set<int>& acked, std::string& pending, int want) {
  char buffer[4096];
  while (want < 0 || static_cast<int>(acked.size()) < want) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    pending.append(buffer, static_cast<std::size_t>(n));
    for (std::size_t eol; (eol = pending.find('\n')) != std::string::npos;) {
      acked.insert(std::stoi(pending.substr(4, eol - 4)));
      pending.erase(0, eol + 1);
    }
  }
}

TEST_CASE("every acknowledged coding survives a SIGKILL in the middle of writing",
          "[project][durability]") {
  TempDir tmp;
  const auto file = test::project_file(tmp);
  const codebook::Codebook& book = test::example_codebook();
  int fds[2];
  REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::close(fds[0]);
    auto store = Store::open(file, book);
    if (!store) ::_exit(2);
    for (int i = 0; i < 100000; ++i) {
      NewCoding c = quote_coding("d.s" + std::to_string(i), kSegment, "short-staffed",
                                 {i % 2 ? "workload" : "pay"});
      if (i % 3 == 0) c.code_ids.push_back("training");
      if (!(*store)->add_coding(c)) ::_exit(3);
      const std::string ack = "ack " + std::to_string(i) + "\n";
      if (::write(fds[1], ack.data(), ack.size()) != static_cast<ssize_t>(ack.size())) ::_exit(4);
    }
    ::_exit(0);
  }
  ::close(fds[1]);
  std::set<int> acked;
  std::string pending;
  read_acks(fds[0], acked, pending, 60);
  // Land the kill anywhere inside the next call: a commit takes about one fsync.
  ::usleep(std::random_device()() % 5000);
  ::kill(child, SIGKILL);
  read_acks(fds[0], acked, pending, -1);  // acks written before the kill landed
  ::close(fds[0]);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  CHECK(WIFSIGNALED(status));
  REQUIRE(acked.size() >= 60);

  auto store = open_store(file);
  CHECK(store->check_integrity());
  auto codings = store->list_codings({.limit = kMaxPage});
  REQUIRE(codings);
  std::set<std::string> stored;
  for (const Coding& c : codings->codings) stored.insert(c.segment_id + "/" + c.code_id);
  for (int i : acked) {
    INFO("acknowledged coding " << i);
    const std::string segment = "d.s" + std::to_string(i);
    CHECK(stored.count(segment + "/" + (i % 2 ? "workload" : "pay")) == 1);
    if (i % 3 == 0) CHECK(stored.count(segment + "/training") == 1);
  }
  // Beyond the acknowledged ones, at most the call in flight when the kill landed committed,
  // and every call committed whole (both of its rows or none).
  std::map<int, int> rows;
  for (const Coding& c : codings->codings) ++rows[std::stoi(c.segment_id.substr(3))];
  for (const auto& [i, count] : rows) {
    INFO("stored coding " << i);
    CHECK((acked.count(i) == 1 || i == *acked.rbegin() + 1));
    CHECK(count == (i % 3 == 0 ? 2 : 1));
  }
}

}  // namespace
}  // namespace cqda::project
