// End-to-end tests of the cqda program on the example corpus and on bad inputs.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <fstream>
#include <regex>
#include <set>

#include "common/json.h"
#include "support/test_support.h"

using namespace cqda;
using test::run_cqda;
namespace fs = std::filesystem;

namespace {

fs::path examples() { return test::source_dir() / "examples"; }

struct RunDirs {
  test::TempDir tmp;
  fs::path output = tmp / "output";
  fs::path cache = tmp / "cache";
};

std::vector<std::string> run_args(const fs::path& input, const RunDirs& dirs, const fs::path& policy = examples() / "policy.json") {
  return {"run",        "--input",    input.string(),
          "--output",   dirs.output.string(), "--cache", dirs.cache.string(),
          "--policy",   policy.string(),
          "--codebook", (examples() / "codebook.json").string(),
          "--roster",   (examples() / "roster.csv").string(),
          "--no-progress"};
}

// Every file under `dir` (relative path -> content).
std::map<std::string, std::string> read_tree(const fs::path& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) out[fs::relative(e.path(), dir).string()] = test::slurp(e.path());
  return out;
}

bool contains_word(const std::string& haystack, const std::string& needle) {
  for (std::size_t at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1)) {
    auto word_char = [](unsigned char c) { return std::isalnum(c) || c >= 0x80; };
    bool left = at == 0 || !word_char(static_cast<unsigned char>(haystack[at - 1]));
    std::size_t end = at + needle.size();
    bool right = end >= haystack.size() || !word_char(static_cast<unsigned char>(haystack[end]));
    if (left && right) return true;
  }
  return false;
}

fs::path only_run_log(const fs::path& output) {
  std::vector<fs::path> logs;
  for (const auto& e : fs::directory_iterator(output / "run-logs")) logs.push_back(e.path());
  REQUIRE(logs.size() == 1);
  return logs[0];
}

}  // namespace

TEST_CASE("cqda run on the example corpus writes signed, valid, anonymized outputs", "[e2e]") {
  RunDirs dirs;
  fs::create_directories(dirs.cache);
  auto keygen = run_cqda({"keygen", "--out", (dirs.tmp / "keys").string()});
  REQUIRE(keygen.exit_code == 0);
  auto args = run_args(examples() / "corpus", dirs);
  args.insert(args.end(), {"--signing-key", (dirs.tmp / "keys/signing.key").string(), "--cases",
                           (examples() / "cases.csv").string()});
  auto result = run_cqda(args);
  INFO(result.out << result.err);
  REQUIRE(result.exit_code == 0);
  CHECK_THAT(result.out, Catch::Contains("14 documents"));
  CHECK_THAT(result.out, Catch::Contains("report:"));

  for (const char* f : {"report.md", "codings.json", "codings.csv", "codebook.json", "manifest.json"})
    CHECK(fs::exists(dirs.output / f));
  auto codings = Json::parse(test::slurp(dirs.output / "codings.json"));
  CHECK(codings["documents"].size() == 14);
  CHECK(codings["codings"].size() > 50);
  CHECK(codings["anonymized"] == true);
  std::set<std::string> coded;
  for (const auto& c : codings["codings"]) coded.insert(c["code_id"].get<std::string>());
  CHECK(coded.size() >= 12);

  // The run log verifies with the public key and records inputs and exports.
  fs::path log = only_run_log(dirs.output);
  auto verify = run_cqda({"verify", log.string(), "--public-key", (dirs.tmp / "keys/signing.pub").string()});
  INFO(verify.out << verify.err);
  CHECK(verify.exit_code == 0);
  CHECK_THAT(verify.out, Catch::Contains("intact"));
  std::string log_text = test::slurp(log);
  CHECK_THAT(log_text, Catch::Contains("\"type\":\"input\""));
  CHECK_THAT(log_text, Catch::Contains("\"type\":\"export\""));
  CHECK_THAT(log_text, Catch::Contains("\"type\":\"seal\""));

  // The manifest's hashes match the files.
  auto manifest = Json::parse(test::slurp(dirs.output / "manifest.json"));
  for (const auto& f : manifest["files"]) {
    std::string content = test::slurp(dirs.output / f["path"].get<std::string>());
    CHECK(f["bytes"].get<std::size_t>() == content.size());
  }

  SECTION("no planted direct identifier, name or place appears in any output") {
    auto truth = Json::parse(test::slurp(examples() / "expected-pii.json"));
    auto files = read_tree(dirs.output);
    // A birth year alone ("born 1979") is what the policy generalizes a date of birth to, so
    // it may stay; every other planted value must be gone.
    auto generalized = [](const std::string& type, const std::string& value) {
      return type == "date_of_birth" && value.size() == 4;
    };
    std::vector<std::string> leaks;
    std::size_t unrostered = 0, places = 0;
    for (const auto& item : truth) {
      std::string type = item["type"].get<std::string>();
      std::string value = item["value"].get<std::string>();
      if (generalized(type, value)) continue;
      unrostered += type == "person" && !item.value("rostered", false);
      places += type == "place" && !item.value("rostered", false);
      bool leaked = false;
      for (const auto& [path, content] : files)
        if (contains_word(content, value) || contains_word(path, value)) leaked = true;
      if (leaked) leaks.push_back(type + ": " + value);
    }
    INFO("leaked: " << Json(leaks).dump());
    CHECK(leaks.empty());
    // The corpus plants people and places that are not on the roster, found by the name and
    // place lists and by context (docs/ANONYMIZATION.md).
    CHECK(unrostered > 10);
    CHECK(places > 5);
  }

  SECTION("ordinary words that look like names survive") {
    auto kept = Json::parse(test::slurp(examples() / "expected-kept.json"));
    std::string anonymized;
    for (const auto& [path, content] : read_tree(dirs.output / "anonymized")) anonymized += content + "\n";
    std::vector<std::string> lost;
    for (const auto& item : kept)
      if (anonymized.find(item["context"].get<std::string>()) == std::string::npos) lost.push_back(item["context"]);
    INFO("lost: " << Json(lost).dump());
    CHECK(lost.size() * 20 <= kept.size());  // at least 95% kept verbatim
  }
}

