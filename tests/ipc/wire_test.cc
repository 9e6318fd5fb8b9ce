// WireWriter/WireReader: round trips, truncation at every byte, hostile counts and lengths,
// trailing bytes, and the sticky failure.
#include "ipc/wire.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <string>
#include <vector>

namespace cqda::ipc {
namespace {

using namespace std::string_view_literals;

// A message with one of everything: u8, u32, u64, a counted list of strings.
std::string sample() {
  WireWriter w;
  w.u8(0xAB).u32(0x01020304).u64(0x1122334455667788ULL).u32(2).str("alpha").str("");
  return w.take();
}

// Reads sample()'s fields back; false at the first failed read.
bool read_sample(WireReader& r, std::vector<std::string>& items) {
  std::uint8_t a = 0;
  std::uint32_t b = 0, n = 0;
  std::uint64_t c = 0;
  if (!r.u8(a) || !r.u32(b) || !r.u64(c) || !r.count(n, 4)) return false;
  for (std::uint32_t i = 0; i < n; ++i) {
    std::string s;
    if (!r.str(s)) return false;
    items.push_back(s);
  }
  return a == 0xAB && b == 0x01020304 && c == 0x1122334455667788ULL;
}

TEST_CASE("the writer's layout is little endian with u32-prefixed strings", "[ipc][wire]") {
  WireWriter w;
  w.u8(1).u32(0x01020304).u64(5).str("hi");
  CHECK(w.data() == std::string("\x01\x04\x03\x02\x01\x05\0\0\0\0\0\0\0\x02\0\0\0hi", 19));
}

TEST_CASE("the reader reads back what the writer wrote", "[ipc][wire]") {
  const std::string bytes = sample();
  WireReader r(bytes);
  std::vector<std::string> items;
  REQUIRE(read_sample(r, items));
  CHECK(items == std::vector<std::string>{"alpha", ""});
  CHECK(r.ok());
  CHECK(r.finish("sample").ok());

  WireReader views("\x03\0\0\0abc"sv);
  std::string_view v;
  REQUIRE(views.str_view(v));
  CHECK(v == "abc");
  CHECK(views.finish("view").ok());
}

TEST_CASE("every truncation of a valid message fails", "[ipc][wire]") {
  const std::string bytes = sample();
  for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
    INFO("cut at " << cut);
    WireReader r(std::string_view(bytes).substr(0, cut));
    std::vector<std::string> items;
    CHECK_FALSE(read_sample(r, items));
    CHECK_FALSE(r.ok());
    auto status = r.finish("sample");
    REQUIRE_FALSE(status.ok());
    CHECK_THAT(status.error().message, Catch::StartsWith("sample: "));
  }
}

TEST_CASE("a string length beyond the input fails without allocating it", "[ipc][wire]") {
  WireReader r(
      "\xff\xff\xff\xff"
      "abc"sv);
  std::string s;
  CHECK_FALSE(r.str(s));
  CHECK(s.empty());
  auto status = r.finish("open_request");
  REQUIRE_FALSE(status.ok());
  CHECK(status.error().message ==
        "open_request: string bytes at byte 4 needs 4294967295 bytes but only 3 remain");
}

TEST_CASE("count() refuses a count the rest of the input cannot hold", "[ipc][wire]") {
  SECTION("hostile count") {
    WireReader r(
        "\xff\xff\xff\xff"
        "abcdefgh"sv);
    std::uint32_t n = 12345;
    CHECK_FALSE(r.count(n, 1));
    CHECK(n == 12345);  // untouched on failure
    auto status = r.finish("scan_result");
    REQUIRE_FALSE(status.ok());
    CHECK_THAT(status.error().message, Catch::Contains("items at byte 4"));
  }
  SECTION("items larger than the rest") {
    WireReader r(
        "\x03\0\0\0"
        "abcdefgh"sv);
    std::uint32_t n = 0;
    CHECK_FALSE(r.count(n, 3));  // 3 items of 3 bytes do not fit in 8
  }
  SECTION("a huge minimum item size does not overflow") {
    WireReader r(
        "\x02\0\0\0"
        "ab"sv);
    std::uint32_t n = 0;
    CHECK_FALSE(r.count(n, static_cast<std::size_t>(-1) / 2 + 1));
  }
  SECTION("an exact fit is accepted") {
    WireReader r(
        "\x02\0\0\0"
        "abcd"sv);
    std::uint32_t n = 0;
    REQUIRE(r.count(n, 2));
    CHECK(n == 2);
  }
  SECTION("a minimum of 0 counts as 1") {
    WireReader r(
        "\x03\0\0\0"
        "ab"sv);
    std::uint32_t n = 0;
    CHECK_FALSE(r.count(n, 0));
    WireReader zero("\0\0\0\0"sv);
    REQUIRE(zero.count(n, 0));
    CHECK(n == 0);
    CHECK(zero.finish("empty list").ok());
  }
}

TEST_CASE("finish() fails on trailing bytes", "[ipc][wire]") {
  const std::string bytes = sample() + "!!";
  WireReader r(bytes);
  std::vector<std::string> items;
  REQUIRE(read_sample(r, items));
  CHECK(r.ok());
  auto status = r.finish("sample");
  REQUIRE_FALSE(status.ok());
  CHECK(status.error().message == "sample: 2 unexpected trailing bytes after byte 30");
}

TEST_CASE("a failed reader stays failed", "[ipc][wire]") {
  WireReader r("\x01\x02\x03"sv);
  std::uint32_t v = 0;
  CHECK_FALSE(r.u32(v));
  std::uint8_t b = 0;
  CHECK_FALSE(r.u8(b));  // the bytes are there, but the reader is failed
  CHECK(b == 0);
  auto status = r.finish("x");
  REQUIRE_FALSE(status.ok());
  CHECK_THAT(status.error().message, Catch::Contains("u32 at byte 0 needs 4 bytes"));
}

}  // namespace
}  // namespace cqda::ipc
