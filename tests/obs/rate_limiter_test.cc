// Requests per client (obs/rate_limiter.h): the burst, the refill, the retry time, the bound on
// the clients remembered.
#include "obs/rate_limiter.h"

#include <gtest/gtest.h>

namespace wafersim::http {
namespace {

using Clock = RateLimiter::Clock;
using std::chrono::milliseconds;

TEST(RateLimiter, AClientSpendsItsBurstThenGetsOneRequestPerRefill) {
  RateLimiter limiter({2, 4});
  const Clock::time_point t0 = Clock::now();
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(limiter.admit("10.0.0.1", t0)) << i;
  unsigned retry = 0;
  EXPECT_FALSE(limiter.admit("10.0.0.1", t0, &retry));
  EXPECT_EQ(retry, 1u);
  // Another client is not held back by the first.
  EXPECT_TRUE(limiter.admit("10.0.0.2", t0));
  // Two a second: one more after half a second, not before.
  EXPECT_FALSE(limiter.admit("10.0.0.1", t0 + milliseconds(400)));
  EXPECT_TRUE(limiter.admit("10.0.0.1", t0 + milliseconds(520)));
  EXPECT_FALSE(limiter.admit("10.0.0.1", t0 + milliseconds(600)));
  // A long pause refills to the burst, no more.
  const Clock::time_point later = t0 + std::chrono::seconds(60);
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(limiter.admit("10.0.0.1", later)) << i;
  EXPECT_FALSE(limiter.admit("10.0.0.1", later));
}

TEST(RateLimiter, TheRetryTimeIsTheWholeSecondsToTheNextToken) {
  RateLimiter limiter({0.25, 1});
  const Clock::time_point t0 = Clock::now();
  EXPECT_TRUE(limiter.admit("a", t0));
  unsigned retry = 0;
  EXPECT_FALSE(limiter.admit("a", t0, &retry));
  EXPECT_EQ(retry, 4u);
  EXPECT_FALSE(limiter.admit("a", t0 + milliseconds(3100), &retry));
  EXPECT_EQ(retry, 1u);
  EXPECT_TRUE(limiter.admit("a", t0 + milliseconds(4100)));
}

TEST(RateLimiter, OffAdmitsEverything) {
  RateLimiter limiter;
  EXPECT_FALSE(limiter.enabled());
  for (int i = 0; i < 10000; ++i) ASSERT_TRUE(limiter.admit("a", Clock::now()));
  EXPECT_EQ(limiter.clients(), 0u);
}

TEST(RateLimiter, MemoryIsBoundedIdleClientsAreForgottenAndTheRestShareABucket) {
  RateLimiter limiter({1, 1, 3});
  const Clock::time_point t0 = Clock::now();
  for (const char* c : {"a", "b", "c"}) EXPECT_TRUE(limiter.admit(c, t0));
  EXPECT_EQ(limiter.clients(), 3u);
  // Past the bound with everyone busy: newcomers share one bucket.
  EXPECT_TRUE(limiter.admit("d", t0));
  EXPECT_FALSE(limiter.admit("e", t0));
  EXPECT_EQ(limiter.clients(), 3u);
  // Once the remembered clients are idle (full again) they are dropped to make room.
  EXPECT_TRUE(limiter.admit("f", t0 + std::chrono::seconds(5)));
  EXPECT_EQ(limiter.clients(), 1u);
}

TEST(RateLimiter, TheClientIsTheAddressWithoutThePort) {
  EXPECT_EQ(clientOf("127.0.0.1:53122"), "127.0.0.1");
  EXPECT_EQ(clientOf("[::1]:8080"), "::1");
  EXPECT_EQ(clientOf("[fe80::1%eth0]:1"), "fe80::1%eth0");
  EXPECT_EQ(clientOf("host"), "host");
  EXPECT_EQ(clientOf(""), "");
}

}  // namespace
}  // namespace wafersim::http
