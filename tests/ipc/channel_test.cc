// Channels over a real SOCK_SEQPACKET socketpair: round trips, fd passing, and each
// malformed or unpermitted datagram a hostile peer can send, which must fail the receive,
// leave the channel broken for good, and leak no fd.
#include "ipc/channel.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "ipc_test_support.h"

namespace cqda::ipc {
namespace {

using test::ChannelPair;
using test::forge_frame;
using test::kHello;
using test::kOpen;
using test::kScan;
using test::open_fd_count;
using test::patterned;
using test::send_raw;

struct Pipe {
  Pipe() {
    int fds[2];
    REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
    read_end.reset(fds[0]);
    write_end.reset(fds[1]);
  }
  UniqueFd read_end;
  UniqueFd write_end;
};

// The receive fails with `needle` in its error, names the peer, and the channel is broken
// afterwards: another receive and a send both fail at once.
void expect_broken(ChannelPair& pair, const std::string& needle) {
  auto received = pair.receiver.receive(2000);
  REQUIRE_FALSE(received.ok());
  CHECK_THAT(received.error().message, Catch::Contains(needle));
  CHECK_THAT(received.error().message, Catch::Contains("reader"));
  CHECK(pair.receiver.broken());
  CHECK_FALSE(pair.receiver.closed());
  // Even a valid message waiting in the queue is not read any more.
  REQUIRE(pair.sender.send(kScan, 1, "valid").ok());
  auto again = pair.receiver.receive(0);
  REQUIRE_FALSE(again.ok());
  CHECK_THAT(again.error().message, Catch::Contains("broken"));
  auto reply = pair.receiver.send(kScan, 1, "reply");
  REQUIRE_FALSE(reply.ok());
  CHECK_THAT(reply.error().message, Catch::Contains("broken"));
}

TEST_CASE("socketpair ends are close-on-exec SOCK_SEQPACKET sockets", "[ipc][channel]") {
  auto fds = Channel::socketpair();
  REQUIRE(fds.ok());
  for (int fd : {fds->first.get(), fds->second.get()}) {
    CHECK((::fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
    int type = 0;
    socklen_t length = sizeof type;
    REQUIRE(::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &length) == 0);
    CHECK(type == SOCK_SEQPACKET);
  }
}

TEST_CASE("messages of every size round-trip over a socketpair", "[ipc][channel]") {
  ChannelPair pair;
  for (const std::size_t size : {std::size_t{5}, std::size_t{0}, kMaxFramePayload,
                                 kMaxFramePayload + 1, std::size_t{1000000}}) {
    INFO("payload " << size);
    const std::string payload = patterned(size, static_cast<std::uint32_t>(size));
    // From another thread: a large message does not fit the socket queue at once.
    Status sent;
    std::thread sender([&] { sent = pair.sender.send(kScan, 77, payload); });
    auto received = pair.receiver.receive(10000);
    sender.join();
    REQUIRE(sent.ok());
    REQUIRE(received.ok());
    CHECK(received->type == kScan);
    CHECK(received->request_id == 77);
    CHECK(received->payload.size() == size);
    CHECK(received->payload == payload);
    CHECK_FALSE(received->fd.valid());
  }
  CHECK_FALSE(pair.receiver.broken());
}

// The received fd is a new descriptor for the pipe's write end, close-on-exec, and works.
void check_passed_fd(const Message& received, const Pipe& pipe) {
  REQUIRE(received.fd.valid());
  CHECK(received.fd.get() != pipe.write_end.get());
  CHECK((::fcntl(received.fd.get(), F_GETFD) & FD_CLOEXEC) != 0);
  REQUIRE(::write(received.fd.get(), "hi", 2) == 2);
  char buffer[4] = {};
  REQUIRE(::read(pipe.read_end.get(), buffer, sizeof buffer) == 2);
  CHECK(std::string(buffer, 2) == "hi");
}

TEST_CASE("an fd passes with its message and arrives close-on-exec", "[ipc][channel]") {
  ChannelPair pair;
  Pipe pipe;
  // Without FD_CLOEXEC on the sender's copy, so the flag on arrival comes from the receiver.
  REQUIRE(::fcntl(pipe.write_end.get(), F_SETFD, 0) == 0);
  SECTION("single-frame message") {
    REQUIRE(pair.sender.send(kOpen, 3, "path", pipe.write_end.get()).ok());
    auto received = pair.receiver.receive(2000);
    REQUIRE(received.ok());
    CHECK(received->type == kOpen);
    CHECK(received->request_id == 3);
    CHECK(received->payload == "path");
    check_passed_fd(*received, pipe);
  }
  SECTION("multi-frame message, the fd on its first frame") {
    const std::string payload = patterned(2 * kMaxFramePayload + 5, 1);
    Status sent;
    std::thread sender([&] { sent = pair.sender.send(kOpen, 4, payload, pipe.write_end.get()); });
    auto received = pair.receiver.receive(5000);
    sender.join();
    REQUIRE(sent.ok());
    REQUIRE(received.ok());
    CHECK(received->request_id == 4);
    CHECK(received->payload == payload);
    check_passed_fd(*received, pipe);
  }
  CHECK_FALSE(pair.receiver.broken());
}

TEST_CASE("a hostile peer's datagram breaks the channel", "[ipc][channel]") {
  ChannelPair pair;
  const int peer = pair.sender.fd();
  const std::string big = patterned(3 * kMaxFramePayload, 5);
  const auto big_frames = encode_message(kScan, 9, big);

  SECTION("payload_length 0xFFFFFFFF") {
    REQUIRE(send_raw(peer, forge_frame({0xFFFFFFFF, 10, kScan, 0, 1}, "0123456789")));
    expect_broken(pair, "declares 4294967295 payload bytes but the datagram carries 10");
  }
  SECTION("message_length 0xFFFFFFFF") {
    REQUIRE(send_raw(peer, forge_frame({0, 0xFFFFFFFF, kScan, kFrameMore, 1}, "")));
    auto received = pair.receiver.receive(2000);
    REQUIRE_FALSE(received.ok());
    CHECK(received.error().message ==
          "protocol violation by the reader: frame declares a 4294967295-byte message of type "
          "'scan' (cap 1048576)");
    CHECK(pair.receiver.broken());
  }
  SECTION("datagram shorter than the header") {
    REQUIRE(send_raw(peer, std::string(10, 'x')));
    expect_broken(pair, "datagram of 10 bytes is shorter than the 16-byte frame header");
  }
  SECTION("datagram shorter than its declared payload") {
    REQUIRE(send_raw(peer, forge_frame({100, 100, kScan, 0, 1}, "0123456789")));
    expect_broken(pair, "declares 100 payload bytes but the datagram carries 10");
  }
  SECTION("datagram bigger than kMaxFrameSize") {
    const std::string huge(40000, 'h');
    REQUIRE(::send(peer, huge.data(), huge.size(), MSG_NOSIGNAL) == 40000);
    expect_broken(pair, "datagram of 40000 bytes exceeds the 32768-byte frame limit");
  }
  SECTION("datagram one byte bigger than kMaxFrameSize") {
    REQUIRE(send_raw(peer, std::string(kMaxFrameSize + 1, '\0')));
    expect_broken(pair, "datagram of 32769 bytes exceeds");
  }
  SECTION("unknown type") {
    REQUIRE(send_raw(peer, forge_frame({2, 2, 99, 0, 1}, "hi")));
    expect_broken(pair, "message type 99 is not permitted");
  }
  SECTION("a kOnce type sent twice") {
    REQUIRE(pair.sender.send(kHello, 1, "v1").ok());
    REQUIRE(pair.receiver.receive(2000).ok());
    REQUIRE(pair.sender.send(kHello, 2, "v1").ok());
    expect_broken(pair, "second 'hello' message; it is permitted once");
  }
  SECTION("a missing fd for a type that needs one") {
    REQUIRE(pair.sender.send(kOpen, 1, "path").ok());
    expect_broken(pair, "'open' message arrived without its fd");
  }
  SECTION("interleaved frames of another request id mid-message") {
    REQUIRE(send_raw(peer, big_frames[0]));
    REQUIRE(send_raw(peer, encode_message(kScan, 10, "other")[0]));
    expect_broken(pair, "request 10 arrived in the middle of 'scan' (type 3) request 9");
  }
  SECTION("a continuation frame with a different message_length") {
    std::string forged = big_frames[1];
    FrameHeader h = test::header_of(forged);
    h.message_length = 5 * kMaxFramePayload;
    encode_frame_header(h, reinterpret_cast<std::uint8_t*>(forged.data()));
    REQUIRE(send_raw(peer, big_frames[0]));
    REQUIRE(send_raw(peer, forged));
    expect_broken(pair, "its first frame said 98256");
  }
  SECTION("payload beyond message_length") {
    REQUIRE(send_raw(peer, forge_frame({10, 5, kScan, 0, 1}, "0123456789")));
    expect_broken(pair, "carries 10 payload bytes where only 5 of the 5-byte message remain");
  }
  SECTION("an empty datagram with an fd is the peer closing; the fd is closed") {
    Pipe pipe;
    const int before = open_fd_count();
    REQUIRE(send_raw(peer, "", {pipe.read_end.get()}));
    auto received = pair.receiver.receive(2000);
    REQUIRE_FALSE(received.ok());
    CHECK(pair.receiver.closed());
    CHECK(open_fd_count() == before);
  }
}

TEST_CASE("stray fds are closed, never leaked", "[ipc][channel]") {
  ChannelPair pair;
  const int peer = pair.sender.fd();
  Pipe pipe;
  const int before = open_fd_count();
  REQUIRE(before > 0);
  // The lowest free descriptor is where a received fd would land.
  const int probe = ::dup(0);
  REQUIRE(probe >= 0);
  ::close(probe);

  SECTION("an fd on a type that allows none") {
    REQUIRE(pair.sender.send(kScan, 1, "data", pipe.read_end.get()).ok());
    expect_broken(pair, "'scan' message carries an fd; the type allows none");
  }
  SECTION("two fds on one frame") {
    REQUIRE(send_raw(peer, encode_message(kOpen, 1, "path")[0],
                     {pipe.read_end.get(), pipe.write_end.get()}));
    expect_broken(pair, "frame carries 2 fds");
  }
  SECTION("more fds than the receiver has room for") {
    std::vector<int> many(8, pipe.read_end.get());
    REQUIRE(send_raw(peer, encode_message(kOpen, 1, "path")[0], many));
    expect_broken(pair, "more than 4 fds");
  }
  SECTION("an fd on a continuation frame") {
    const auto frames = encode_message(kOpen, 1, patterned(kMaxFramePayload + 1, 2));
    REQUIRE(send_raw(peer, frames[0], {pipe.read_end.get()}));
    REQUIRE(send_raw(peer, frames[1], {pipe.write_end.get()}));
    expect_broken(pair, "fd attached to a continuation frame");
  }
  SECTION("a valid first frame's fd when a later frame is refused") {
    const auto frames = encode_message(kOpen, 1, patterned(kMaxFramePayload + 1, 2));
    REQUIRE(send_raw(peer, frames[0], {pipe.read_end.get()}));
    REQUIRE(send_raw(peer, std::string(3, 'x')));
    expect_broken(pair, "shorter than the 16-byte frame header");
  }
  CHECK(open_fd_count() == before);
  errno = 0;
  CHECK(::fcntl(probe, F_GETFD) == -1);
  CHECK(errno == EBADF);
}

TEST_CASE("a timeout is not a violation, and a cut message resumes", "[ipc][channel]") {
  ChannelPair pair;
  auto nothing = pair.receiver.receive(30);
  REQUIRE_FALSE(nothing.ok());
  CHECK_THAT(nothing.error().message, Catch::Contains("timed out after 30 ms"));
  CHECK_THAT(nothing.error().message, Catch::Contains("reader"));
  CHECK_FALSE(pair.receiver.broken());
  CHECK_FALSE(pair.receiver.closed());

  // The first frame (with its fd) arrives, the rest only after a timeout.
  Pipe pipe;
  const std::string payload = patterned(kMaxFramePayload + 100, 4);
  const auto frames = encode_message(kOpen, 8, payload);
  REQUIRE(send_raw(pair.sender.fd(), frames[0], {pipe.write_end.get()}));
  auto cut = pair.receiver.receive(30);
  REQUIRE_FALSE(cut.ok());
  CHECK_FALSE(pair.receiver.broken());
  REQUIRE(send_raw(pair.sender.fd(), frames[1]));
  auto resumed = pair.receiver.receive(2000);
  REQUIRE(resumed.ok());
  CHECK(resumed->payload == payload);
  REQUIRE(resumed->fd.valid());
  REQUIRE(::write(resumed->fd.get(), "z", 1) == 1);
}

TEST_CASE("receive(0) takes only what is queued, and a cut message resumes after it", "[ipc][channel]") {
  ChannelPair pair;
  for (int i = 0; i < 2; ++i) {  // twice: the second call follows one that found nothing
    auto nothing = pair.receiver.receive(0);
    REQUIRE_FALSE(nothing.ok());
    CHECK_THAT(nothing.error().message, Catch::Contains("timed out after 0 ms"));
    CHECK_FALSE(pair.receiver.broken());
  }
  REQUIRE(pair.sender.send(kScan, 1, "one"));
  REQUIRE(pair.sender.send(kScan, 2, "two"));
  auto one = pair.receiver.receive(0);
  REQUIRE(one.ok());
  CHECK(one->payload == "one");
  auto two = pair.receiver.receive(0);
  REQUIRE(two.ok());
  CHECK(two->payload == "two");
  CHECK_FALSE(pair.receiver.receive(0).ok());
  // A blocking receive after an empty receive(0) still gets what comes later.
  std::thread later([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    (void)pair.sender.send(kScan, 3, "three");
  });
  auto three = pair.receiver.receive(5000);
  later.join();
  REQUIRE(three.ok());
  CHECK(three->payload == "three");
  // Only the first frame of a message is there: cut, then resumed by the next call.
  const std::string payload = patterned(kMaxFramePayload + 100, 5);
  const auto frames = encode_message(kScan, 9, payload);
  REQUIRE(send_raw(pair.sender.fd(), frames[0]));
  REQUIRE_FALSE(pair.receiver.receive(0).ok());
  CHECK_FALSE(pair.receiver.broken());
  REQUIRE(send_raw(pair.sender.fd(), frames[1]));
  auto resumed = pair.receiver.receive(0);
  REQUIRE(resumed.ok());
  CHECK(resumed->payload == payload);
}

TEST_CASE("the peer closing is reported as closed, not broken", "[ipc][channel]") {
  auto fds = Channel::socketpair();
  REQUIRE(fds.ok());
  Channel receiver(std::move(fds->first), test::test_table(), "reader");
  SECTION("between messages") { fds->second.reset(); }
  SECTION("in the middle of a message") {
    REQUIRE(send_raw(fds->second.get(),
                     encode_message(kScan, 1, patterned(kMaxFramePayload + 1, 1))[0]));
    fds->second.reset();
  }
  auto received = receiver.receive(2000);
  REQUIRE_FALSE(received.ok());
  CHECK(received.error().message == "the reader closed the channel");
  CHECK(receiver.closed());
  CHECK_FALSE(receiver.broken());
  CHECK_FALSE(receiver.receive(0).ok());
  auto sent = receiver.send(kScan, 1, "x");
  REQUIRE_FALSE(sent.ok());
  CHECK_THAT(sent.error().message, Catch::Contains("reader closed the channel"));
}

TEST_CASE("messages sent before the peer closed are still received", "[ipc][channel]") {
  auto fds = Channel::socketpair();
  REQUIRE(fds.ok());
  Channel receiver(std::move(fds->first), test::test_table(), "reader");
  {
    Channel peer(std::move(fds->second), test::test_table(), "supervisor");
    REQUIRE(peer.send(kScan, 1, "last words").ok());
  }
  // A failed send marks the channel closed, but the queued message is still read.
  REQUIRE_FALSE(receiver.send(kScan, 2, "x").ok());
  CHECK(receiver.closed());
  auto last = receiver.receive(2000);
  REQUIRE(last.ok());
  CHECK(last->payload == "last words");
  auto after = receiver.receive(2000);
  REQUIRE_FALSE(after.ok());
  CHECK(after.error().message == "the reader closed the channel");
}

TEST_CASE("sending to a peer that is gone fails without SIGPIPE", "[ipc][channel]") {
  auto fds = Channel::socketpair();
  REQUIRE(fds.ok());
  Channel sender(std::move(fds->first), test::test_table(), "reader");
  fds->second.reset();
  auto sent = sender.send(kScan, 1, patterned(3 * kMaxFramePayload, 1));
  REQUIRE_FALSE(sent.ok());
  CHECK(sent.error().message == "the reader closed the channel");
  CHECK(sender.closed());
}

TEST_CASE("a bad fd to attach fails the send but not the channel", "[ipc][channel]") {
  ChannelPair pair;
  const int bad = ::dup(0);
  REQUIRE(bad >= 0);
  ::close(bad);
  auto sent = pair.sender.send(kOpen, 1, "path", bad);
  REQUIRE_FALSE(sent.ok());
  CHECK_THAT(sent.error().message, Catch::Contains("sendmsg to the supervisor"));
  CHECK_FALSE(pair.sender.broken());
  REQUIRE(pair.sender.send(kScan, 2, "after").ok());
  auto received = pair.receiver.receive(2000);
  REQUIRE(received.ok());
  CHECK(received->payload == "after");
}

TEST_CASE("concurrent senders never interleave frames of their messages", "[ipc][channel]") {
  ChannelPair pair;
  constexpr std::uint32_t kThreads = 4;
  constexpr std::uint32_t kPerThread = 12;
  // Sizes from one frame to several, different per message.
  auto size_of = [](std::uint32_t t, std::uint32_t i) -> std::size_t {
    return (t * kPerThread + i) * 9973 % (4 * kMaxFramePayload) + 1;
  };
  std::atomic<int> failures{0};
  std::vector<std::thread> senders;
  for (std::uint32_t t = 0; t < kThreads; ++t) {
    senders.emplace_back([&, t] {
      for (std::uint32_t i = 0; i < kPerThread; ++i) {
        const std::uint32_t id = t * 1000 + i;
        if (!pair.sender.send(kScan, id, patterned(size_of(t, i), id)).ok()) ++failures;
      }
    });
  }
  std::map<std::uint32_t, int> seen;
  bool all_intact = true;
  for (std::uint32_t n = 0; n < kThreads * kPerThread; ++n) {
    auto received = pair.receiver.receive(10000);
    if (!received.ok()) {
      FAIL_CHECK(received.error().message);
      all_intact = false;
      ::shutdown(pair.receiver.fd(), SHUT_RDWR);  // unblock the senders so join() returns
      break;
    }
    const std::uint32_t id = received->request_id;
    const std::uint32_t t = id / 1000, i = id % 1000;
    ++seen[id];
    if (t >= kThreads || i >= kPerThread || received->payload != patterned(size_of(t, i), id))
      all_intact = false;
  }
  for (auto& s : senders) s.join();
  CHECK(failures == 0);
  CHECK(all_intact);
  CHECK(seen.size() == kThreads * kPerThread);
  CHECK_FALSE(pair.receiver.broken());
}

}  // namespace
}  // namespace cqda::ipc
