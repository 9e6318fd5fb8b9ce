// The fuzz seeds in fuzz/corpus/ipc_frame/ (format: fuzz/ipc_frame_fuzz.cc): valid-* feed
// the fuzz target's table without an error, bad-* end in one. The hidden test regenerates
// them:
//   CQDA_IPC_CORPUS_OUT=fuzz/corpus/ipc_frame test_ipc "[.generate-corpus]"
#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "ipc/frame.h"
#include "ipc/wire.h"
#include "ipc_test_support.h"
#include "support/test_support.h"

namespace cqda::ipc {
namespace {

using test::forge_frame;
using test::kHello;
using test::kOpen;
using test::kScan;

// The fuzz target's table (the tests' table, with smaller caps).
const PermitTable& fuzz_table() {
  static const PermitTable table{
      {kHello, "hello", 64, FdRule::kNone, Permit::kOnce},
      {kOpen, "open", 4096, FdRule::kOne, Permit::kMany},
      {kScan, "scan", 256 * 1024, FdRule::kNone, Permit::kMany},
  };
  return table;
}

struct Datagram {
  std::string bytes;
  int fds = 0;
  bool truncated = false;
};

std::string to_fuzz_input(const std::vector<Datagram>& datagrams) {
  std::string out;
  for (const Datagram& d : datagrams) {
    out.push_back(static_cast<char>((d.fds & 3) | (d.truncated ? 4 : 0)));
    out.push_back(static_cast<char>(d.bytes.size() & 0xff));
    out.push_back(static_cast<char>(d.bytes.size() >> 8));
    out += d.bytes;
  }
  return out;
}

// Replays a seed the way the fuzz target splits it; true when no datagram was refused.
bool assembles_cleanly(const std::string& input) {
  FrameAssembler assembler(fuzz_table());
  std::size_t at = 0;
  while (input.size() - at >= 3) {
    const auto* p = reinterpret_cast<const std::uint8_t*>(input.data()) + at;
    const std::size_t length = std::min<std::size_t>(p[1] | (p[2] << 8), input.size() - at - 3);
    auto fed = assembler.feed({p + 3, length}, p[0] & 3, (p[0] & 4) != 0);
    if (!fed.ok()) return false;
    at += 3 + length;
  }
  return true;
}

std::vector<Datagram> message(std::uint16_t type, std::uint32_t id, const std::string& payload,
                              int fds = 0) {
  std::vector<Datagram> out;
  for (auto& frame : encode_message(type, id, payload))
    out.push_back({frame, out.empty() ? fds : 0});
  return out;
}

std::vector<Datagram> concat(std::initializer_list<std::vector<Datagram>> parts) {
  std::vector<Datagram> out;
  for (const auto& part : parts) out.insert(out.end(), part.begin(), part.end());
  return out;
}

std::string scan_payload(std::size_t items, std::size_t text_bytes) {
  WireWriter w;
  w.u32(static_cast<std::uint32_t>(items));
  for (std::size_t i = 0; i < items; ++i)
    w.u8(static_cast<std::uint8_t>(i))
        .str(std::string(text_bytes, static_cast<char>('a' + i % 26)));
  w.u64(0x0123456789abcdefULL);
  return w.take();
}

std::vector<std::pair<std::string, std::string>> seeds() {
  const std::string hello = WireWriter().u32(1).str("reader").take();
  const std::string open = WireWriter().str("interviews/p01.txt").u8(0).take();
  const std::string multi = scan_payload(4, 8300);  // two frames
  const auto multi_frames = message(kScan, 7, multi);
  return {
      {"valid-hello", to_fuzz_input(message(kHello, 1, hello))},
      {"valid-open-with-fd", to_fuzz_input(message(kOpen, 2, open, 1))},
      {"valid-scan-two-frames", to_fuzz_input(multi_frames)},
      {"valid-sequence",
       to_fuzz_input(concat({message(kHello, 1, hello), message(kScan, 2, scan_payload(2, 5)),
                             message(kOpen, 3, open, 1), message(kScan, 4, "")}))},
      {"valid-scan-trailing-bytes", to_fuzz_input(message(kScan, 5, scan_payload(1, 3) + "xx"))},
      {"bad-message-length-over-cap",
       to_fuzz_input({{forge_frame({0, 0xFFFFFFFF, kScan, kFrameMore, 1}, ""), 0}})},
      {"bad-interleaved-request",
       to_fuzz_input(concat({{multi_frames[0]}, message(kScan, 8, scan_payload(1, 1))}))},
      {"bad-short-datagram", to_fuzz_input({{std::string(10, '\x01'), 0}})},
      {"bad-hello-twice",
       to_fuzz_input(concat({message(kHello, 1, hello), message(kHello, 2, hello)}))},
      {"bad-fd-on-scan", to_fuzz_input(message(kScan, 1, scan_payload(1, 4), 1))},
      {"bad-truncated", to_fuzz_input({{message(kScan, 1, "x")[0].bytes, 0, true}})},
  };
}

TEST_CASE("the checked-in ipc_frame seeds assemble as their names say", "[ipc][corpus]") {
  const auto dir = cqda::test::source_dir() / "fuzz" / "corpus" / "ipc_frame";
  std::size_t valid = 0, bad = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    INFO(name);
    const std::string input = cqda::test::slurp(entry.path());
    CHECK(input.size() < 70 * 1024);
    if (name.rfind("valid-", 0) == 0) {
      CHECK(assembles_cleanly(input));
      ++valid;
    } else if (name.rfind("bad-", 0) == 0) {
      CHECK_FALSE(assembles_cleanly(input));
      ++bad;
    }
  }
  CHECK(valid >= 4);
  CHECK(bad >= 4);
}

TEST_CASE("regenerate the ipc_frame fuzz seeds", "[.generate-corpus]") {
  const char* out = std::getenv("CQDA_IPC_CORPUS_OUT");
  REQUIRE(out != nullptr);
  const std::filesystem::path dir(out);
  std::filesystem::create_directories(dir);
  for (const auto& [name, bytes] : seeds()) cqda::test::write_text(dir / name, bytes);
}

}  // namespace
}  // namespace cqda::ipc
