// The reader as a separate, locked-down process: what it returns, what it refuses.
#include <catch2/catch.hpp>

#include <signal.h>
#include <unistd.h>

#include <filesystem>

#include "privsep/reader.h"
#include "privsep_support.h"
#include "support/test_support.h"

using namespace cqda;
using privsep::DocumentStatus;

TEST_CASE("the reader runs with no_new_privs and a seccomp filter, and returns anonymized documents", "[privsep][reader]") {
  test::TempDir dir;
  test::write_text(dir.path() / "input/interviews/p01.txt", "Interviewer: Hello.\n\nMaria Santos: I work nights.\n");
  test::ReaderFixture fixture(dir.path() / "input");
  auto reader = privsep::ReaderClient::start(fixture.setup);
  REQUIRE(reader);
  const pid_t pid = (*reader)->pid();
  CHECK(test::proc_status_field(pid, "NoNewPrivs") == "1");
  CHECK(test::proc_status_field(pid, "Seccomp") == "2");
  CHECK(test::proc_status_field(pid, "Seccomp_filters") == "1");
  CHECK((*reader)->lockdown_report().find("reader: seccomp allow-list") != std::string::npos);
  CHECK((*reader)->lockdown_report().find("landlock ABI") != std::string::npos);

  auto scan = (*reader)->scan();
  REQUIRE(scan);
  REQUIRE(scan->accepted.size() == 1);
  CHECK(scan->accepted[0].path == "interviews/p01.txt");
  std::vector<privsep::DocumentReply> replies;
  REQUIRE((*reader)->read_documents(1, policy::Destination::kExport, 4, [&](std::size_t, privsep::DocumentReply&& r) {
    replies.push_back(std::move(r));
    return Status::success();
  }));
  REQUIRE(replies.size() == 1);
  REQUIRE(replies[0].status == DocumentStatus::kOk);
  CHECK(replies[0].text_kind == privsep::TextKind::kAnonymized);
  const std::string& text = replies[0].document->text;
  CHECK(text.find("Maria") == std::string::npos);
  CHECK(text.find("Person-") != std::string::npos);
  CHECK(replies[0].document->segments.size() == 2);
  CHECK(replies[0].raw_sha256.size() == 64);

  auto sealed = (*reader)->export_vault();
  REQUIRE(sealed);
  CHECK_FALSE(sealed->empty());
  CHECK(sealed->find("Maria") == std::string::npos);  // sealed, not plain
  REQUIRE((*reader)->finish());
}

TEST_CASE("path escapes through the reader are refused before any content is read", "[privsep][reader]") {
  test::TempDir dir;
  const auto input = dir.path() / "input";
  test::write_text(input / "ok.txt", "Maria Santos: the ordinary file.\n");
  test::write_text(dir.path() / "outside.txt", "SECRET-OUTSIDE words\n");
  test::write_text(dir.path() / "input-evil/secret.txt", "SECRET-SIBLING words\n");
  std::filesystem::create_symlink("../outside.txt", input / "link-out.txt");
  std::filesystem::create_symlink("../input-evil", input / "linkdir");
  std::filesystem::create_symlink("nowhere.txt", input / "dangling.txt");
  test::ReaderFixture fixture(input);
  auto reader = privsep::ReaderClient::start(fixture.setup);
  REQUIRE(reader);

  const std::vector<std::string> escapes = {
      "../outside.txt",
      "/etc/passwd",
      (dir.path() / "outside.txt").string(),
      "link-out.txt",
      "linkdir/secret.txt",
      "dangling.txt",
      "../input-evil/secret.txt",
      (dir.path() / "input-evil/secret.txt").string(),
      "/proc/self/root/etc/passwd",
      "proc/self/root/etc/passwd",
      std::string("ok.txt\0/../../outside.txt", 25),
      std::string(5000, 'a') + ".txt",
      "a/../../outside.txt",
      "./ok.txt/../../outside.txt",
  };
  for (const auto& path : escapes) {
    auto reply = (*reader)->read_path(path, policy::Destination::kExport);
    REQUIRE(reply);
    INFO("path: " << path.substr(0, 80) << " -> " << reply->error);
    CHECK(reply->status == DocumentStatus::kDenied);
    CHECK_FALSE(reply->document.has_value());
    CHECK(reply->raw_sha256.empty());
    CHECK_FALSE(reply->error.empty());
    CHECK(reply->error.find("SECRET") == std::string::npos);
  }
  // The reader is still serving, and a plain path still works.
  auto ok = (*reader)->read_path("ok.txt", policy::Destination::kExport);
  REQUIRE(ok);
  REQUIRE(ok->status == DocumentStatus::kOk);
  CHECK(ok->document->text.find("Maria") == std::string::npos);
  REQUIRE((*reader)->finish());
}