TEST_CASE("a rerun on unchanged input gives identical files apart from run id and time", "[e2e]") {
  RunDirs first;
  RunDirs second;
  // Same cache (same pseudonym key), two output folders.
  auto a = run_cqda(run_args(examples() / "corpus", first));
  REQUIRE(a.exit_code == 0);
  auto args = run_args(examples() / "corpus", second);
  args[6] = first.cache.string();
  auto b = run_cqda(args);
  REQUIRE(b.exit_code == 0);
  auto one = read_tree(first.output), two = read_tree(second.output);
  REQUIRE(one.size() == two.size());
  std::regex volatile_parts(R"(\d{8}T\d{6}Z-[0-9a-f]{8}|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z|"sha256": "[0-9a-f]{64}")");
  for (const auto& [path, content] : one) {
    if (path.rfind("run-logs/", 0) == 0) continue;
    REQUIRE(two.count(path));
    if (path == "manifest.json") continue;  // hashes of the files that carry the run id
    CHECK(std::regex_replace(content, volatile_parts, "X") == std::regex_replace(two[path], volatile_parts, "X"));
  }
}

TEST_CASE("bad inputs are reported and skipped; the rest of the run goes on", "[e2e]") {
  RunDirs dirs;
  test::TempDir input_dir;
  fs::path input = input_dir / "input";
  test::write_text(input / "good.txt", "Interviewer: How are you?\n\nR: We are short-staffed every night.\n");
  test::write_text(input / "invalid-utf8.txt", std::string("Hello \xff\xfe world"));
  test::write_text(input / "empty.txt", "");
  test::write_text(input / "binary.txt", std::string("\x7f" "ELF\x02\x01\x00\x00\x00\x00", 10));
  test::write_text(input / "big.txt", std::string(21u << 20, 'a'));
  // A zip bomb named .docx: one entry of 300 MB of zeros.
  {
    std::string cmd = "cd '" + input_dir.path().string() + "' && head -c 300000000 /dev/zero > word.xml && "
                      "mkdir -p w/word && mv word.xml w/word/document.xml && cd w && zip -q -9 ../input/bomb.docx word/document.xml";
    REQUIRE(std::system(cmd.c_str()) == 0);
  }
  test::write_text(input_dir / "outside.txt", "secret outside the root");
  fs::create_symlink(input_dir / "outside.txt", input / "link.txt");
  test::write_text(input / ".hidden.txt", "hidden");

  auto result = run_cqda(run_args(input, dirs));
  INFO(result.out << result.err);
  CHECK(result.exit_code == 3);
  CHECK_THAT(result.out, Catch::Contains("1 documents"));
  CHECK_THAT(result.out, Catch::Contains("invalid UTF-8 at byte offset 6"));
  CHECK_THAT(result.out, Catch::Contains("empty"));
  CHECK_THAT(result.out, Catch::Contains("binary"));
  CHECK_THAT(result.out, Catch::Contains("max_file_bytes"));
  CHECK_THAT(result.out, Catch::Contains("bomb.docx"));
  CHECK_THAT(result.out, Catch::Contains("5 input files could not be processed"));
  std::string report = test::slurp(dirs.output / "report.md");
  CHECK_THAT(report, Catch::Contains("link.txt: symlink"));
  CHECK_THAT(report, Catch::Contains(".hidden.txt: hidden"));
  // Nothing of the file outside the root was read.
  for (const auto& [path, content] : read_tree(dirs.output)) CHECK(content.find("secret outside") == std::string::npos);
  std::string log = test::slurp(only_run_log(dirs.output));
  CHECK_THAT(log, Catch::Contains("\"type\":\"input_refused\""));
  CHECK_THAT(log, Catch::Contains("\"type\":\"input_skipped\""));
}

