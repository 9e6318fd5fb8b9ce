// Exchange over a real socketpair: many threads with requests on the channel at once, each
// handed exactly its own reply whatever order the peer answers in; and a peer that answers
// nothing it was asked, answers with the wrong type, or goes away, which fails every waiter
// instead of leaving one hanging or handing it someone else's reply.
#include "ipc/exchange.h"

#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <string>
#include <thread>
#include <vector>

#include "ipc_test_support.h"

namespace cqda::ipc {
namespace {

using test::ChannelPair;
using test::kHello;
using test::kScan;
using test::patterned;

constexpr int kThreads = 8;

// The peer: waits until `batch` requests are on the channel together, then answers them
// last first, each with "re:" and the request's payload. False if a wait or send failed
// (a timeout here: the requests did not all go out together).
bool answer_in_reverse(Channel& peer, int batch, int rounds) {
  for (int round = 0; round < rounds; ++round) {
    std::vector<Message> requests;
    while (static_cast<int>(requests.size()) < batch) {
      auto request = peer.receive(10000);
      if (!request) return false;
      requests.push_back(std::move(*request));
    }
    std::reverse(requests.begin(), requests.end());
    for (const auto& request : requests)
      if (!peer.send(kScan, request.request_id, "re:" + request.payload)) return false;
  }
  return true;
}

TEST_CASE("an exchange has every thread's request out at once and hands each its own reply",
          "[ipc][exchange]") {
  ChannelPair pair;
  Exchange exchange(pair.receiver, kScan, 10000);
  constexpr int kRounds = 20;
  bool peer_ok = false;
  std::thread peer([&] { peer_ok = answer_in_reverse(pair.sender, kThreads, kRounds); });
  std::vector<std::thread> askers;
  std::vector<int> mismatches(kThreads, 0);
  std::vector<int> failures(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    askers.emplace_back([&, t] {
      for (int round = 0; round < kRounds; ++round) {
        // Sizes from one frame to several, so replies also arrive frame by frame.
        const std::string payload = patterned(100 + (t * 7919 + round * 104729) % 90000, t * 1000 + round);
        auto reply = exchange.ask(kScan, payload);
        if (!reply) ++failures[t];
        else if (reply->payload != "re:" + payload) ++mismatches[t];
      }
    });
  }
  for (auto& asker : askers) asker.join();
  peer.join();
  CHECK(peer_ok);
  for (int t = 0; t < kThreads; ++t) {
    CHECK(failures[t] == 0);
    CHECK(mismatches[t] == 0);
  }
}

TEST_CASE("an exchange under a stream of asks hands every reply to its asker, in any order", "[ipc][exchange]") {
  // The peer answers whatever is on the channel as it comes, sometimes holding a few back
  // and answering them out of order, so readers change hands constantly and the slots the
  // threads sleep on are lent again and again.
  ChannelPair pair;
  Exchange exchange(pair.receiver, kScan, 10000);
  constexpr int kRounds = 400;
  std::atomic<bool> peer_ok{true};
  std::thread peer([&] {
    std::vector<Message> held;
    std::uint32_t seed = 7;
    for (int answered = 0; answered < kThreads * kRounds;) {
      // While requests are held, a short wait: when no other comes (every asker still going
      // has one held), the held ones are answered.
      auto request = pair.sender.receive(held.empty() ? 10000 : 2);
      if (request) {
        held.push_back(std::move(*request));
        seed = seed * 1103515245 + 12345;
        if ((seed >> 16) % 3 == 0) continue;  // hold it
      } else if (held.empty() || pair.sender.broken() || pair.sender.closed()) {
        peer_ok = false;
        return;
      }
      std::reverse(held.begin(), held.end());
      for (const auto& r : held)
        if (!pair.sender.send(kScan, r.request_id, "re:" + r.payload)) { peer_ok = false; return; }
      answered += static_cast<int>(held.size());
      held.clear();
    }
  });
  std::vector<std::thread> askers;
  std::vector<int> wrong(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    askers.emplace_back([&, t] {
      for (int round = 0; round < kRounds; ++round) {
        const std::string payload = std::to_string(t) + ":" + std::to_string(round);
        auto reply = exchange.ask(kScan, payload);
        if (!reply || reply->payload != "re:" + payload) ++wrong[t];
      }
    });
  }
  for (auto& asker : askers) asker.join();
  peer.join();
  CHECK(peer_ok);
  for (int t = 0; t < kThreads; ++t) CHECK(wrong[t] == 0);
}

TEST_CASE("a reply that answers no waiting request fails every waiter, then every ask",
          "[ipc][exchange]") {
  ChannelPair pair;
  Exchange exchange(pair.receiver, kScan, 10000);
  std::vector<std::thread> askers;
  std::vector<std::string> errors(3);
  for (int t = 0; t < 3; ++t)
    askers.emplace_back([&, t] {
      auto reply = exchange.ask(kScan, "question " + std::to_string(t));
      errors[t] = reply ? "answered" : reply.error().message;
    });
  std::vector<std::uint32_t> ids;
  for (int t = 0; t < 3; ++t) {
    auto request = pair.sender.receive(10000);
    REQUIRE(request.ok());
    ids.push_back(request->request_id);
  }
  SECTION("an id nobody asked with") {
    const std::uint32_t stranger = *std::max_element(ids.begin(), ids.end()) + 100;
    REQUIRE(pair.sender.send(kScan, stranger, "who asked?").ok());
  }
  SECTION("a repeated id: the second reply to one request") {
    REQUIRE(pair.sender.send(kScan, ids[0], "first").ok());
    REQUIRE(pair.sender.send(kScan, ids[0], "second").ok());
  }
  SECTION("a message of another type with a waiting id") {
    REQUIRE(pair.sender.send(kHello, ids[1], "hi").ok());
  }
  SECTION("the peer goes away") {
    REQUIRE(::shutdown(pair.sender.fd(), SHUT_RDWR) == 0);
  }
  for (auto& asker : askers) asker.join();
  int answered = 0;
  for (const auto& error : errors) {
    if (error == "answered") {
      ++answered;
      continue;
    }
    CHECK_FALSE(error.empty());
  }
  CHECK(answered <= 1);  // only the first of a repeated id's replies may have been handed over
  auto later = exchange.ask(kScan, "anyone?");
  REQUIRE_FALSE(later.ok());
}

TEST_CASE("an exchange whose peer never answers times out instead of hanging", "[ipc][exchange]") {
  ChannelPair pair;
  Exchange exchange(pair.receiver, kScan, 200);
  auto reply = exchange.ask(kScan, "hello?");
  REQUIRE_FALSE(reply.ok());
  CHECK(reply.error().message.find("timed out") != std::string::npos);
}

}  // namespace
}  // namespace cqda::ipc
