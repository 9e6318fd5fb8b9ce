// The read-only input root, held as a directory fd. Every file access below it is relative to
// that fd and never follows a symbolic link, so nothing outside the root (a sibling folder, a
// "../" path, a symlink to /etc, a /proc magic link) can be reached. The same code runs in the
// locked-down reader process, where openat2, newfstatat, getdents64 and read are the allowed
// file syscalls.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/document.h"
#include "common/fd.h"
#include "common/result.h"
#include "policy/policy.h"

namespace cqda::ingest {

enum class RefusalReason {
  kHidden,           // a name starting with '.': never read, never descended
  kSymlink,          // never followed, whether it points at a file or a folder, dangling or not
  kNotIncluded,      // matches no paths.include glob (an empty include list includes nothing)
  kExcluded,         // matches a paths.exclude glob (a matching folder is not descended)
  kUnsupportedType,  // the extension is not a known format or not in paths.document_types
  kNotRegular,       // a fifo, socket or device
  kTooDeep,          // a folder nested deeper than paths.max_depth
  kTooMany,          // past paths.max_files accepted files (or the walk's entry bound)
  kUnreadable,       // stat or open failed (detail says why)
};

std::string_view refusal_reason_name(RefusalReason reason);  // "hidden", "symlink", ...

struct Refusal {
  std::string relative_path;
  RefusalReason reason;
  std::string detail;
};

struct ScanResult {
  std::vector<std::string> accepted;  // sorted by byte order
  std::vector<Refusal> refused;       // sorted by relative_path
};

struct RawFile {
  std::string relative_path;
  DocumentFormat format = DocumentFormat::kText;
  std::string bytes;
};

// The policy decision for one '/'-separated relative path, without touching the file system:
// hidden components, exclude, include, document type, depth. nullopt means allowed.
// Paths that are not canonical (empty, absolute, '.', '..' or empty components) are refused
// as kNotIncluded with a detail saying so.
std::optional<Refusal> check_path(std::string_view relative_path, const policy::PathPolicy& policy);

// Opens `relative_path` beneath `root_fd` with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
// RESOLVE_NO_MAGICLINKS) and O_NOFOLLOW, adding `flags` (O_CLOEXEC is always added). On a
// kernel without openat2 (ENOSYS) it falls back to open_beneath_by_components. Errors read
// "openat2(<path>): EXDEV — path escapes the input root".
Result<UniqueFd> open_beneath(int root_fd, std::string_view relative_path, int flags);

// The fallback: walks one component at a time with openat(O_NOFOLLOW | O_DIRECTORY) and
// refuses absolute paths, '..' and empty components before any syscall.
Result<UniqueFd> open_beneath_by_components(int root_fd, std::string_view relative_path, int flags);

class InputRoot {
 public:
  // Opens the folder O_RDONLY | O_DIRECTORY | O_CLOEXEC. The path itself may be a symlink
  // (the operator chose it); nothing below it may.
  static Result<InputRoot> open(const std::string& path);

  // Walks the tree (per the policy) and reports every file accepted and every entry refused.
  // Deterministic: the result is sorted. Bounded by max_depth, and by max_files accepted files;
  // the walk stops after examining 4 * max_files + 1000 entries in all.
  ScanResult scan(const policy::PathPolicy& policy) const;

  // Reads one file. Order: the policy check (check_path) for canonical paths; the kernel's
  // confined open (open_beneath, O_NONBLOCK so a fifo cannot block); a path that was not
  // canonical is refused even when the open stayed inside the root ("a/../b.txt" must not
  // slip past an exclude glob); fstat: a regular file of at most max_file_bytes, checked
  // before a byte is read; then at most max_file_bytes + 1 bytes are read, so a file that
  // grows meanwhile is refused too.
  Result<RawFile> read(const std::string& relative_path, const policy::PathPolicy& policy) const;

  int fd() const { return fd_.get(); }

 private:
  explicit InputRoot(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

}  // namespace cqda::ingest
