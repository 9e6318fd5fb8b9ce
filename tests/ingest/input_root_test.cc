#include "ingest/input_root.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "ingest_test_util.h"
#include "support/test_support.h"

using namespace cqda;
using namespace cqda::ingest;
using namespace cqda::ingest::testing;
namespace fs = std::filesystem;

namespace {

// base/input (the root) and its sibling base/input-evil, which must stay unreachable.
struct Tree {
  test::TempDir base;
  fs::path root = base / "input";
  Tree() {
    test::write_text(root / "interviews/p01.txt", "Interviewer: hi\nMaria: hello\n");
    test::write_text(root / "interviews/p02.md", "# Notes\n");
    test::write_text(root / "surveys/s.csv", "id,answer\n1,yes\n");
    test::write_text(root / "top.vtt", "WEBVTT\n");
    test::write_text(root / "image.png", "png");
    test::write_text(root / ".hidden.txt", "secret");
    test::write_text(root / ".git/config.txt", "secret");
    test::write_text(base / "outside.txt", "outside");
    test::write_text(base / "input-evil/secret.txt", "evil");
  }
  InputRoot open() const {
    auto opened = InputRoot::open(root.string());
    REQUIRE(opened.ok());
    return std::move(opened).value();
  }
};

}  // namespace

TEST_CASE("scan accepts included files, sorted, and reports hidden and unsupported",
          "[input_root]") {
  Tree tree;
  ScanResult scan = tree.open().scan(default_paths());
  CHECK(scan.accepted == std::vector<std::string>{"interviews/p01.txt", "interviews/p02.md",
                                                  "surveys/s.csv", "top.vtt"});
  REQUIRE(find_refusal(scan, ".hidden.txt"));
  CHECK(find_refusal(scan, ".hidden.txt")->reason == RefusalReason::kHidden);
  REQUIRE(find_refusal(scan, ".git"));
  CHECK(find_refusal(scan, ".git")->reason == RefusalReason::kHidden);
  CHECK_FALSE(find_refusal(scan, ".git/config.txt"));  // a hidden folder is not descended
  REQUIRE(find_refusal(scan, "image.png"));
  CHECK(find_refusal(scan, "image.png")->reason == RefusalReason::kNotIncluded);
  CHECK(refusal_reason_name(RefusalReason::kHidden) == "hidden");
  for (const auto& path : scan.accepted) CHECK_FALSE(contains(path, "evil"));
}

TEST_CASE("symlinks are refused, never followed, whatever they point to", "[input_root]") {
  Tree tree;
  fs::create_symlink(tree.base / "outside.txt", tree.root / "link.txt");
  fs::create_symlink("../input-evil", tree.root / "evil-dir");
  fs::create_symlink(tree.root / "interviews", tree.root / "inner-dir");
  fs::create_symlink("missing.txt", tree.root / "dangling.txt");
  InputRoot root = tree.open();
  ScanResult scan = root.scan(default_paths());
  for (const char* link : {"link.txt", "evil-dir", "inner-dir", "dangling.txt"}) {
    INFO(link);
    REQUIRE(find_refusal(scan, link));
    CHECK(find_refusal(scan, link)->reason == RefusalReason::kSymlink);
  }
  for (const auto& path : scan.accepted) {
    CHECK_FALSE(contains(path, "evil"));
    CHECK_FALSE(contains(path, "inner-dir"));
  }
  auto read = root.read("link.txt", default_paths());
  REQUIRE_FALSE(read.ok());
  CHECK(contains(read.error().message, "openat2(link.txt): ELOOP"));
  auto through_dir = root.read("evil-dir/secret.txt", default_paths());
  REQUIRE_FALSE(through_dir.ok());
  CHECK(contains(through_dir.error().message, "ELOOP"));
}

TEST_CASE("paths that escape the root fail with EXDEV, including the sibling prefix",
          "[input_root]") {
  Tree tree;
  InputRoot root = tree.open();
  for (const char* path : {"../outside.txt", "../input-evil/secret.txt",
                           "interviews/../../outside.txt", "/etc/passwd"}) {
    INFO(path);
    auto read = root.read(path, default_paths());
    REQUIRE_FALSE(read.ok());
    CHECK(contains(read.error().message, std::string("openat2(") + path + "): EXDEV"));
    CHECK(contains(read.error().message, "path escapes the input root"));
  }
  // A '..' that stays inside is still refused: it could slip past an exclude glob.
  auto inside = root.read("surveys/../interviews/p01.txt", default_paths());
  REQUIRE_FALSE(inside.ok());
  CHECK(contains(inside.error().message, "not a canonical relative path"));
}

TEST_CASE("the component-by-component fallback refuses the same escapes", "[input_root]") {
  Tree tree;
  fs::create_symlink(tree.base / "outside.txt", tree.root / "link.txt");
  fs::create_symlink("../input-evil", tree.root / "evil-dir");
  InputRoot root = tree.open();
  CHECK(open_beneath_by_components(root.fd(), "interviews/p01.txt", O_RDONLY).ok());
  for (const char* path : {"../outside.txt", "/etc/passwd", "a//b.txt", ""}) {
    INFO(path);
    CHECK_FALSE(open_beneath_by_components(root.fd(), path, O_RDONLY).ok());
  }
  auto link = open_beneath_by_components(root.fd(), "link.txt", O_RDONLY);
  REQUIRE_FALSE(link.ok());
  CHECK(contains(link.error().message, "ELOOP"));
  auto dir = open_beneath_by_components(root.fd(), "evil-dir/secret.txt", O_RDONLY);
  REQUIRE_FALSE(dir.ok());
  CHECK(contains(dir.error().message, "ELOOP"));
}

