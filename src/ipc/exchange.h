// Requests from several threads over one channel, each answered by the one reply that
// carries its request id. All of them are on the channel together, so the peer can answer
// one after another without waiting for the asking side between them; the replies may come
// in any order.
//
// One waiting thread at a time reads the channel and hands each reply to the thread whose
// request id it carries; when its own reply comes, it passes the reading on to a thread that
// still waits. A thread waits only once its request is wholly sent: a send may be held up
// until the peer can take it, and a peer may not take requests while its replies are
// unread, so a reader must never be stuck in a send. A reply that comes while its request's
// sender is still returning from the send is kept for it. Nothing else may receive on the
// channel while an Exchange uses it.
//
// A thread is woken only after the lock is released, so it never wakes into a lock still
// held by its waker; the condition variables it sleeps on belong to the Exchange (a slot a
// thread borrows for one ask), so waking one whose ask has already ended is harmless.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "ipc/channel.h"

namespace cqda::ipc {

class Exchange {
 public:
  // Replies must be of `reply_type`; `timeout_ms` bounds each wait for the next message.
  Exchange(Channel& channel, std::uint16_t reply_type, int timeout_ms)
      : channel_(channel), reply_type_(reply_type), timeout_ms_(timeout_ms) {}
  Exchange(const Exchange&) = delete;

  // Sends `payload` as a message of `type` and returns the reply to it. Errors: the send
  // failed; or the channel failed, timed out, or brought a message that is not a reply to a
  // request still waiting (another type, an unknown or repeated id). The exchange is then
  // failed for good: every waiting and later ask fails with that error, since replies can
  // no longer be told apart.
  Result<Message> ask(std::uint16_t type, std::string_view payload);

 private:
  struct Waiter {
    std::condition_variable wake;
    std::optional<Message> reply;
  };
  void fail(std::string why);  // under mutex_: fails the exchange and wakes every waiter
  Waiter* borrow();  // under mutex_

  Channel& channel_;
  const std::uint16_t reply_type_;
  const int timeout_ms_;
  std::mutex mutex_;
  std::uint32_t next_id_ = 1;
  bool reading_ = false;  // a waiter is in channel_.receive
  std::optional<std::string> failed_;
  std::unordered_map<std::uint32_t, Waiter*> waiting_;  // request id -> its asker
  std::unordered_map<std::uint32_t, std::optional<Message>> sending_;  // id -> an early reply
  std::deque<Waiter> waiters_;   // every slot ever lent (as many as threads asked at once)
  std::vector<Waiter*> free_;    // the slots not lent now
};

}  // namespace cqda::ipc
