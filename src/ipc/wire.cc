#include "ipc/wire.h"

#include <cstdlib>
#include <limits>

namespace cqda::ipc {
namespace {

template <typename T>
void put_le(std::string& out, T v) {
  for (std::size_t i = 0; i < sizeof(T); ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}

template <typename T>
T get_le(const char* in) {
  T v = 0;
  for (std::size_t i = sizeof(T); i-- > 0;)
    v = static_cast<T>((v << 8) | static_cast<std::uint8_t>(in[i]));
  return v;
}

}  // namespace

WireWriter& WireWriter::u8(std::uint8_t v) {
  out_.push_back(static_cast<char>(v));
  return *this;
}

WireWriter& WireWriter::u32(std::uint32_t v) {
  put_le(out_, v);
  return *this;
}

WireWriter& WireWriter::u64(std::uint64_t v) {
  put_le(out_, v);
  return *this;
}

WireWriter& WireWriter::str(std::string_view v) {
  if (v.size() > std::numeric_limits<std::uint32_t>::max()) std::abort();
  put_le(out_, static_cast<std::uint32_t>(v.size()));
  out_.append(v);
  return *this;
}

// Records the first failure only; the reader stays failed and consumes nothing more.
bool WireReader::fail(const char* field, std::size_t needed) {
  if (ok_) {
    ok_ = false;
    failed_field_ = field;
    failed_at_ = offset_;
    failed_needed_ = needed;
  }
  return false;
}

bool WireReader::take(std::size_t n, const char* field, const char*& out) {
  if (!ok_) return false;
  if (n > in_.size()) return fail(field, n);
  out = in_.data();
  in_.remove_prefix(n);
  offset_ += n;
  return true;
}

bool WireReader::u8(std::uint8_t& v) {
  const char* p = nullptr;
  if (!take(1, "u8", p)) return false;
  v = static_cast<std::uint8_t>(*p);
  return true;
}

bool WireReader::u32(std::uint32_t& v) {
  const char* p = nullptr;
  if (!take(4, "u32", p)) return false;
  v = get_le<std::uint32_t>(p);
  return true;
}

bool WireReader::u64(std::uint64_t& v) {
  const char* p = nullptr;
  if (!take(8, "u64", p)) return false;
  v = get_le<std::uint64_t>(p);
  return true;
}

bool WireReader::str_view(std::string_view& v) {
  const char* p = nullptr;
  if (!take(4, "string length", p)) return false;
  const std::uint32_t length = get_le<std::uint32_t>(p);
  if (!take(length, "string bytes", p)) return false;
  v = std::string_view(p, length);
  return true;
}

bool WireReader::str(std::string& v) {
  std::string_view view;
  if (!str_view(view)) return false;
  v.assign(view);  // at most the bytes that were in the input
  return true;
}

bool WireReader::count(std::uint32_t& n, std::size_t min_item_bytes) {
  const char* p = nullptr;
  if (!take(4, "count", p)) return false;
  const std::uint32_t announced = get_le<std::uint32_t>(p);
  const std::size_t item = min_item_bytes == 0 ? 1 : min_item_bytes;
  // announced * item <= remaining, without the multiplication that could overflow.
  if (announced > in_.size() / item) {
    const std::size_t max = std::numeric_limits<std::size_t>::max();
    const std::size_t needed = announced > max / item ? max : announced * item;
    return fail("items", needed);
  }
  n = announced;
  return true;
}

Status WireReader::finish(std::string_view what) const {
  if (!ok_) {
    return make_error(std::string(what) + ": " + failed_field_ + " at byte " +
                      std::to_string(failed_at_) + " needs " + std::to_string(failed_needed_) +
                      " bytes but only " + std::to_string(in_.size()) + " remain");
  }
  if (!in_.empty()) {
    return make_error(std::string(what) + ": " + std::to_string(in_.size()) +
                      " unexpected trailing bytes after byte " + std::to_string(offset_));
  }
  return Status::success();
}

}  // namespace cqda::ipc
