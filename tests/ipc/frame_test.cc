// The frame codec and the assembler without sockets: every violation frame.h lists, the
// sticky broken flag, and how encode_message splits a payload.
#include "ipc/frame.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "ipc_test_support.h"

namespace cqda::ipc {
namespace {

using test::forge_frame;
using test::header_of;
using test::kHello;
using test::kOpen;
using test::kScan;
using test::patterned;
using test::test_table;

std::span<const std::uint8_t> bytes(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// Feeds frames in order (fd_count for the first one only); returns the last result.
Result<std::optional<AssembledMessage>> feed_all(FrameAssembler& assembler,
                                                 const std::vector<std::string>& frames,
                                                 int first_fd_count = 0) {
  Result<std::optional<AssembledMessage>> last = std::optional<AssembledMessage>();
  for (std::size_t i = 0; i < frames.size(); ++i) {
    last = assembler.feed(bytes(frames[i]), i == 0 ? first_fd_count : 0);
    if (!last.ok()) return last;
  }
  return last;
}

// The assembler refuses `frames` (the last one fed triggers it) with `needle` in the error,
// and stays broken: a valid message fed afterwards fails too.
void expect_violation(const std::vector<std::string>& frames, const std::string& needle,
                      int first_fd_count = 0) {
  FrameAssembler assembler(test_table());
  auto result = feed_all(assembler, frames, first_fd_count);
  REQUIRE_FALSE(result.ok());
  CHECK_THAT(result.error().message, Catch::Contains(needle));
  CHECK(assembler.broken());
  CHECK_FALSE(assembler.mid_message());
  auto again = assembler.feed(bytes(encode_message(kScan, 1, "fine").front()), 0);
  REQUIRE_FALSE(again.ok());
  CHECK_THAT(again.error().message, Catch::Contains("already broken"));
  CHECK_THAT(again.error().message, Catch::Contains(needle));
}

TEST_CASE("frame headers round-trip in little endian", "[ipc][frame]") {
  FrameHeader header{0x01020304, 0x0a0b0c0d, 0x1122, kFrameMore, 0xdeadbeef};
  std::uint8_t out[kFrameHeaderSize];
  encode_frame_header(header, out);
  CHECK(out[0] == 0x04);
  CHECK(out[3] == 0x01);
  CHECK(out[4] == 0x0d);
  CHECK(out[8] == 0x22);
  CHECK(out[10] == 0x01);
  CHECK(out[12] == 0xef);
  const FrameHeader back = decode_frame_header(out);
  CHECK(back.payload_length == header.payload_length);
  CHECK(back.message_length == header.message_length);
  CHECK(back.type == header.type);
  CHECK(back.flags == header.flags);
  CHECK(back.request_id == header.request_id);
}

TEST_CASE("encode_message splits into full frames then the rest", "[ipc][frame]") {
  struct Case {
    std::size_t size;
    std::size_t frames;
  };
  for (const Case c : {Case{0, 1}, Case{1, 1}, Case{kMaxFramePayload, 1},
                       Case{kMaxFramePayload + 1, 2}, Case{3 * kMaxFramePayload, 3},
                       Case{1000000, (1000000 + kMaxFramePayload - 1) / kMaxFramePayload}}) {
    INFO("payload " << c.size);
    const std::string payload = patterned(c.size, 7);
    const auto frames = encode_message(kScan, 42, payload);
    REQUIRE(frames.size() == c.frames);
    std::string joined;
    for (std::size_t i = 0; i < frames.size(); ++i) {
      const FrameHeader h = header_of(frames[i]);
      const bool last = i + 1 == frames.size();
      CHECK(frames[i].size() <= kMaxFrameSize);
      CHECK(h.payload_length == frames[i].size() - kFrameHeaderSize);
      CHECK(h.message_length == c.size);
      CHECK(h.type == kScan);
      CHECK(h.request_id == 42);
      CHECK(h.flags == (last ? 0 : kFrameMore));
      if (!last) CHECK(h.payload_length == kMaxFramePayload);
      joined += frames[i].substr(kFrameHeaderSize);
    }
    CHECK(joined == payload);

    FrameAssembler assembler(test_table());
    auto result = feed_all(assembler, frames);
    REQUIRE(result.ok());
    REQUIRE(result->has_value());
    CHECK((*result)->payload == payload);
    CHECK((*result)->type == kScan);
    CHECK((*result)->request_id == 42);
    CHECK_FALSE((*result)->fd_attached);
    CHECK_FALSE(assembler.mid_message());
  }
}

TEST_CASE("the assembler reports mid-message state and the fd of a first frame", "[ipc][frame]") {
  FrameAssembler assembler(test_table());
  const std::string payload = patterned(kMaxFramePayload + 10, 3);
  const auto frames = encode_message(kOpen, 5, payload);
  REQUIRE(frames.size() == 2);
  auto first = assembler.feed(bytes(frames[0]), 1);
  REQUIRE(first.ok());
  CHECK_FALSE(first->has_value());
  CHECK(assembler.mid_message());
  auto second = assembler.feed(bytes(frames[1]), 0);
  REQUIRE(second.ok());
  REQUIRE(second->has_value());
  CHECK((*second)->fd_attached);
  CHECK((*second)->payload == payload);
  CHECK_FALSE(assembler.mid_message());
}

TEST_CASE("a kOnce type is accepted once, a kMany type repeatedly", "[ipc][frame]") {
  FrameAssembler assembler(test_table());
  REQUIRE(feed_all(assembler, encode_message(kHello, 1, "v1")).ok());
  for (std::uint32_t i = 0; i < 5; ++i)
    REQUIRE(feed_all(assembler, encode_message(kScan, i, "x")).ok());
  expect_violation({encode_message(kHello, 1, "v1")[0], encode_message(kHello, 2, "v1")[0]},
                   "second 'hello' message; it is permitted once");
}

TEST_CASE("the assembler refuses every malformed frame and stays broken", "[ipc][frame]") {
  const std::string big = patterned(3 * kMaxFramePayload, 11);
  const auto big_frames = encode_message(kScan, 9, big);

  SECTION("datagram shorter than a header") {
    expect_violation({std::string(10, 'x')},
                     "datagram of 10 bytes is shorter than the 16-byte frame header");
  }
  SECTION("empty datagram") { expect_violation({std::string()}, "datagram of 0 bytes"); }
  SECTION("datagram longer than kMaxFrameSize") {
    expect_violation({std::string(kMaxFrameSize + 1, '\0')}, "exceeds the 32768-byte frame limit");
  }
  SECTION("the receiver saw truncation") {
    FrameAssembler assembler(test_table());
    auto result = assembler.feed(bytes(encode_message(kScan, 1, "ok")[0]), 0, true);
    REQUIRE_FALSE(result.ok());
    CHECK_THAT(result.error().message, Catch::Contains("truncated"));
    CHECK(assembler.broken());
  }
  SECTION("payload_length 0xFFFFFFFF") {
    expect_violation({forge_frame({0xFFFFFFFF, 10, kScan, 0, 1}, "0123456789")},
                     "frame header declares 4294967295 payload bytes but the datagram carries 10");
  }
  SECTION("payload_length longer than the datagram") {
    expect_violation({forge_frame({100, 100, kScan, 0, 1}, "0123456789")},
                     "declares 100 payload bytes but the datagram carries 10");
  }
  SECTION("message_length over the type's cap") {
    expect_violation({forge_frame({0, 0xFFFFFFFF, kScan, kFrameMore, 1}, "")},
                     "frame declares a 4294967295-byte message of type 'scan' (cap 1048576)");
  }
  SECTION("message_length one over the cap") {
    expect_violation({forge_frame({0, test::kScanCap + 1, kScan, 0, 1}, "")},
                     "1048577-byte message of type 'scan' (cap 1048576)");
  }
  SECTION("unknown type") {
    expect_violation({forge_frame({2, 2, 99, 0, 1}, "hi")}, "message type 99 is not permitted");
  }
  SECTION("unknown flag bits") {
    expect_violation({forge_frame({2, 2, kScan, 0x8000, 1}, "hi")}, "unknown flags 0x8000");
  }
  SECTION("an fd on a type that allows none") {
    expect_violation({encode_message(kScan, 1, "x")[0]}, "'scan' message carries an fd", 1);
  }
  SECTION("no fd on a type that needs one") {
    expect_violation({encode_message(kOpen, 1, "x")[0]}, "'open' message arrived without its fd");
  }
  SECTION("more than one fd") {
    expect_violation({encode_message(kOpen, 1, "x")[0]}, "frame carries 2 fds", 2);
  }
  SECTION("an fd on a continuation frame") {
    FrameAssembler assembler(test_table());
    REQUIRE(assembler.feed(bytes(big_frames[0]), 0).ok());
    auto result = assembler.feed(bytes(big_frames[1]), 1);
    REQUIRE_FALSE(result.ok());
    CHECK_THAT(result.error().message, Catch::Contains("fd attached to a continuation frame"));
    CHECK(assembler.broken());
  }
  SECTION("a frame of another request id mid-message") {
    expect_violation({big_frames[0], encode_message(kScan, 10, "other")[0]},
                     "request 10 arrived in the middle of 'scan' (type 3) request 9");
  }
  SECTION("a frame of another type mid-message") {
    expect_violation({big_frames[0], encode_message(kHello, 9, "hi")[0]},
                     "arrived in the middle of 'scan'");
  }
  SECTION("a continuation frame with a different message_length") {
    std::string forged = big_frames[1];
    FrameHeader h = header_of(forged);
    h.message_length += 1;
    encode_frame_header(h, reinterpret_cast<std::uint8_t*>(forged.data()));
    expect_violation({big_frames[0], forged},
                     "declares a 98257-byte message; its first frame said 98256");
  }
  SECTION("payload beyond message_length in a single frame") {
    expect_violation({forge_frame({10, 5, kScan, 0, 1}, "0123456789")},
                     "carries 10 payload bytes where only 5 of the 5-byte message remain");
  }
  SECTION("payload beyond message_length in the last frame") {
    // Two full frames, then a third full one where only 100 bytes remain.
    const std::uint32_t total = 2 * kMaxFramePayload + 100;
    const std::string chunk(kMaxFramePayload, 'a');
    expect_violation({forge_frame({kMaxFramePayload, total, kScan, kFrameMore, 1}, chunk),
                      forge_frame({kMaxFramePayload, total, kScan, kFrameMore, 1}, chunk),
                      forge_frame({kMaxFramePayload, total, kScan, 0, 1}, chunk)},
                     "carries 32752 payload bytes where only 100 of the 65604-byte message remain");
  }
  SECTION("a last frame short of message_length") {
    expect_violation({forge_frame({3, 5, kScan, 0, 1}, "abc")},
                     "'scan' message ends after 3 of 5 bytes");
    expect_violation({big_frames[0], big_frames[1],
                      forge_frame({10, header_of(big_frames[2]).message_length, kScan, 0, 9},
                                  std::string(10, 'z'))},
                     "ends after");
  }
  SECTION("a non-last frame that is not full") {
    expect_violation({forge_frame({3, 100, kScan, kFrameMore, 1}, "abc")},
                     "non-last frame of 'scan' carries 3 bytes instead of 32752");
  }
  SECTION("a frame that announces more although the message is complete") {
    const std::string chunk(kMaxFramePayload, 'a');
    expect_violation(
        {forge_frame({kMaxFramePayload, kMaxFramePayload, kScan, kFrameMore, 1}, chunk)},
        "announces more frames but the 32752-byte message is complete");
  }
  SECTION("a negative fd count") {
    FrameAssembler assembler(test_table());
    REQUIRE_FALSE(assembler.feed(bytes(encode_message(kScan, 1, "x")[0]), -1).ok());
    CHECK(assembler.broken());
  }
}

}  // namespace
}  // namespace cqda::ipc