TEST_CASE("an invalid policy or codebook stops the run with every violation listed", "[e2e]") {
  RunDirs dirs;
  test::TempDir tmp;
  test::write_text(tmp / "policy.json", R"({"version": 2, "paths": {"include": []}, "egress": {"allow_raw_text": "no"}})");
  auto args = run_args(examples() / "corpus", dirs, tmp / "policy.json");
  auto result = run_cqda(args);
  CHECK(result.exit_code == 2);
  CHECK_THAT(result.err, Catch::Contains("/version"));
  CHECK_THAT(result.err, Catch::Contains("/paths/include"));
  CHECK_THAT(result.err, Catch::Contains("/egress/allow_raw_text"));
  CHECK_THAT(result.err, Catch::Contains("anonymization"));  // missing required section
  CHECK_FALSE(fs::exists(dirs.output));                     // nothing was written

  auto check = run_cqda({"policy", "check", (tmp / "policy.json").string()});
  CHECK(check.exit_code == 2);
  CHECK_THAT(check.err, Catch::Contains("/version"));
  auto good = run_cqda({"policy", "check", (examples() / "policy.json").string()});
  CHECK(good.exit_code == 0);
  CHECK(Json::parse(good.out)["anonymization"]["custom_patterns"].size() == 1);

  test::write_text(tmp / "codebook.json", R"({"name": "x", "version": 1, "categories": [{"id": "c", "name": "C", "codes": [
      {"id": "a", "name": "A", "definition": "d", "patterns": ["(unclosed"]}, {"id": "a", "name": "B", "definition": "d"}]}]})");
  auto cb = run_cqda({"codebook", "check", (tmp / "codebook.json").string()});
  CHECK(cb.exit_code == 2);
  CHECK_THAT(cb.err, Catch::Contains("/categories/0/codes/0/patterns/0"));
  CHECK_THAT(cb.err, Catch::Contains("/categories/0/codes/1/id: duplicate id"));
  auto cb_good = run_cqda({"codebook", "check", (examples() / "codebook.json").string()});
  CHECK(cb_good.exit_code == 0);
}

