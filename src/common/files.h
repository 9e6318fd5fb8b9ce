// Whole-file reads with a size bound and atomic writes (temporary file, fsync, rename).
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

#include "common/result.h"

namespace cqda {

// Reads a regular file of at most `max_bytes`; refuses anything larger or not regular.
Result<std::string> read_file(const std::filesystem::path& path, std::size_t max_bytes);

// Writes `content` to `path` through a temporary file in the same folder and a rename,
// so readers see the old file or the new one, never a torn one. `mode` applies to the file.
Status write_file_atomic(const std::filesystem::path& path, std::string_view content,
                         unsigned mode = 0644);

// Writes all of `content` to `fd`, retrying short writes and EINTR; the error is errno's text.
Status write_all(int fd, std::string_view content);

// A secret at a default place such as /run/secrets/NAME is present when it is a regular file
// with content. A missing file, an empty one, or a folder (what a bind mount of an absent
// Compose secret can leave) all mean "not given", so a deployment can leave any secret out.
bool secret_present(const std::filesystem::path& path);

// strerror(errno) as "ENOENT (No such file or directory)"-style text for messages.
std::string errno_text(int err);

}  // namespace cqda
