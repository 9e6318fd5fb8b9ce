#include "ingest/input_root.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "policy/glob.h"

namespace cqda::ingest {
namespace {

constexpr std::uint32_t kDepthCeiling = 255;  // one open fd per level during the walk
constexpr std::size_t kMaxPathBytes = 4096;   // PATH_MAX
constexpr int kOpenat2Retries = 4;            // EAGAIN: a rename raced the resolution

// "EXDEV — path escapes the input root": the errno's name and what it means here.
std::string describe_errno(int err) {
  const char* name = strerrorname_np(err);
  std::string text = name ? name : "errno " + std::to_string(err);
  text += " \xE2\x80\x94 ";  // em dash
  switch (err) {
    case EXDEV:
      return text + "path escapes the input root";
    case ELOOP:
      return text + "a symbolic link is in the path (symlinks are never followed)";
    case ENOENT:
      return text + "no such file or folder";
    case ENOTDIR:
      return text + "a path component is not a folder";
    case EACCES:
    case EPERM:
      return text + "permission denied";
    case ENAMETOOLONG:
      return text + "path too long";
    case EAGAIN:
      return text + "the path changed while it was resolved";
    default:
      return text + std::strerror(err);
  }
}

Error syscall_error(std::string_view op, std::string_view path, int err) {
  return make_error(std::string(op) + "(" + std::string(path) + "): " + describe_errno(err));
}

using policy::split_path;

// Relative, no empty, '.' or '..' components, no NUL, at most PATH_MAX bytes.
bool is_canonical(std::string_view path) {
  if (path.empty() || path.size() > kMaxPathBytes || path.front() == '/') return false;
  if (path.find('\0') != std::string_view::npos) return false;
  for (std::string_view part : split_path(path))
    if (part.empty() || part == "." || part == "..") return false;
  return true;
}

std::optional<DocumentFormat> format_of(std::string_view path) {
  std::string_view name = path.substr(path.rfind('/') + 1);
  std::size_t dot = name.rfind('.');
  if (dot == std::string_view::npos || dot == 0) return std::nullopt;
  return format_from_extension(name.substr(dot + 1));
}

bool matches_any(const std::vector<std::string>& globs, std::string_view path) {
  return std::any_of(globs.begin(), globs.end(),
                     [&](const std::string& glob) { return policy::glob_match(glob, path); });
}

std::string_view file_kind(mode_t mode) {
  if (S_ISFIFO(mode)) return "a fifo";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
  if (S_ISDIR(mode)) return "a folder";
  return "not a regular file";
}

// Reads the names in an open folder with getdents64 (no fdopendir: it needs fcntl, which the
// reader's seccomp filter does not allow). Stops after `budget` names.
Result<std::vector<std::string>> list_folder(int dir_fd, std::string_view what,
                                             std::size_t budget) {
  std::vector<std::string> names;
  alignas(8) char buffer[32768];
  while (names.size() < budget) {
    long n = ::syscall(SYS_getdents64, dir_fd, buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      return syscall_error("getdents64", what, errno);
    }
    if (n == 0) break;
    // struct linux_dirent64: u64 d_ino, s64 d_off, u16 d_reclen, u8 d_type, char d_name[].
    for (long offset = 0; offset < n;) {
      unsigned short reclen = 0;
      std::memcpy(&reclen, buffer + offset + 16, sizeof reclen);
      const char* name = buffer + offset + 19;
      std::size_t max_len = static_cast<std::size_t>(reclen) - 19;
      std::string entry(name, ::strnlen(name, max_len));
      if (entry != "." && entry != "..") names.push_back(std::move(entry));
      offset += reclen;
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

struct WalkState {
  const policy::PathPolicy& policy;
  std::uint32_t max_depth;
  std::size_t entry_budget;
  std::size_t entries_seen = 0;
  bool stopped = false;
  ScanResult result;
};

void refuse(WalkState& state, std::string path, RefusalReason reason, std::string detail) {
  state.result.refused.push_back(Refusal{std::move(path), reason, std::move(detail)});
}

void walk(int dir_fd, const std::string& prefix, std::uint32_t depth, WalkState& state);

void visit_folder(int dir_fd, const std::string& name, const std::string& path,
                  const struct stat& st, std::uint32_t depth, WalkState& state) {
  if (matches_any(state.policy.exclude, path)) {
    refuse(state, path, RefusalReason::kExcluded, "folder matches an exclude glob");
    return;
  }
  if (depth + 1 > state.max_depth) {
    refuse(state, path, RefusalReason::kTooDeep,
           "folder is nested deeper than max_depth (" + std::to_string(state.max_depth) + ")");
    return;
  }
  Result<UniqueFd> child = open_beneath(dir_fd, name, O_RDONLY | O_DIRECTORY);
  if (!child) {
    refuse(state, path, RefusalReason::kUnreadable, child.error().message);
    return;
  }
  struct stat opened {};
  if (::fstat(child->get(), &opened) != 0 || opened.st_dev != st.st_dev ||
      opened.st_ino != st.st_ino) {
    refuse(state, path, RefusalReason::kUnreadable, "folder changed during the scan");
    return;
  }
  walk(child->get(), path, depth + 1, state);
}

void visit_file(const std::string& path, WalkState& state) {
  if (std::optional<Refusal> refusal = check_path(path, state.policy)) {
    state.result.refused.push_back(std::move(*refusal));
    return;
  }
  if (state.result.accepted.size() >= state.policy.max_files) {
    refuse(state, path, RefusalReason::kTooMany,
           "more than max_files (" + std::to_string(state.policy.max_files) + ") files");
    return;
  }
  state.result.accepted.push_back(path);
}

void visit(int dir_fd, const std::string& name, const std::string& path, std::uint32_t depth,
           WalkState& state) {
  if (name.front() == '.') {
    refuse(state, path, RefusalReason::kHidden, "hidden entries are never read");
    return;
  }
  struct stat st {};
  if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    refuse(state, path, RefusalReason::kUnreadable, syscall_error("fstatat", path, errno).message);
    return;
  }
  if (S_ISLNK(st.st_mode)) {
    refuse(state, path, RefusalReason::kSymlink, "symbolic links are never followed");
  } else if (S_ISDIR(st.st_mode)) {
    visit_folder(dir_fd, name, path, st, depth, state);
  } else if (S_ISREG(st.st_mode)) {
    visit_file(path, state);
  } else {
    refuse(state, path, RefusalReason::kNotRegular, std::string(file_kind(st.st_mode)));
  }
}

void walk(int dir_fd, const std::string& prefix, std::uint32_t depth, WalkState& state) {
  std::size_t remaining = state.entry_budget - std::min(state.entry_budget, state.entries_seen);
  Result<std::vector<std::string>> names =
      list_folder(dir_fd, prefix.empty() ? "." : prefix, remaining + 1);
  if (!names) {
    refuse(state, prefix.empty() ? "." : prefix, RefusalReason::kUnreadable, names.error().message);
    return;
  }
  for (const std::string& name : *names) {
    if (state.stopped) return;
    std::string path = prefix.empty() ? name : prefix + "/" + name;
    if (++state.entries_seen > state.entry_budget) {
      state.stopped = true;
      refuse(state, path, RefusalReason::kTooMany,
             "scan stopped after " + std::to_string(state.entry_budget) + " entries");
      return;
    }
    visit(dir_fd, name, path, depth, state);
  }
}

long openat2_syscall(int dir_fd, const std::string& path, int flags) {
  open_how how{};
  how.flags = static_cast<std::uint64_t>(flags | O_NOFOLLOW | O_CLOEXEC);
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  return ::syscall(SYS_openat2, dir_fd, path.c_str(), &how, sizeof how);
}

}  // namespace

std::string_view refusal_reason_name(RefusalReason reason) {
  switch (reason) {
    case RefusalReason::kHidden:
      return "hidden";
    case RefusalReason::kSymlink:
      return "symlink";
    case RefusalReason::kNotIncluded:
      return "not_included";
    case RefusalReason::kExcluded:
      return "excluded";
    case RefusalReason::kUnsupportedType:
      return "unsupported_type";
    case RefusalReason::kNotRegular:
      return "not_regular";
    case RefusalReason::kTooDeep:
      return "too_deep";
    case RefusalReason::kTooMany:
      return "too_many";
    case RefusalReason::kUnreadable:
      return "unreadable";
  }
  return "unknown";
}

std::optional<Refusal> check_path(std::string_view relative_path,
                                  const policy::PathPolicy& policy) {
  std::string path(relative_path);
  auto refusal = [&](RefusalReason reason, std::string detail) {
    return Refusal{path, reason, std::move(detail)};
  };
  if (!is_canonical(relative_path))
    return refusal(RefusalReason::kNotIncluded,
                   "not a canonical relative path (absolute, '.', '..' or empty component)");
  std::vector<std::string_view> parts = split_path(relative_path);
  for (std::string_view part : parts)
    if (part.front() == '.')
      return refusal(RefusalReason::kHidden, "hidden entries are never read");
  if (parts.size() - 1 > std::min(policy.max_depth, kDepthCeiling))
    return refusal(RefusalReason::kTooDeep, "nested deeper than max_depth");
  if (matches_any(policy.exclude, relative_path))
    return refusal(RefusalReason::kExcluded, "matches an exclude glob");
  if (!matches_any(policy.include, relative_path))
    return refusal(RefusalReason::kNotIncluded, "matches no include glob");
  std::optional<DocumentFormat> format = format_of(relative_path);
  if (!format) return refusal(RefusalReason::kUnsupportedType, "unknown file extension");
  if (!policy.document_types.contains(*format))
    return refusal(RefusalReason::kUnsupportedType,
                   std::string(format_name(*format)) + " is not an allowed document type");
  return std::nullopt;
}

Result<UniqueFd> open_beneath(int root_fd, std::string_view relative_path, int flags) {
  std::string path(relative_path);
  for (int attempt = 0; attempt < kOpenat2Retries; ++attempt) {
    long fd = openat2_syscall(root_fd, path, flags);
    if (fd >= 0) return UniqueFd(static_cast<int>(fd));
    if (errno == ENOSYS) return open_beneath_by_components(root_fd, relative_path, flags);
    if (errno != EAGAIN && errno != EINTR) break;
  }
  return syscall_error("openat2", relative_path, errno);
}

Result<UniqueFd> open_beneath_by_components(int root_fd, std::string_view relative_path,
                                            int flags) {
  if (relative_path.empty() || relative_path.front() == '/')
    return syscall_error("openat", relative_path, EXDEV);
  std::vector<std::string_view> parts = split_path(relative_path);
  for (std::string_view part : parts) {
    if (part == "..") return syscall_error("openat", relative_path, EXDEV);
    if (part.empty() || part.find('\0') != std::string_view::npos)
      return make_error("openat(" + std::string(relative_path) + "): empty path component");
  }
  UniqueFd current;
  int dir_fd = root_fd;
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    std::string name(parts[i]);
    int fd = ::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
      // O_DIRECTORY | O_NOFOLLOW on a symlink answers ENOTDIR; say what openat2 would say.
      int err = errno;
      struct stat st {};
      if (err == ENOTDIR && ::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
          S_ISLNK(st.st_mode))
        err = ELOOP;
      return syscall_error("openat", relative_path, err);
    }
    current.reset(fd);
    dir_fd = current.get();
  }
  std::string last(parts.back());
  int fd = ::openat(dir_fd, last.c_str(), flags | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return syscall_error("openat", relative_path, errno);
  return UniqueFd(fd);
}

Result<InputRoot> InputRoot::open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return syscall_error("open", path, errno);
  return InputRoot(UniqueFd(fd));
}

ScanResult InputRoot::scan(const policy::PathPolicy& policy) const {
  WalkState state{policy, std::min(policy.max_depth, kDepthCeiling),
                  4 * static_cast<std::size_t>(policy.max_files) + 1000};
  // A fresh open file description of the root: getdents64 keeps its position in it, so
  // reusing fd_ would make a second scan see nothing.
  Result<UniqueFd> root = open_beneath(fd_.get(), ".", O_RDONLY | O_DIRECTORY);
  if (!root) {
    refuse(state, ".", RefusalReason::kUnreadable, root.error().message);
  } else {
    walk(root->get(), "", 0, state);
  }
  std::sort(state.result.accepted.begin(), state.result.accepted.end());
  std::sort(state.result.refused.begin(), state.result.refused.end(),
            [](const Refusal& a, const Refusal& b) { return a.relative_path < b.relative_path; });
  return std::move(state.result);
}

namespace {

Result<std::string> read_bounded(int fd, std::size_t size_hint, std::uint64_t max_bytes,
                                 const std::string& path) {
  std::string content(size_hint, '\0');
  std::size_t done = 0;
  while (true) {
    if (done == content.size()) {
      if (content.size() > max_bytes) break;  // read max_bytes + 1 at most
      content.resize(std::min<std::uint64_t>(content.size() + 65536, max_bytes + 1));
    }
    ssize_t n = ::read(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return syscall_error("read", path, errno);
    }
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  content.resize(done);
  if (done > max_bytes)
    return make_error(path + ": grew past the policy's max_file_bytes (" +
                      std::to_string(max_bytes) + ") while being read");
  return content;
}

}  // namespace

Result<RawFile> InputRoot::read(const std::string& relative_path,
                                const policy::PathPolicy& policy) const {
  const bool canonical = is_canonical(relative_path);
  if (canonical) {
    if (std::optional<Refusal> refusal = check_path(relative_path, policy))
      return make_error(relative_path + ": refused (" +
                        std::string(refusal_reason_name(refusal->reason)) +
                        "): " + refusal->detail);
  }
  Result<UniqueFd> fd = open_beneath(fd_.get(), relative_path, O_RDONLY | O_NONBLOCK | O_NOCTTY);
  if (!fd) return fd.error();
  if (!canonical)
    return make_error(relative_path +
                      ": refused: not a canonical relative path (absolute, '.', '..' or empty "
                      "component)");
  struct stat st {};
  if (::fstat(fd->get(), &st) != 0) return syscall_error("fstat", relative_path, errno);
  if (!S_ISREG(st.st_mode))
    return make_error(relative_path + ": " + std::string(file_kind(st.st_mode)) +
                      ", not a regular file");
  auto size = static_cast<std::uint64_t>(st.st_size);
  if (size > policy.max_file_bytes)
    return make_error(relative_path + ": " + std::to_string(size) +
                      " bytes is more than the policy's max_file_bytes (" +
                      std::to_string(policy.max_file_bytes) + ")");
  Result<std::string> bytes = read_bounded(fd->get(), size, policy.max_file_bytes, relative_path);
  if (!bytes) return bytes.error();
  return RawFile{relative_path, *format_of(relative_path), std::move(*bytes)};
}

}  // namespace cqda::ingest
