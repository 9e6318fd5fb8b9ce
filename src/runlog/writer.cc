#include "runlog/writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "common/files.h"
#include "runlog/record.h"

namespace cqda::runlog {

RunLogWriter::RunLogWriter(UniqueFd fd, std::filesystem::path path, std::string run_id,
                           const SigningKey* key, WriterOptions options)
    : fd_(std::move(fd)),
      path_(std::move(path)),
      run_id_(std::move(run_id)),
      key_(key),
      options_(std::move(options)),
      prev_hash_(kGenesisHash) {}

Result<RunLogWriter> RunLogWriter::create(const std::filesystem::path& file, std::string run_id,
                                          const SigningKey* key, WriterOptions options) {
  if (!is_valid_run_id(run_id))
    return make_error("run log: invalid run id \"" + run_id +
                      "\" (1-128 characters of A-Z a-z 0-9 . _ -, not starting with . or -)");
  if (key != nullptr && key->empty())
    return make_error("run log: the signing key is empty (moved from)");
  // O_EXCL: a log is never overwritten or reopened; O_NOFOLLOW: a planted symlink cannot
  // redirect it; O_APPEND: every write lands at the end even if someone else appends.
  UniqueFd fd(
      ::open(file.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0644));
  if (!fd.valid()) {
    int err = errno;
    if (err == EEXIST)
      return make_error("create(" + file.string() +
                        "): the run log already exists - refusing to overwrite it");
    return make_error("create(" + file.string() + "): " + errno_text(err));
  }
  return RunLogWriter(std::move(fd), file, std::move(run_id), key, std::move(options));
}

Status RunLogWriter::append(std::string_view type, const Json& data) {
  if (type == kSealType)
    return make_error("run log " + path_.string() +
                      ": \"seal\" is written by seal(), not append()");
  // Keep the last slot for the seal so that a full log can still be closed.
  if (next_seq_ + 2 > kMaxRecords)
    return make_error("run log " + path_.string() + ": more than " + std::to_string(kMaxRecords) +
                      " records");
  return write_record(type, data);
}

Status RunLogWriter::seal() {
  if (sealed_) return make_error("run log " + path_.string() + ": already sealed");
  holding_ = false;
  if (auto st = flush(); !st) {
    sealed_ = true;  // nothing may follow an attempted seal
    return st;
  }
  Json data = Json::object();
  data["records"] = next_seq_;
  data["last_hash"] = prev_hash_;
  Status written = write_record(kSealType, data);
  sealed_ = true;  // even on failure: nothing may follow an attempted seal
  if (!written) return written;
  if (::fsync(fd_.get()) != 0)
    return make_error("fsync(" + path_.string() + "): " + errno_text(errno));
  return {};
}

Status RunLogWriter::write_record(std::string_view type, const Json& data) {
  if (sealed_)
    return make_error("run log " + path_.string() + ": sealed - no records may follow the seal");
  if (broken_)
    return make_error("run log " + path_.string() +
                      ": an earlier write failed; the log is incomplete");
  if (!fd_.valid()) return make_error("run log: the writer was moved from");
  const auto now = options_.clock ? options_.clock() : std::chrono::system_clock::now();
  const std::string time = format_time_utc_ms(now);
  Result<std::string> line = serialize_record(RecordFields{.run = run_id_,
                                                           .seq = next_seq_,
                                                           .time = time,
                                                           .type = type,
                                                           .data = &data,
                                                           .prev = prev_hash_},
                                              key_);
  if (!line) return line.error();
  if (holding_) {
    held_.append(*line).append("\n");
  } else {
    line->push_back('\n');
    if (auto st = write_all(*line); !st) return st;
    line->pop_back();
  }
  prev_hash_ = line_hash(*line);
  ++next_seq_;
  return {};
}

Status RunLogWriter::write_all(std::string_view bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd_.get(), bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      broken_ = true;
      return make_error("write(" + path_.string() + "): " + errno_text(errno));
    }
    if (n == 0) {
      broken_ = true;
      return make_error("write(" + path_.string() + "): wrote nothing");
    }
    done += static_cast<std::size_t>(n);
  }
  return {};
}

Status RunLogWriter::flush() {
  // A broken writer may have lost held lines with its failed write: a flush never says
  // "written" for them, even with nothing held now.
  if (broken_)
    return make_error("run log " + path_.string() +
                      ": an earlier write failed; the log is incomplete");
  if (held_.empty()) return {};
  if (!fd_.valid()) return make_error("run log: the writer was moved from");
  Status written = write_all(held_);
  held_.clear();
  return written;
}

Status RunLogWriter::hold(bool on) {
  if (on) {
    holding_ = true;
    return {};
  }
  holding_ = false;
  return flush();
}

RunLogWriter::~RunLogWriter() {
  if (fd_.valid() && !broken_) (void)flush();
}

Result<std::filesystem::path> make_run_log_dir(const std::filesystem::path& output_dir,
                                               std::string_view run_id) {
  if (!is_valid_run_id(run_id))
    return make_error("run log: invalid run id \"" + std::string(run_id) + "\"");
  const std::filesystem::path dir = output_dir / "run-logs";
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
    return make_error("mkdir(" + dir.string() + "): " + errno_text(errno));
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0)
    return make_error("lstat(" + dir.string() + "): " + errno_text(errno));
  if (!S_ISDIR(st.st_mode))
    return make_error(dir.string() + ": not a folder (a symlink or a file is in the way)");
  return run_log_path(output_dir, run_id);
}

}  // namespace cqda::runlog
