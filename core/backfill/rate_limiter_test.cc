#include "core/backfill/rate_limiter.h"

#include <limits>

#include "gtest/gtest.h"

namespace lakehose::backfill {
namespace {

TEST(ReadRateLimiter, UnlimitedNeverWaits) {
  for (double rate : {0.0, -1.0, std::numeric_limits<double>::quiet_NaN()}) {
    ReadRateLimiter l(rate, 10);
    EXPECT_TRUE(l.unlimited());
    l.Charge(0, 1e9);
    EXPECT_EQ(l.DelayMs(0, 1e9), 0);
  }
}

TEST(ReadRateLimiter, StartsFullThenWaitsForTheDebtToBeRepaid) {
  ReadRateLimiter l(/*units_per_second=*/10, /*burst_units=*/10);
  EXPECT_EQ(l.DelayMs(1000, 5), 0);
  // A page cost 128 units (1 MB, eventually consistent): 118 in debt, 11.8 s at 10/s
  // before the next 5-unit request (5 more units: 12.3 s).
  l.Charge(1000, 128);
  EXPECT_DOUBLE_EQ(l.Available(1000), -118);
  EXPECT_EQ(l.DelayMs(1000, 5), 12300);
  EXPECT_EQ(l.DelayMs(1000 + 12300, 5), 0);
  // Refill never passes the burst.
  EXPECT_DOUBLE_EQ(l.Available(1000000), 10);
}

TEST(ReadRateLimiter, ExpectationAboveTheBurstWaitsForAFullBucket) {
  ReadRateLimiter l(100, 20);
  l.Charge(0, 20);                    // empty
  EXPECT_EQ(l.DelayMs(0, 500), 200);  // 20 units at 100/s, not 500
  EXPECT_EQ(l.DelayMs(0, -3), 0);     // negative counts as 0: the bucket holds 0
  EXPECT_EQ(l.DelayMs(0, std::numeric_limits<double>::quiet_NaN()), 0);
  EXPECT_EQ(l.DelayMs(0, 0.001), 1);  // rounded up: never 0 while short
}

TEST(ReadRateLimiter, HoldsTheRateOverTime) {
  // A caller that sends as soon as allowed and pays 4 units a page, for 60 simulated
  // seconds at 50 units/s, reads 50 * 60 units plus at most the starting burst.
  ReadRateLimiter l(50, 8);
  int64_t now = 0;
  double spent = 0;
  for (int i = 0; i < 100000 && now < 60000; ++i) {
    const int64_t wait = l.DelayMs(now, 4);
    if (wait > 0) {
      now += wait;
      continue;
    }
    l.Charge(now, 4);
    spent += 4;
  }
  EXPECT_GE(now, 60000);
  EXPECT_LE(spent, 50 * 60 + 8 + 4);
  EXPECT_GE(spent, 50 * 60 - 8);
}

TEST(ReadRateLimiter, ClockGoingBackAddsNothingAndWaitsAreCapped) {
  ReadRateLimiter l(1, 1);
  l.Charge(10000, 1);
  EXPECT_DOUBLE_EQ(l.Available(5000), 0);  // backwards: no refill
  EXPECT_DOUBLE_EQ(l.Available(10000), 0);
  l.Charge(10000, 1e300);  // a nonsense answer: bounded, finite
  EXPECT_EQ(l.DelayMs(10000, 1), ReadRateLimiter::kMaxDelayMs);
  l.Charge(10000, -5);  // ignored
  l.Charge(10000, std::numeric_limits<double>::quiet_NaN());
  EXPECT_LT(l.Available(10000), -9e11);
  EXPECT_GT(l.Available(10000), -1.1e12);
}

}  // namespace
}  // namespace lakehose::backfill
