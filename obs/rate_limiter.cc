#include "obs/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace wafersim::http {

RateLimiter::RateLimiter(RateLimit limit) : limit_(limit) {
  if (limit_.burst <= 0) limit_.burst = std::max(1.0, limit_.perSecond);
  limit_.maxClients = std::max<size_t>(1, limit_.maxClients);
  overflow_ = {limit_.burst, Clock::now()};
}

void RateLimiter::refill(Bucket& b, Clock::time_point now) const {
  const double elapsed = std::chrono::duration<double>(now - b.updated).count();
  if (elapsed > 0) {
    b.tokens = std::min(limit_.burst, b.tokens + elapsed * limit_.perSecond);
    b.updated = now;
  }
}

void RateLimiter::prune(Clock::time_point now) {
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    refill(it->second, now);
    it = it->second.tokens >= limit_.burst ? buckets_.erase(it) : std::next(it);
  }
}

bool RateLimiter::admit(const std::string& client, Clock::time_point now, unsigned* retryAfterSeconds) {
  if (!enabled()) return true;
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = buckets_.find(client);
  if (it == buckets_.end() && buckets_.size() >= limit_.maxClients) prune(now);
  Bucket* b = nullptr;
  if (it != buckets_.end()) {
    b = &it->second;
  } else if (buckets_.size() < limit_.maxClients) {
    b = &buckets_.emplace(client, Bucket{limit_.burst, now}).first->second;
  } else {
    b = &overflow_;
  }
  refill(*b, now);
  if (b->tokens >= 1) {
    b->tokens -= 1;
    return true;
  }
  if (retryAfterSeconds)
    *retryAfterSeconds = static_cast<unsigned>(std::max(1.0, std::ceil((1 - b->tokens) / limit_.perSecond)));
  return false;
}

size_t RateLimiter::clients() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return buckets_.size();
}

std::string clientOf(const std::string& remote) {
  if (!remote.empty() && remote.front() == '[') {
    const size_t close = remote.find(']');
    return close == std::string::npos ? remote : remote.substr(1, close - 1);
  }
  const size_t colon = remote.rfind(':');
  return colon == std::string::npos ? remote : remote.substr(0, colon);
}

}  // namespace wafersim::http
