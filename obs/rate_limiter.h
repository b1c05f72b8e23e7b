// Requests per client, bounded: a token bucket per client address (the HTTP server's first check,
// before routing), so one client cannot take the API from the others.
//
// Contract:
//   - admit(client, now) takes one token from the client's bucket and says whether there was one.
//     A bucket holds at most `burst` tokens and gains `perSecond` a second; a new client starts full.
//   - When refused, retryAfter() is the whole seconds (at least 1) until the next token.
//   - Memory is bounded: at most `maxClients` buckets; full buckets (clients idle long enough to be
//     back at `burst`) are dropped first, and clients past the bound share one bucket.
//   - perSecond <= 0 turns the limiter off (everything admitted). Thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>

namespace wafersim::http {

struct RateLimit {
  double perSecond = 0;  // 0: no limit
  double burst = 0;      // tokens a client may spend at once (<= 0: max(1, perSecond))
  size_t maxClients = 4096;
};

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  explicit RateLimiter(RateLimit limit = {});

  bool enabled() const { return limit_.perSecond > 0; }
  // Whether `client` may make one more request now; on false, *retryAfterSeconds is set.
  bool admit(const std::string& client, Clock::time_point now, unsigned* retryAfterSeconds = nullptr);
  size_t clients() const;

 private:
  struct Bucket {
    double tokens;
    Clock::time_point updated;
  };
  void refill(Bucket& b, Clock::time_point now) const;
  void prune(Clock::time_point now);

  RateLimit limit_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Bucket> buckets_;
  Bucket overflow_;
};

// "127.0.0.1:5312" -> "127.0.0.1", "[::1]:80" -> "::1": the client a request counts against.
std::string clientOf(const std::string& remote);

}  // namespace wafersim::http
