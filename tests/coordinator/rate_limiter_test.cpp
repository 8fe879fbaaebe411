// Token buckets and the log throttle at exact times (no sleeps).
#include "fl/coordinator/rate_limiter.hpp"

#include <gtest/gtest.h>

namespace fl::coordinator {
namespace {

using namespace std::chrono_literals;

TEST(RateLimiter, LetsABurstThroughThenRefusesUntilTokensRefill) {
  RateLimiter limiter({10, 3}, 16);
  const auto t0 = LimitClock::now();
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.allow("peer", t0));
  EXPECT_FALSE(limiter.allow("peer", t0));
  EXPECT_FALSE(limiter.allow("peer", t0 + 50ms));
  EXPECT_TRUE(limiter.allow("peer", t0 + 100ms));
}

TEST(RateLimiter, KeepsPeersApart) {
  RateLimiter limiter({1, 1}, 16);
  const auto t0 = LimitClock::now();
  EXPECT_TRUE(limiter.allow("a", t0));
  EXPECT_FALSE(limiter.allow("a", t0));
  EXPECT_TRUE(limiter.allow("b", t0));
}

TEST(RateLimiter, HoldsAtMostMaxKeysAndForgetsBucketsThatRefilled) {
  RateLimiter limiter({10, 1}, 2);
  const auto t0 = LimitClock::now();
  EXPECT_TRUE(limiter.allow("a", t0));
  EXPECT_TRUE(limiter.allow("b", t0));
  EXPECT_FALSE(limiter.allow("c", t0));  // full, and nobody has refilled yet
  EXPECT_EQ(limiter.keys_held(), 2u);
  EXPECT_TRUE(limiter.allow("c", t0 + 2s));
  EXPECT_LE(limiter.keys_held(), 2u);
}

TEST(RateLimiter, ZeroRateMeansNoLimit) {
  RateLimiter limiter({0, 1}, 1);
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(limiter.allow(std::to_string(i), LimitClock::now()));
}

TEST(LogThrottle, CountsWhatItHoldsBackAndReportsItWithTheNextLine) {
  LogThrottle throttle(2);
  const auto t0 = LimitClock::now();
  std::uint64_t suppressed = 99;
  EXPECT_TRUE(throttle.allow(t0, suppressed));
  EXPECT_EQ(suppressed, 0u);
  EXPECT_TRUE(throttle.allow(t0, suppressed));
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(throttle.allow(t0, suppressed));
  EXPECT_TRUE(throttle.allow(t0 + 1s, suppressed));
  EXPECT_EQ(suppressed, 5u);
}

}  // namespace
}  // namespace fl::coordinator