TEST_CASE("an unwritable output folder fails clearly and writes nothing", "[e2e]") {
  RunDirs dirs;
  SECTION("the output path runs through a file") {
    test::write_text(dirs.tmp / "file", "x");
    auto args = run_args(examples() / "corpus", dirs);
    args[4] = (dirs.tmp / "file/output").string();
    auto result = run_cqda(args);
    CHECK(result.exit_code == 4);
    CHECK_THAT(result.err, Catch::Contains("output"));
    CHECK(test::slurp(dirs.tmp / "file") == "x");
  }
  SECTION("a read-only output folder (as an unprivileged user)") {
    // Everything the unprivileged run needs is copied into the (0755) temporary folder, so
    // the test does not depend on where the repository lives.
    ::chmod(dirs.tmp.path().c_str(), 0755);
    fs::path binary = dirs.tmp / "cqda";
    fs::copy_file(test::cqda_binary(), binary);
    for (const char* f : {"policy.json", "codebook.json", "roster.csv"}) fs::copy_file(examples() / f, dirs.tmp / f);
    test::write_text(dirs.tmp / "input/a.txt", "Interviewer: Hello.\n\nR: Short-staffed.\n");
    fs::create_directories(dirs.output);
    fs::create_directories(dirs.cache);
    ::chmod(dirs.output.c_str(), 0555);
    ::chmod(dirs.cache.c_str(), 0777);
    std::vector<std::string> argv;
    if (::geteuid() == 0) {
      // root ignores file modes; drop to nobody for this run.
      argv = {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"};
    }
    argv.insert(argv.end(), {binary.string(), "run", "--input", (dirs.tmp / "input").string(), "--output",
                             dirs.output.string(), "--cache", dirs.cache.string(), "--policy",
                             (dirs.tmp / "policy.json").string(), "--codebook", (dirs.tmp / "codebook.json").string(),
                             "--roster", (dirs.tmp / "roster.csv").string(), "--no-progress"});
    auto result = test::run_command(argv);
    INFO(result.out << result.err);
    CHECK(result.exit_code == 4);
    CHECK_THAT(result.err, Catch::Contains("cannot write to the output folder"));
    CHECK(fs::is_empty(dirs.output));
  }
}

TEST_CASE("file names are pseudonymized and stay unique", "[e2e]") {
  RunDirs dirs;
  test::TempDir input;
  // Both names belong to one rostered person, so both files map to the same pseudonym.
  test::write_text(input / "p01-maria.txt", "Interviewer: Hello.\n\nR: We are short-staffed.\n");
  test::write_text(input / "p01-mimi.txt", "Interviewer: Hello again.\n\nR: Still short-staffed.\n");
  auto result = run_cqda(run_args(input.path(), dirs));
  INFO(result.out << result.err);
  REQUIRE(result.exit_code == 0);
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dirs.output / "anonymized")) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  REQUIRE(names.size() == 2);
  // "p01-person-xxxx-2.txt" sorts before "p01-person-xxxx.txt".
  CHECK(names[0].rfind("p01-person-", 0) == 0);
  CHECK(names[0].substr(names[0].size() - 6) == "-2.txt");
  CHECK(names[1] == names[0].substr(0, names[0].size() - 6) + ".txt");
  for (const auto& [path, content] : read_tree(dirs.output)) {
    CHECK_FALSE(contains_word(path, "maria"));
    CHECK_FALSE(contains_word(content, "maria"));
    CHECK_FALSE(contains_word(content, "mimi"));
  }
}

TEST_CASE("output or cache inside the input folder is refused", "[e2e]") {
  RunDirs dirs;
  test::TempDir input;
  test::write_text(input / "a.txt", "text");
  auto args = run_args(input.path(), dirs);
  args[4] = (input / "out").string();
  auto result = run_cqda(args);
  CHECK(result.exit_code == 2);
  CHECK_THAT(result.err, Catch::Contains("must not be inside the input folder"));
  CHECK_FALSE(fs::exists(input / "out"));
}

