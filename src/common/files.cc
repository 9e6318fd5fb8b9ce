#include "common/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/fd.h"

namespace cqda {

std::string errno_text(int err) {
  const char* name = strerrorname_np(err);
  return std::string(name ? name : "E?") + " (" + std::strerror(err) + ")";
}

bool secret_present(const std::filesystem::path& path) {
  std::error_code ec;
  return std::filesystem::is_regular_file(path, ec) && std::filesystem::file_size(path, ec) > 0 && !ec;
}

Result<std::string> read_file(const std::filesystem::path& path, std::size_t max_bytes) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!fd.valid()) return make_error("open(" + path.string() + "): " + errno_text(errno));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return make_error("fstat(" + path.string() + "): " + errno_text(errno));
  if (!S_ISREG(st.st_mode)) return make_error(path.string() + ": not a regular file");
  if (static_cast<std::size_t>(st.st_size) > max_bytes) {
    return make_error(path.string() + ": " + std::to_string(st.st_size) +
                      " bytes is more than the limit of " + std::to_string(max_bytes));
  }
  std::string content;
  content.resize(static_cast<std::size_t>(st.st_size));
  std::size_t done = 0;
  while (true) {
    if (done == content.size()) {
      // The file may have grown since fstat; read one more byte to find out.
      if (content.size() >= max_bytes + 1) break;
      content.resize(std::min(content.size() + 65536, max_bytes + 1));
    }
    ssize_t n = ::read(fd.get(), content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return make_error("read(" + path.string() + "): " + errno_text(errno));
    }
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  content.resize(done);
  if (done > max_bytes) return make_error(path.string() + ": grew past the limit of " + std::to_string(max_bytes) + " bytes while being read");
  return content;
}

Status write_all(int fd, std::string_view content) {
  std::size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return make_error(errno_text(errno));
    }
    done += static_cast<std::size_t>(n);
  }
  return {};
}

Status write_file_atomic(const std::filesystem::path& path, std::string_view content, unsigned mode) {
  std::filesystem::path tmp = path;
  tmp += ".tmp-XXXXXX";
  std::string tmpl = tmp.string();
  UniqueFd fd(::mkstemp(tmpl.data()));
  if (!fd.valid()) return make_error("create(" + tmpl + "): " + errno_text(errno));
  auto fail = [&](const std::string& op) {
    int err = errno;
    ::unlink(tmpl.c_str());
    return make_error(op + "(" + path.string() + "): " + errno_text(err));
  };
  if (::fchmod(fd.get(), mode) != 0) return fail("fchmod");
  if (!write_all(fd.get(), content)) return fail("write");
  if (::fsync(fd.get()) != 0) return fail("fsync");
  fd.reset();
  if (::rename(tmpl.c_str(), path.c_str()) != 0) return fail("rename");
  return {};
}

}  // namespace cqda