TEST_CASE("read returns the bytes and the format of an allowed file", "[input_root]") {
  Tree tree;
  InputRoot root = tree.open();
  auto file = root.read("interviews/p01.txt", default_paths());
  REQUIRE(file.ok());
  CHECK(file->bytes == "Interviewer: hi\nMaria: hello\n");
  CHECK(file->format == DocumentFormat::kText);
  CHECK(file->relative_path == "interviews/p01.txt");
  auto hidden = root.read(".hidden.txt", default_paths());
  REQUIRE_FALSE(hidden.ok());
  CHECK(contains(hidden.error().message, "refused (hidden)"));
  auto png = root.read("image.png", default_paths());
  CHECK_FALSE(png.ok());
  auto missing = root.read("interviews/none.txt", default_paths());
  REQUIRE_FALSE(missing.ok());
  CHECK(contains(missing.error().message, "ENOENT"));
}

TEST_CASE("an oversized file is refused from fstat, before it is read", "[input_root]") {
  Tree tree;
  // Sparse: 30 MiB declared, nothing written. The refusal comes from the size alone.
  UniqueFd fd(::open((tree.root / "interviews/big.txt").c_str(), O_WRONLY | O_CREAT, 0644));
  REQUIRE(fd.valid());
  REQUIRE(::ftruncate(fd.get(), 31457280) == 0);
  auto read = tree.open().read("interviews/big.txt", default_paths());
  REQUIRE_FALSE(read.ok());
  CHECK(read.error().message ==
        "interviews/big.txt: 31457280 bytes is more than the policy's max_file_bytes (20971520)");
}

TEST_CASE("a fifo is refused by scan and by read, without blocking", "[input_root]") {
  Tree tree;
  REQUIRE(::mkfifo((tree.root / "pipe.txt").c_str(), 0644) == 0);
  InputRoot root = tree.open();
  ScanResult scan = root.scan(default_paths());
  REQUIRE(find_refusal(scan, "pipe.txt"));
  CHECK(find_refusal(scan, "pipe.txt")->reason == RefusalReason::kNotRegular);
  auto read = root.read("pipe.txt", default_paths());
  REQUIRE_FALSE(read.ok());
  CHECK(contains(read.error().message, "a fifo"));
}

TEST_CASE("include and exclude globs, and document types", "[input_root]") {
  Tree tree;
  test::write_text(tree.root / "interviews/draft/p03.txt", "x");
  auto paths = default_paths();
  paths.exclude = {"interviews/draft", "**/*.md"};
  paths.document_types.erase(DocumentFormat::kVtt);
  InputRoot root = tree.open();
  ScanResult scan = root.scan(paths);
  CHECK(scan.accepted == std::vector<std::string>{"interviews/p01.txt", "surveys/s.csv"});
  REQUIRE(find_refusal(scan, "interviews/draft"));
  CHECK(find_refusal(scan, "interviews/draft")->reason == RefusalReason::kExcluded);
  CHECK(find_refusal(scan, "interviews/p02.md")->reason == RefusalReason::kExcluded);
  CHECK(find_refusal(scan, "top.vtt")->reason == RefusalReason::kUnsupportedType);
  CHECK_FALSE(root.read("interviews/p02.md", paths).ok());
  CHECK_FALSE(root.read("top.vtt", paths).ok());

  paths = default_paths();
  paths.include = {"interviews/*.txt"};
  scan = root.scan(paths);
  CHECK(scan.accepted == std::vector<std::string>{"interviews/p01.txt"});
  CHECK(find_refusal(scan, "surveys/s.csv")->reason == RefusalReason::kNotIncluded);

  paths.include.clear();  // an empty include list includes nothing
  CHECK(root.scan(paths).accepted.empty());
}

TEST_CASE("scan is bounded by max_depth and max_files, and repeatable", "[input_root]") {
  Tree tree;
  test::write_text(tree.root / "a/b/c/deep.txt", "x");
  auto paths = default_paths();
  paths.max_depth = 2;
  InputRoot root = tree.open();
  ScanResult scan = root.scan(paths);
  REQUIRE(find_refusal(scan, "a/b/c"));
  CHECK(find_refusal(scan, "a/b/c")->reason == RefusalReason::kTooDeep);
  CHECK_FALSE(root.read("a/b/c/deep.txt", paths).ok());

  paths = default_paths();
  paths.max_files = 2;
  scan = root.scan(paths);
  CHECK(scan.accepted.size() == 2);
  std::size_t too_many = 0;
  for (const auto& refusal : scan.refused) too_many += refusal.reason == RefusalReason::kTooMany;
  CHECK(too_many >= 1);
  ScanResult again = root.scan(paths);
  CHECK(again.accepted == scan.accepted);  // deterministic, and the root fd is reusable
}

TEST_CASE("check_path applies the policy without touching the disk", "[input_root]") {
  auto paths = default_paths();
  CHECK_FALSE(check_path("a/b.txt", paths));
  CHECK(check_path("a/.b.txt", paths)->reason == RefusalReason::kHidden);
  CHECK(check_path("a/../b.txt", paths)->reason == RefusalReason::kNotIncluded);
  CHECK(check_path("/b.txt", paths)->reason == RefusalReason::kNotIncluded);
  CHECK(check_path("b.exe", paths)->reason == RefusalReason::kNotIncluded);
  paths.include = {"**"};
  CHECK(check_path("b.exe", paths)->reason == RefusalReason::kUnsupportedType);
  CHECK(check_path("noext", paths)->reason == RefusalReason::kUnsupportedType);
}

TEST_CASE("opening a missing root fails with a clear message", "[input_root]") {
  auto root = InputRoot::open("/nonexistent/cqda/input");
  REQUIRE_FALSE(root.ok());
  CHECK(contains(root.error().message, "open(/nonexistent/cqda/input): ENOENT"));
}
