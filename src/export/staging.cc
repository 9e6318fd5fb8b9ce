#include "export/staging.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <set>

#include "common/fd.h"
#include "common/files.h"
#include "common/hash.h"

namespace cqda::exporter {
namespace fs = std::filesystem;

Status ensure_writable_dir(const fs::path& dir, const std::string& what) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    return make_error("cannot create the " + what + " folder " + dir.string() + ": " + ec.message() +
                      " - choose a folder you can write to");
  }
  if (!fs::is_directory(dir, ec)) return make_error("the " + what + " path " + dir.string() + " is not a folder");
  fs::path probe = dir / ".cqda-write-probe-XXXXXX";
  std::string tmpl = probe.string();
  UniqueFd fd(::mkstemp(tmpl.data()));
  if (!fd.valid()) {
    return make_error("cannot write to the " + what + " folder " + dir.string() + ": " + errno_text(errno) +
                      " - choose a folder you can write to, or fix its permissions");
  }
  ::unlink(tmpl.c_str());
  return {};
}

namespace {

constexpr std::string_view kStagingPrefix = ".staging-";

constexpr std::string_view kFreshPrefix = ".cqda-new-";

// A staging folder is locked (flock) by the process writing it for as long as it lives. A
// run that was killed (SIGKILL, out of memory, power) cannot remove its own; the next export
// into the same folder removes every staging folder whose lock nobody holds. One that is
// locked belongs to a run still going and is left alone (on a local filesystem: a lock taken
// on another host of a network filesystem may not show here). A folder still under its first
// name (killed between mkdir and rename) goes once it is an hour old and unlocked.
void remove_abandoned_staging(const fs::path& output_dir) {
  std::error_code ec;
  const auto hour_ago = fs::file_time_type::clock::now() - std::chrono::hours(1);
  for (fs::directory_iterator it(output_dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    const bool staging = name.rfind(kStagingPrefix, 0) == 0;
    if (!staging && name.rfind(kFreshPrefix, 0) != 0) continue;
    std::error_code age;
    if (!staging && fs::last_write_time(it->path(), age) > hour_ago) continue;
    UniqueFd dir(::open(it->path().c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!dir.valid() || ::flock(dir.get(), LOCK_EX | LOCK_NB) != 0) continue;
    std::error_code removed;
    fs::remove_all(it->path(), removed);
  }
}

}  // namespace

Result<Staging> Staging::create(const fs::path& output_dir, const std::string& run_id) {
  if (auto st = ensure_writable_dir(output_dir, "output"); !st) return st.error();
  remove_abandoned_staging(output_dir);
  // Made and locked under another name, then renamed: another process's clean-up never sees
  // a staging folder that is not locked yet.
  fs::path staging = output_dir / (std::string(kStagingPrefix) + run_id);
  // A filesystem without flock (some network ones) gets no lock: the export goes on.
  fs::path fresh = output_dir / (std::string(kFreshPrefix) + run_id);
  if (::mkdir(fresh.c_str(), 0700) != 0) return make_error("mkdir(" + fresh.string() + "): " + errno_text(errno));
  UniqueFd lock(::open(fresh.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (lock.valid() && ::flock(lock.get(), LOCK_EX | LOCK_NB) != 0) lock.reset();
  if (::rename(fresh.c_str(), staging.c_str()) != 0) {
    const std::string error = errno_text(errno);
    std::error_code ec;
    fs::remove(fresh, ec);
    return make_error("cannot create the staging folder " + staging.string() + ": " + error);
  }
  Staging out(output_dir, staging);
  out.lock_ = std::move(lock);
  return out;
}

Staging::Staging(Staging&& other) noexcept
    : output_dir_(std::move(other.output_dir_)),
      staging_dir_(std::move(other.staging_dir_)),
      lock_(std::move(other.lock_)),
      files_(std::move(other.files_)),
      committed_(other.committed_) {
  other.committed_ = true;  // the moved-from object owns nothing
  other.staging_dir_.clear();
}

Staging::~Staging() {
  if (staging_dir_.empty()) return;
  std::error_code ec;
  fs::remove_all(staging_dir_, ec);
}

StagedFile::StagedFile(UniqueFd fd, std::string relative_path, std::string full_path)
    : fd_(std::move(fd)), relative_path_(std::move(relative_path)), full_path_(std::move(full_path)) {}

Status StagedFile::write_out(std::string_view bytes) {
  if (!fd_.valid()) return make_error("write(" + full_path_ + "): the file is closed");
  if (auto st = write_all(fd_.get(), bytes); !st) return make_error("write(" + full_path_ + "): " + st.error().message);
  hash_.update(bytes);
  bytes_ += bytes.size();
  return {};
}

Status StagedFile::flush() {
  if (buffer_.empty()) return {};
  if (auto st = write_out(buffer_); !st) return st;
  buffer_.clear();
  return {};
}

Status StagedFile::append(std::string_view bytes) {
  if (bytes.size() < kBlock) {
    buffer_.append(bytes);
    return flush_if_full();
  }
  // A large piece is written from where it is rather than copied into the buffer.
  if (auto st = flush(); !st) return st;
  return write_out(bytes);
}

Result<ExportedFile> StagedFile::close() {
  if (auto st = flush(); !st) return st.error();
  // Start the write-back now, so that commit's syncfs finds little left to write.
  ::sync_file_range(fd_.get(), 0, 0, SYNC_FILE_RANGE_WRITE);
  if (::close(fd_.release()) != 0) return make_error("close(" + full_path_ + "): " + errno_text(errno));
  return ExportedFile{relative_path_, bytes_, hash_.finish_hex()};
}

Result<StagedFile> Staging::open(const std::string& relative_path) const {
  fs::path rel(relative_path);
  if (rel.empty() || rel.is_absolute()) return make_error("export path " + relative_path + " is not relative");
  for (const auto& part : rel) {
    if (part == "." || part == ".." || part.empty())
      return make_error("export path " + relative_path + " has a . or .. component");
  }
  fs::path target = staging_dir_ / rel;
  std::error_code ec;
  fs::create_directories(target.parent_path(), ec);
  if (ec) return make_error("mkdir(" + target.parent_path().string() + "): " + ec.message());
  UniqueFd fd(::open(target.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
  if (!fd.valid()) return make_error("create(" + target.string() + "): " + errno_text(errno));
  return StagedFile(std::move(fd), relative_path, target.string());
}

Result<ExportedFile> Staging::write(const std::string& relative_path, std::string_view content) const {
  auto file = open(relative_path);
  if (!file) return file.error();
  if (auto st = file->write_out(content); !st) return st.error();  // whole: nothing to buffer
  return file->close();
}

Status Staging::add(const std::string& relative_path, std::string_view content) {
  auto written = write(relative_path, content);
  if (!written) return written.error();
  record(std::move(written).value());
  return {};
}

Status Staging::sync() const {
  UniqueFd dir(::open(staging_dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir.valid() || ::syncfs(dir.get()) != 0)
    return make_error("syncfs(" + staging_dir_.string() + "): " + errno_text(errno));
  return {};
}

Status Staging::commit() {
  // Files were written without fsync; make the whole staging folder durable in one call
  // before anything is renamed into place (quick when sync() has already run).
  if (auto st = sync(); !st) return st;
  std::set<std::string> top_level;
  for (const auto& f : files_) top_level.insert((*fs::path(f.path).begin()).string());
  for (const auto& name : top_level) {
    fs::path from = staging_dir_ / name;
    fs::path to = output_dir_ / name;
    std::error_code ec;
    bool is_dir = fs::is_directory(from, ec);
    if (is_dir && fs::is_directory(fs::symlink_status(to, ec))) {
      // Swap the new folder with the old one in one step, then drop the old one.
      if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_EXCHANGE) != 0)
        return make_error("renameat2(" + to.string() + ", RENAME_EXCHANGE): " + errno_text(errno));
      fs::remove_all(from, ec);  // `from` now holds the previous folder
    } else {
      if (fs::exists(fs::symlink_status(to, ec)) && !is_dir && fs::is_directory(fs::symlink_status(to, ec)))
        return make_error(to.string() + " is a folder where cqda writes a file; move it away");
      if (::rename(from.c_str(), to.c_str()) != 0)
        return make_error("rename(" + to.string() + "): " + errno_text(errno));
    }
  }
  committed_ = true;
  UniqueFd out(::open(output_dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (out.valid()) ::fsync(out.get());  // the renames themselves
  return {};
}

}  // namespace cqda::exporter
