#include "ipc/exchange.h"

#include <string>
#include <utility>

namespace cqda::ipc {
namespace {

// Runs a channel call, turning an exception (an allocation that failed) into its error: the
// reader must always come back to hand over the role and fail the others, never unwind past
// them with a dangling waiter registered.
template <typename Call>
auto guarded(Call call) -> decltype(call()) {
  try {
    return call();
  } catch (const std::exception& e) {
    return make_error(std::string("the channel call failed: ") + e.what());
  }
}

}  // namespace

void Exchange::fail(std::string why) {
  if (!failed_) failed_ = std::move(why);
  // Rare: woken under the lock (the slots outlive every ask, so this is safe either way).
  for (auto& [id, waiter] : waiting_) waiter->wake.notify_one();
}

Exchange::Waiter* Exchange::borrow() {
  if (free_.empty()) {
    Waiter* waiter = &waiters_.emplace_back();
    // Room for every slot, so that giving one back never allocates.
    free_.reserve(waiters_.size());
    return waiter;
  }
  Waiter* waiter = free_.back();
  free_.pop_back();
  return waiter;
}

Result<Message> Exchange::ask(std::uint16_t type, std::string_view payload) {
  // The thread to wake once the lock is released (declared first: woken after `lock`
  // unlocks). One at most: a reader that hands a reply over wakes its owner before it reads
  // again, and nothing is allocated for it, so no step here can throw with a reply undelivered.
  Waiter* to_wake = nullptr;
  struct WakeUnlocked {
    Waiter*& waiter;
    void operator()() {
      if (waiter) waiter->wake.notify_one();
      waiter = nullptr;
    }
    ~WakeUnlocked() { (*this)(); }
  } wake_unlocked{to_wake};
  std::unique_lock lock(mutex_);
  if (failed_) return make_error(*failed_);
  const std::uint32_t id = next_id_++;
  Waiter& me = *borrow();
  // However ask() ends, the request leaves the tables and the slot goes back before `lock`
  // is released (this is destroyed first).
  struct Unregister {
    Exchange& exchange;
    std::uint32_t id;
    Waiter& me;
    ~Unregister() {
      exchange.waiting_.erase(id);
      exchange.sending_.erase(id);
      me.reply.reset();
      exchange.free_.push_back(&me);
    }
  } unregister{*this, id, me};
  sending_.emplace(id, std::nullopt);
  // Not sent under the lock: the reader must go on handing over replies meanwhile.
  lock.unlock();
  Status sent = guarded([&] { return channel_.send(type, id, payload); });
  lock.lock();
  auto early = sending_.extract(id);
  if (!sent) {
    // The peer may be in the middle of a message now; nothing can be trusted after it.
    fail(sent.error().message);
    return sent.error();
  }
  if (early.mapped()) {
    me.reply = std::move(early.mapped());
  } else {
    waiting_.emplace(id, &me);
  }
  while (!me.reply && !failed_) {
    if (reading_) {
      me.wake.wait(lock);
      continue;
    }
    reading_ = true;
    lock.unlock();
    wake_unlocked();  // the one handed its reply on the last round
    Result<Message> message = guarded([&] { return channel_.receive(timeout_ms_); });
    lock.lock();
    reading_ = false;
    if (!message) {
      fail(message.error().message);
      break;
    }
    if (message->type == reply_type_) {
      if (auto addressee = waiting_.find(message->request_id); addressee != waiting_.end()) {
        addressee->second->reply = std::move(*message);
        if (addressee->second != &me) to_wake = addressee->second;  // woken before the next read
        waiting_.erase(addressee);
        continue;
      }
      if (auto sender = sending_.find(message->request_id); sender != sending_.end() && !sender->second) {
        sender->second = std::move(*message);
        continue;
      }
    }
    fail("the " + channel_.peer() + " sent a message that answers no waiting request (type " +
         std::to_string(message->type) + ", id " + std::to_string(message->request_id) + ")");
  }
  waiting_.erase(id);
  if (!me.reply) return make_error(*failed_);
  // Others still wait and nobody reads for them: one of them takes over. Each is asleep
  // or about to look at reading_ under the lock.
  if (!reading_ && !waiting_.empty()) to_wake = waiting_.begin()->second;
  return std::move(*me.reply);
}

}  // namespace cqda::ipc
