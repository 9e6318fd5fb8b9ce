// Glob matching of '/'-separated paths relative to the input root, as the policy's
// paths.include and paths.exclude use them. Case-sensitive.
//
//   *        any run of characters within one path component (never '/')
//   **       as a whole component: any number of components, including none
//            ("**/*.txt" matches "a.txt" and "a/b/c.txt"; "a/**" matches "a/x" and "a/x/y");
//            inside a component ("a**b") it behaves like '*'
//   ?        one character (one Unicode code point), never '/'
//   [abc] [a-z] [!x] [^x]   a character class over code points; an unterminated '[' is literal
//   \x       the character x, literally
//
// Matching is a dynamic programme over components and over characters, so its cost is
// bounded by pattern size times path size: no exponential backtracking on patterns such as
// "**/a*a*a*a*a*b".
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cqda::policy {

// "a/b/c" -> {"a", "b", "c"}; empty components are kept ("a//b" has three).
std::vector<std::string_view> split_path(std::string_view path);

bool glob_match(std::string_view pattern, std::string_view path);

// A reason the pattern is unusable (empty, absolute, a ".." component, an unterminated class,
// a trailing backslash), or nullopt. Policy validation reports these.
std::optional<std::string> glob_syntax_error(std::string_view pattern);

}  // namespace cqda::policy
