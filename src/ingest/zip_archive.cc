#include "ingest/zip_archive.h"

#include <zip.h>

#include <memory>

namespace cqda::ingest {
namespace {

struct ArchiveCloser {
  void operator()(zip_t* archive) const { zip_discard(archive); }  // read-only: no write back
};
struct MemberCloser {
  void operator()(zip_file_t* file) const { zip_fclose(file); }
};
using ArchivePtr = std::unique_ptr<zip_t, ArchiveCloser>;
using MemberPtr = std::unique_ptr<zip_file_t, MemberCloser>;

// The archive view does not own `bytes`; they must outlive it.
Result<ArchivePtr> open_archive(std::string_view bytes) {
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* source = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error);
  if (source == nullptr) {
    std::string text = zip_error_strerror(&error);
    zip_error_fini(&error);
    return make_error("not a zip archive: " + text);
  }
  zip_t* archive = zip_open_from_source(source, ZIP_RDONLY, &error);
  if (archive == nullptr) {
    zip_source_free(source);  // not adopted by a failed open
    std::string text = zip_error_strerror(&error);
    zip_error_fini(&error);
    return make_error("not a zip archive: " + text);
  }
  zip_error_fini(&error);
  return ArchivePtr(archive);
}

// The checks made on the central directory alone, before any member is inflated.
Status check_declared_sizes(zip_t* archive, const policy::ArchiveLimits& limits) {
  zip_int64_t count = zip_get_num_entries(archive, 0);
  if (count < 0) return make_error("unreadable zip directory");
  if (static_cast<std::uint64_t>(count) > limits.max_entries)
    return make_error("zip archive has " + std::to_string(count) + " entries, more than the " +
                      "policy's archive.max_entries (" + std::to_string(limits.max_entries) + ")");
  std::uint64_t total = 0;
  for (zip_int64_t i = 0; i < count; ++i) {
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(archive, static_cast<zip_uint64_t>(i), 0, &st) != 0 ||
        !(st.valid & ZIP_STAT_SIZE) || !(st.valid & ZIP_STAT_COMP_SIZE))
      return make_error("zip entry " + std::to_string(i) + " has no declared size");
    // Each size is checked before it is added, so the sum stays below 2 * the limit.
    if (st.size > limits.max_uncompressed_bytes ||
        (total += st.size) > limits.max_uncompressed_bytes)
      return make_error("zip entries declare more than the policy's " +
                        std::string("archive.max_uncompressed_bytes (") +
                        std::to_string(limits.max_uncompressed_bytes) + ") uncompressed bytes");
    if (st.size > kRatioCheckThreshold && st.size / kMaxCompressionRatio > st.comp_size)
      return make_error("zip entry " + std::string(st.name ? st.name : "?") +
                        " compresses more than " + std::to_string(kMaxCompressionRatio) + ":1 (" +
                        std::to_string(st.size) + " bytes from " + std::to_string(st.comp_size) +
                        ")");
  }
  return {};
}

// Inflates at most `limit` bytes; one byte more is an error.
Result<std::string> inflate_bounded(zip_file_t* file, std::uint64_t declared, std::uint64_t limit,
                                    std::string_view member) {
  std::string out;
  out.reserve(static_cast<std::size_t>(declared));
  char buffer[65536];
  while (true) {
    zip_int64_t n = zip_fread(file, buffer, sizeof buffer);
    if (n < 0)
      return make_error("cannot inflate " + std::string(member) + ": " + zip_file_strerror(file));
    if (n == 0) break;
    if (out.size() + static_cast<std::uint64_t>(n) > limit)
      return make_error(std::string(member) + " inflates past its declared size (" +
                        std::to_string(declared) + " bytes)");
    out.append(buffer, static_cast<std::size_t>(n));
  }
  if (out.size() != declared)
    return make_error(std::string(member) + " inflates to " + std::to_string(out.size()) +
                      " bytes, not its declared " + std::to_string(declared));
  return out;
}

}  // namespace

Result<std::string> read_zip_member(std::string_view bytes, std::string_view member,
                                    const policy::ArchiveLimits& limits) {
  Result<ArchivePtr> archive = open_archive(bytes);
  if (!archive) return archive.error();
  if (Status status = check_declared_sizes(archive->get(), limits); !status) return status.error();
  std::string name(member);
  zip_int64_t index = zip_name_locate(archive->get(), name.c_str(), ZIP_FL_ENC_RAW);
  if (index < 0) return make_error("no " + name + " in the archive");
  zip_stat_t st;
  zip_stat_init(&st);
  if (zip_stat_index(archive->get(), static_cast<zip_uint64_t>(index), 0, &st) != 0)
    return make_error("unreadable zip entry " + name);
  if ((st.valid & ZIP_STAT_ENCRYPTION_METHOD) && st.encryption_method != ZIP_EM_NONE)
    return make_error(name + " is encrypted");
  MemberPtr file(zip_fopen_index(archive->get(), static_cast<zip_uint64_t>(index), 0));
  if (!file) return make_error("cannot open " + name + ": " + zip_strerror(archive->get()));
  return inflate_bounded(file.get(), st.size, std::min(st.size, limits.max_uncompressed_bytes),
                         name);
}

}  // namespace cqda::ingest
