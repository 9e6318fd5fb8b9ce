// Payload encoding for IPC messages: little-endian integers and length-prefixed byte
// strings, written and read in a fixed order per message type. The reader never reads past
// its input and never allocates more than the bytes that remain; any short or inconsistent
// input makes it fail (sticky), and finish() fails when bytes are left over.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "common/result.h"

namespace cqda::ipc {

class WireWriter {
 public:
  WireWriter& u8(std::uint8_t v);
  WireWriter& u32(std::uint32_t v);
  WireWriter& u64(std::uint64_t v);
  // u32 length + bytes. A string over UINT32_MAX bytes is a programming error (every message
  // type is capped far below) and aborts rather than writing a corrupt length.
  WireWriter& str(std::string_view v);
  void reserve(std::size_t bytes) { out_.reserve(bytes); }
  std::string take() { return std::move(out_); }
  const std::string& data() const { return out_; }

 private:
  std::string out_;
};

class WireReader {
 public:
  explicit WireReader(std::string_view in) : in_(in) {}
  bool u8(std::uint8_t& v);
  bool u32(std::uint32_t& v);
  bool u64(std::uint64_t& v);
  bool str(std::string& v);
  bool str_view(std::string_view& v);  // valid while the input lives
  // A count of items that follow, each at least `min_item_bytes` long: fails when the rest
  // of the input could not hold that many (so a hostile count never drives an allocation).
  // A `min_item_bytes` of 0 counts as 1.
  bool count(std::uint32_t& n, std::size_t min_item_bytes);
  bool ok() const { return ok_; }
  // Ok when everything read succeeded and nothing is left; else an error naming `what`.
  Status finish(std::string_view what) const;

 private:
  bool fail(const char* field, std::size_t needed);
  bool take(std::size_t n, const char* field, const char*& out);
  std::string_view in_;
  std::size_t offset_ = 0;  // bytes consumed, for error messages
  bool ok_ = true;
  // The first failure, for finish(): which read, where, and how many bytes it needed.
  const char* failed_field_ = nullptr;
  std::size_t failed_at_ = 0;
  std::size_t failed_needed_ = 0;
};

}  // namespace cqda::ipc
