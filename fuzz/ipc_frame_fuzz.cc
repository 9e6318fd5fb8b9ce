// Fuzzes the IPC frame assembler and the payload reader: the bytes a hostile child can put
// on its socketpair. Any input must give messages or an Error, never a crash, a leak, or an
// allocation beyond the type's cap.
//
// Input: a sequence of records, each one received datagram:
//   u8  control   bits 0-1: fds that came with it (0..3); bit 2: the receiver saw truncation
//   u16 length    little endian; clamped to the bytes that remain
//   length bytes  the datagram
// tests/ipc/corpus_test.cc writes the seeds in fuzz/corpus/ipc_frame/ in this format.
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "ipc/frame.h"
#include "ipc/wire.h"

namespace {

using cqda::ipc::AssembledMessage;
using cqda::ipc::FdRule;
using cqda::ipc::FrameAssembler;
using cqda::ipc::Permit;
using cqda::ipc::PermitTable;
using cqda::ipc::WireReader;
using cqda::ipc::WireWriter;

// Type numbers as in the tests' table, so their seeds exercise real rules.
enum : std::uint16_t { kHello = 1, kOpen = 2, kScan = 3 };

const PermitTable& table() {
  static const PermitTable t{
      {kHello, "hello", 64, FdRule::kNone, Permit::kOnce},
      {kOpen, "open", 4096, FdRule::kOne, Permit::kMany},
      {kScan, "scan", 256 * 1024, FdRule::kNone, Permit::kMany},
  };
  return t;
}

// Payload layouts per type, read the way a handler would. A scan payload that reads
// cleanly must re-encode to the same bytes.
void read_payload(const AssembledMessage& message) {
  WireReader r(message.payload);
  switch (message.type) {
    case kHello: {
      std::uint32_t version = 0;
      std::string name;
      r.u32(version);
      r.str(name);
      break;
    }
    case kOpen: {
      std::string path;
      std::uint8_t flags = 0;
      r.str(path);
      r.u8(flags);
      break;
    }
    case kScan: {
      std::uint32_t n = 0;
      WireWriter w;
      if (r.count(n, 5)) {
        w.u32(n);
        for (std::uint32_t i = 0; i < n; ++i) {
          std::uint8_t kind = 0;
          std::string_view text;
          if (!r.u8(kind) || !r.str_view(text)) break;
          w.u8(kind).str(text);
        }
      }
      std::uint64_t checksum = 0;
      if (r.u64(checksum)) w.u64(checksum);
      if (r.finish("scan").ok() && w.data() != message.payload) __builtin_trap();
      return;
    }
    default:
      __builtin_trap();  // the assembler handed over a type outside the table
  }
  (void)r.finish("payload");
}

// A message the assembler accepted must survive encode_message and a fresh assembler.
void check_round_trip(const AssembledMessage& message) {
  FrameAssembler again(table());
  const auto frames = cqda::ipc::encode_message(message.type, message.request_id, message.payload);
  for (std::size_t i = 0; i < frames.size(); ++i) {
    const auto& frame = frames[i];
    auto fed = again.feed({reinterpret_cast<const std::uint8_t*>(frame.data()), frame.size()},
                          i == 0 && message.fd_attached ? 1 : 0);
    if (!fed.ok()) __builtin_trap();
    const bool last = i + 1 == frames.size();
    if (fed->has_value() != last) __builtin_trap();
    if (last && ((*fed)->payload != message.payload || (*fed)->type != message.type ||
                 (*fed)->request_id != message.request_id))
      __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FrameAssembler assembler(table());
  std::span<const std::uint8_t> rest(data, size);
  bool failed = false;
  while (rest.size() >= 3) {
    const std::uint8_t control = rest[0];
    const std::size_t declared = rest[1] | (rest[2] << 8);
    rest = rest.subspan(3);
    const std::size_t length = declared < rest.size() ? declared : rest.size();
    const auto datagram = rest.first(length);
    rest = rest.subspan(length);

    auto fed = assembler.feed(datagram, control & 3, (control & 4) != 0);
    if (failed && fed.ok()) __builtin_trap();  // broken must be sticky
    if (!fed.ok()) {
      if (!assembler.broken() || assembler.mid_message()) __builtin_trap();
      failed = true;
      continue;  // keep feeding: every later datagram must fail too
    }
    if (!fed->has_value()) continue;
    const AssembledMessage& message = **fed;
    const cqda::ipc::Rule* rule = table().find(message.type);
    if (rule == nullptr || message.payload.size() > rule->max_length) __builtin_trap();
    if (message.fd_attached != (rule->fd == FdRule::kOne)) __builtin_trap();
    read_payload(message);
    check_round_trip(message);
  }
  return 0;
}
