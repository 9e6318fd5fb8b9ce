// The live MCP sessions of one HTTP server, by id, and each session's request-rate budget.
// A session exists once its initialize succeeded; it ends on DELETE or after idling past the
// timeout (a session with a request running is never idle); at most `max_sessions` exist at
// once, counting those whose initialize is still running. Ids are 32 bytes from OpenSSL's
// CSPRNG in lowercase hex. A session id is not authentication: the bearer token is.
//
// Not thread-safe: the server's I/O thread owns the table. Time is passed in, so tests
// drive it without sleeping.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "mcp/session.h"

namespace cqda::http {

using Clock = std::chrono::steady_clock;

// A token bucket: `rate` requests per second on average, bursts of up to `burst`.
class TokenBucket {
 public:
  TokenBucket(double rate, double burst, Clock::time_point now);
  // nullopt when a request may go now (and takes a token); else how long until one may.
  std::optional<Clock::duration> take(Clock::time_point now);

 private:
  double rate_;
  double burst_;
  double tokens_;
  Clock::time_point last_;
};

class SessionTable {
 public:
  struct Settings {
    std::size_t max_sessions = 64;
    Clock::duration idle_timeout = std::chrono::minutes(30);
    double requests_per_second = 50;
    double burst = 100;
  };
  struct Entry {
    std::shared_ptr<mcp::Session> session;
    Clock::time_point last_used;
    TokenBucket bucket;
    std::size_t running = 0;  // requests being handled; while > 0 the session is not idle
  };

  explicit SessionTable(Settings settings);

  // Holds a place for a session whose initialize is about to run; false at the cap (after
  // expired sessions are dropped). Each reservation ends in insert() or release().
  bool reserve(Clock::time_point now);
  void release();
  // Turns a reservation into a session and returns its new id.
  Result<std::string> insert(std::shared_ptr<mcp::Session> session, Clock::time_point now);

  // The live entry for `id` (marked used now), or nullptr when unknown or expired (an expired
  // entry is dropped here).
  Entry* find(std::string_view id, Clock::time_point now);
  bool erase(std::string_view id);
  // Drops every expired session.
  void expire(Clock::time_point now);
  std::size_t size() const { return entries_.size(); }

 private:
  bool expired(const Entry& entry, Clock::time_point now) const;

  Settings settings_;
  std::map<std::string, Entry, std::less<>> entries_;
  std::size_t reserved_ = 0;
};

}  // namespace cqda::http