TEST_CASE("cqda verify names the first bad record of a tampered log", "[e2e]") {
  RunDirs dirs;
  fs::create_directories(dirs.cache);
  REQUIRE(run_cqda({"keygen", "--out", (dirs.tmp / "keys").string()}).exit_code == 0);
  auto args = run_args(examples() / "corpus", dirs);
  args.insert(args.end(), {"--signing-key", (dirs.tmp / "keys/signing.key").string()});
  REQUIRE(run_cqda(args).exit_code == 0);
  fs::path log = only_run_log(dirs.output);
  std::string pub = (dirs.tmp / "keys/signing.pub").string();
  std::vector<std::string> lines;
  {
    std::ifstream in(log);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
  }
  REQUIRE(lines.size() > 6);
  auto write_lines = [&](const std::vector<std::string>& ls, const fs::path& to) {
    std::string text;
    for (const auto& l : ls) text += l + "\n";
    test::write_text(to, text);
  };
  auto verify = [&](const std::vector<std::string>& ls) {
    fs::path copy = dirs.tmp / "tampered.jsonl";
    write_lines(ls, copy);
    return run_cqda({"verify", copy.string(), "--public-key", pub});
  };
  CHECK(verify(lines).exit_code == 0);

  auto flipped = lines;
  flipped[3][flipped[3].find("\"type\"") + 9] ^= 0x01;
  auto r = verify(flipped);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.out, Catch::Contains("line 4"));

  auto deleted = lines;
  deleted.erase(deleted.begin() + 2);
  r = verify(deleted);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.out, Catch::Contains("line 3"));

  auto reordered = lines;
  std::swap(reordered[2], reordered[3]);
  r = verify(reordered);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.out, Catch::Contains("line 3"));

  auto cut = lines;
  cut.pop_back();
  r = verify(cut);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.out, Catch::Contains("seal"));

  // A record spliced in from another run signed by the same key.
  RunDirs other;
  auto other_args = run_args(examples() / "corpus", other);
  other_args.insert(other_args.end(), {"--signing-key", (dirs.tmp / "keys/signing.key").string()});
  REQUIRE(run_cqda(other_args).exit_code == 0);
  std::vector<std::string> other_lines;
  {
    std::ifstream in(only_run_log(other.output));
    for (std::string line; std::getline(in, line);) other_lines.push_back(line);
  }
  auto spliced = lines;
  spliced[4] = other_lines[4];
  r = verify(spliced);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.out, Catch::Contains("line 5"));

  // The wrong public key.
  REQUIRE(run_cqda({"keygen", "--out", (dirs.tmp / "other-keys").string()}).exit_code == 0);
  auto wrong = run_cqda({"verify", log.string(), "--public-key", (dirs.tmp / "other-keys/signing.pub").string()});
  CHECK(wrong.exit_code == 1);
}

TEST_CASE("usage errors exit 2 with help", "[e2e]") {
  CHECK(run_cqda({}).exit_code == 2);
  CHECK(run_cqda({"run"}).exit_code == 2);
  auto help = run_cqda({"--help"});
  CHECK(help.exit_code == 0);
  CHECK_THAT(help.out, Catch::Contains("Exit codes"));
  CHECK(run_cqda({"--version"}).exit_code == 0);
}

