#include "policy/glob.h"

#include <catch2/catch.hpp>
#include <chrono>

using cqda::policy::glob_match;
using cqda::policy::glob_syntax_error;

TEST_CASE("star stays within one component", "[glob]") {
  CHECK(glob_match("*.txt", "a.txt"));
  CHECK_FALSE(glob_match("*.txt", "dir/a.txt"));
  CHECK(glob_match("interviews/*.txt", "interviews/p01.txt"));
  CHECK_FALSE(glob_match("interviews/*.txt", "interviews/x/p01.txt"));
  CHECK(glob_match("*", "anything"));
  CHECK(glob_match("a*b*c", "abc"));
  CHECK_FALSE(glob_match("a*b*c", "acb"));
  CHECK(glob_match("a**b", "axxb"));
  CHECK_FALSE(glob_match("a**b", "ax/xb"));
}

TEST_CASE("double star matches zero or more components", "[glob]") {
  CHECK(glob_match("**/*.txt", "a.txt"));
  CHECK(glob_match("**/*.txt", "a/b/c.txt"));
  CHECK_FALSE(glob_match("**/*.txt", "a/b/c.md"));
  CHECK(glob_match("a/**", "a/x"));
  CHECK(glob_match("a/**", "a/x/y"));
  CHECK(glob_match("a/**/z.txt", "a/z.txt"));
  CHECK(glob_match("a/**/z.txt", "a/b/c/z.txt"));
  CHECK_FALSE(glob_match("a/**/z.txt", "b/a/z.txt"));
  CHECK(glob_match("**", "x/y/z"));
  CHECK(glob_match("**/private/**", "p/private/q.txt"));
}

TEST_CASE("question mark, classes and escapes", "[glob]") {
  CHECK(glob_match("p?.txt", "p1.txt"));
  CHECK(glob_match("p?.txt", "pé.txt"));  // one code point, two bytes
  CHECK_FALSE(glob_match("p?.txt", "p12.txt"));
  CHECK_FALSE(glob_match("a?b", "a/b"));
  CHECK(glob_match("p[0-9][0-9].txt", "p07.txt"));
  CHECK_FALSE(glob_match("p[0-9].txt", "px.txt"));
  CHECK(glob_match("[abc]", "b"));
  CHECK(glob_match("[!x]", "y"));
  CHECK_FALSE(glob_match("[!x]", "x"));
  CHECK(glob_match("[^x]", "y"));
  CHECK(glob_match("[]]", "]"));
  CHECK(glob_match("a[b", "a[b"));  // unterminated class is literal
  CHECK(glob_match("\\*", "*"));
  CHECK_FALSE(glob_match("\\*", "x"));
}

TEST_CASE("matching is case-sensitive and exact", "[glob]") {
  CHECK_FALSE(glob_match("*.TXT", "a.txt"));
  CHECK_FALSE(glob_match("a.txt", "a.txt.bak"));
  CHECK_FALSE(glob_match("a", ""));
  CHECK(glob_match("", ""));
}

TEST_CASE("a pathological pattern finishes quickly", "[glob]") {
  std::string path;
  for (int i = 0; i < 30; ++i) path += "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/";
  path += std::string(4000, 'a');
  auto begin = std::chrono::steady_clock::now();
  CHECK_FALSE(glob_match("**/a*a*a*a*a*a*b", path));
  CHECK_FALSE(glob_match("**/**/**/**/**/**/**/x", path));
  CHECK(glob_match("**/a*a*a*a*a*a*", path));
  auto elapsed = std::chrono::steady_clock::now() - begin;
  CHECK(elapsed < std::chrono::seconds(2));
}

TEST_CASE("glob syntax errors are reported", "[glob]") {
  CHECK_FALSE(glob_syntax_error("**/*.txt"));
  CHECK(glob_syntax_error(""));
  CHECK(glob_syntax_error("/etc/*"));
  CHECK(glob_syntax_error("../x"));
  CHECK(glob_syntax_error("a//b"));
  CHECK(glob_syntax_error("[abc"));
  CHECK(glob_syntax_error("x\\"));
}