TEST_CASE("a reader that dies is reported, not respawned", "[privsep][reader]") {
  test::TempDir dir;
  test::write_text(dir.path() / "input/a.txt", "words\n");
  test::ReaderFixture fixture(dir.path() / "input");
  auto reader = privsep::ReaderClient::start(fixture.setup);
  REQUIRE(reader);
  const pid_t pid = (*reader)->pid();
  REQUIRE(::kill(pid, SIGKILL) == 0);
  auto scan = (*reader)->scan();
  REQUIRE_FALSE(scan);
  CHECK(scan.error().message.find("killed by SIGKILL") != std::string::npos);
  CHECK(::kill(pid, 0) != 0);  // reaped
}

TEST_CASE("on a kernel with Landlock below ABI 3 the reader falls back to read-only openat and still reads", "[privsep][reader]") {
  test::TempDir dir;
  test::write_text(dir.path() / "input/interviews/p01.txt", "Interviewer: Hello.\n\nMaria Santos: I work nights.\n");
  test::write_text(dir.path() / "input/notes/n1.md", "Maria Santos met the team.\n");
  std::filesystem::create_symlink("../interviews/p01.txt", dir.path() / "input/notes/link.md");
  for (int abi : {2, 0}) {
    INFO("Landlock ABI limited to " << abi);
    test::ReaderFixture fixture(dir.path() / "input");
    fixture.setup.landlock_abi_limit = abi;
    auto reader = privsep::ReaderClient::start(fixture.setup);
    REQUIRE(reader);
    CHECK((*reader)->lockdown_report().find(abi == 0 ? "landlock not available" : "landlock ABI 2") != std::string::npos);
    auto scan = (*reader)->scan();
    REQUIRE(scan);
    CHECK(scan->accepted.size() == 2);
    std::size_t ok = 0;
    REQUIRE((*reader)->read_documents(scan->accepted.size(), policy::Destination::kExport, 4, [&](std::size_t, privsep::DocumentReply&& r) {
      if (r.status == DocumentStatus::kOk && r.document->text.find("Maria") == std::string::npos) ++ok;
      return Status::success();
    }));
    CHECK(ok == 2);
    // The fallback walk refuses escapes and symlinks just the same.
    for (const char* path : {"../outside.txt", "notes/link.md"}) {
      auto denied = (*reader)->read_path(path, policy::Destination::kExport);
      REQUIRE(denied);
      CHECK(denied->status == DocumentStatus::kDenied);
    }
    REQUIRE((*reader)->finish());
  }
}

// SANDBOX-NOTES: a forbidden call injected from outside into the live, locked-down reader
// (gdb attaches with ptrace and makes the reader itself call socket()) must kill it.
TEST_CASE("a socket() call injected into the running reader kills it", "[privsep][reader][gdb]") {
  if (std::system("command -v gdb >/dev/null 2>&1") != 0) {
    WARN("gdb is not installed: skipped (scripts/install-deps.sh installs it)");
    return;
  }
  test::TempDir dir;
  test::write_text(dir.path() / "input/a.txt", "words\n");
  test::ReaderFixture fixture(dir.path() / "input");
  auto reader = privsep::ReaderClient::start(fixture.setup);
  REQUIRE(reader);
  const pid_t pid = (*reader)->pid();
  // No core file if gdb itself trips over the process dying under it.
  const std::string command = "ulimit -c 0; timeout 120 gdb -p " + std::to_string(pid) +
                              " -batch -nx -ex 'call (int)socket(2,1,0)' >" + (dir.path() / "gdb.txt").string() + " 2>&1";
  const int rc = std::system(command.c_str());
  const std::string gdb_output = test::slurp(dir.path() / "gdb.txt");
  if (gdb_output.find("ptrace: Operation not permitted") != std::string::npos) {
    WARN("this user may not ptrace the reader (Yama ptrace_scope): skipped");
    return;
  }
  // gdb's own report varies (it may even fail to detach from a process that died under it);
  // what counts is how the reader ended.
  INFO("gdb exit " << rc << ":\n" << gdb_output);
  auto scan = (*reader)->scan();
  REQUIRE_FALSE(scan);
  CHECK_THAT(scan.error().message, Catch::Contains("killed by SIGSYS"));
}