TEST_CASE("path escapes named with --file are refused by the reader, recorded, and never read", "[e2e][privsep]") {
  RunDirs dirs;
  test::TempDir root;
  const fs::path input = root / "input";
  test::write_text(input / "interviews/p01.txt", "Interviewer: How are you?\n\nR: Tired of night shifts.\n");
  test::write_text(root / "outside.txt", "SECRET-OUTSIDE\n");
  test::write_text(root / "input-evil/notes.txt", "SECRET-SIBLING\n");
  fs::create_symlink(root / "outside.txt", input / "link.txt");
  fs::create_symlink(root / "input-evil", input / "evil-dir");
  fs::create_symlink(input / "missing.txt", input / "dangling.txt");
  const std::vector<std::string> escapes = {
      "../outside.txt", (root / "outside.txt").string(), "link.txt", "evil-dir/notes.txt", "dangling.txt",
      "../input-evil/notes.txt", "/proc/self/root" + (root / "outside.txt").string(), std::string(4100, 'x') + ".txt"};
  auto args = run_args(input, dirs);
  args.insert(args.end(), {"--file", "interviews/p01.txt"});
  for (const auto& e : escapes) args.insert(args.end(), {"--file", e});
  auto result = run_cqda(args);
  INFO(result.out << result.err);
  CHECK(result.exit_code == 3);  // some inputs could not be processed
  CHECK_THAT(result.out, Catch::Contains("1 documents"));
  CHECK_THAT(result.out, Catch::Contains("ELOOP"));
  CHECK_THAT(result.out, Catch::Contains("longer than 4096 bytes"));
  for (const auto& [path, content] : read_tree(dirs.output)) {
    INFO(path);
    CHECK(content.find("SECRET") == std::string::npos);
  }
  std::string log = test::slurp(only_run_log(dirs.output));
  std::size_t denials = 0;
  for (std::size_t at = log.find("\"type\":\"input_denied\""); at != std::string::npos; at = log.find("\"type\":\"input_denied\"", at + 1))
    ++denials;
  CHECK(denials == escapes.size());
  CHECK_THAT(log, Catch::Contains("\"type\":\"sandbox\""));
  CHECK_THAT(log, Catch::Contains("reader: seccomp allow-list"));
  auto verify = run_cqda({"verify", only_run_log(dirs.output).string(), "--allow-unsigned"});
  CHECK(verify.exit_code == 0);
}

namespace {

Json timing_record(const fs::path& output) {
  std::ifstream log(only_run_log(output));
  for (std::string line; std::getline(log, line);) {
    Json record = Json::parse(line);
    if (record["type"] == "timing") return record["data"];
  }
  FAIL("the run log has no timing record");
  return {};
}

bool kernel_offers_huge_pages() {
  std::ifstream thp("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string modes;
  return std::getline(thp, modes) && modes.find("[never]") == std::string::npos;
}

// Restores an environment variable when the test ends, however it ends.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) ::setenv(name, value, 1);
    else ::unsetenv(name);
  }
  ~ScopedEnv() {
    if (old_) ::setenv(name_, old_->c_str(), 1);
    else ::unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

}  // namespace

// Runs cqda on the example corpus (after `launcher`, if any) and returns its timing record's
// malloc_huge_pages.
bool run_with_huge_pages(const std::vector<std::string>& launcher = {}) {
  RunDirs dirs;
  std::vector<std::string> argv = launcher;
  argv.push_back(test::cqda_binary().string());
  for (auto& a : run_args(examples() / "corpus", dirs)) argv.push_back(a);
  auto r = test::run_command(argv);
  REQUIRE(r.exit_code == 0);
  return timing_record(dirs.output)["malloc_huge_pages"].get<bool>();
}

TEST_CASE("cqda run asks malloc for huge pages unless the caller chose otherwise", "[e2e]") {
  SECTION("no tunables: it re-executes itself with them when the kernel offers huge pages") {
    ScopedEnv env("GLIBC_TUNABLES", nullptr);
    CHECK(run_with_huge_pages() == kernel_offers_huge_pages());
  }
  SECTION("the caller's choice is kept") {
    ScopedEnv env("GLIBC_TUNABLES", "glibc.malloc.hugetlb=0");
    CHECK_FALSE(run_with_huge_pages());
  }
  SECTION("a second image (CQDA_REEXEC set) does not execute itself again") {
    ScopedEnv env("GLIBC_TUNABLES", nullptr);
    ScopedEnv marker("CQDA_REEXEC", "1");
    CHECK_FALSE(run_with_huge_pages());
  }
  SECTION("started through the dynamic loader, where /proc/self/exe is the loader, it goes on as it is") {
    const fs::path loader = "/lib64/ld-linux-x86-64.so.2";
    if (!fs::exists(loader)) {
      WARN("no x86-64 dynamic loader at " << loader << ": not tried");
      return;
    }
    ScopedEnv env("GLIBC_TUNABLES", nullptr);
    CHECK_FALSE(run_with_huge_pages({loader.string()}));
  }
  SECTION("other tunables do not stop it") {
    ScopedEnv env("GLIBC_TUNABLES", "glibc.malloc.arena_max=4");
    CHECK(run_with_huge_pages() == kernel_offers_huge_pages());
  }
}
