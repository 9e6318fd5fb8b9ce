#include "http/sessions.h"

#include <openssl/rand.h>

#include <algorithm>
#include <array>

#include "common/hash.h"

namespace cqda::http {

TokenBucket::TokenBucket(double rate, double burst, Clock::time_point now)
    : rate_(rate), burst_(std::max(burst, 1.0)), tokens_(burst_), last_(now) {}

std::optional<Clock::duration> TokenBucket::take(Clock::time_point now) {
  if (now > last_) {
    tokens_ =
        std::min(burst_, tokens_ + std::chrono::duration<double>(now - last_).count() * rate_);
    last_ = now;
  }
  if (tokens_ >= 1) {
    tokens_ -= 1;
    return std::nullopt;
  }
  if (rate_ <= 0) return std::chrono::duration_cast<Clock::duration>(std::chrono::hours(1));
  return std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>((1 - tokens_) / rate_));
}

SessionTable::SessionTable(Settings settings) : settings_(settings) {}

bool SessionTable::expired(const Entry& entry, Clock::time_point now) const {
  return entry.running == 0 && now - entry.last_used > settings_.idle_timeout;
}

void SessionTable::expire(Clock::time_point now) {
  std::erase_if(entries_, [&](const auto& item) { return expired(item.second, now); });
}

bool SessionTable::reserve(Clock::time_point now) {
  expire(now);
  if (entries_.size() + reserved_ >= settings_.max_sessions) return false;
  ++reserved_;
  return true;
}

void SessionTable::release() {
  if (reserved_ > 0) --reserved_;
}

Result<std::string> SessionTable::insert(std::shared_ptr<mcp::Session> session,
                                         Clock::time_point now) {
  release();
  std::array<std::uint8_t, 32> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1)
    return make_error("RAND_bytes: no randomness for a session id");
  std::string id = to_hex(bytes);
  Entry entry{std::move(session), now,
              TokenBucket(settings_.requests_per_second, settings_.burst, now)};
  if (!entries_.emplace(id, std::move(entry)).second) return make_error("session id collision");
  return id;
}

SessionTable::Entry* SessionTable::find(std::string_view id, Clock::time_point now) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return nullptr;
  if (expired(it->second, now)) {
    entries_.erase(it);
    return nullptr;
  }
  it->second.last_used = now;
  return &it->second;
}

bool SessionTable::erase(std::string_view id) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return false;
  // The client ended the session: whatever it still has running stops.
  if (it->second.session) it->second.session->cancel_all();
  entries_.erase(it);
  return true;
}

}  // namespace cqda::http
