#include "core/base/backoff.h"

#include <cstdint>
#include <limits>

#include "gtest/gtest.h"

namespace lakehose {
namespace {

TEST(BackoffTest, CeilingDoublesFromTheBase) {
  const BackoffPolicy p{.base_delay_ms = 100, .max_delay_ms = 20000};
  EXPECT_EQ(BackoffCeilingMs(p, 0), 100);
  EXPECT_EQ(BackoffCeilingMs(p, 1), 200);
  EXPECT_EQ(BackoffCeilingMs(p, 2), 400);
  EXPECT_EQ(BackoffCeilingMs(p, 7), 12800);
}

TEST(BackoffTest, CeilingStopsAtTheCap) {
  const BackoffPolicy p{.base_delay_ms = 100, .max_delay_ms = 20000};
  EXPECT_EQ(BackoffCeilingMs(p, 8), 20000);  // 25600 capped
  EXPECT_EQ(BackoffCeilingMs(p, 30), 20000);
  EXPECT_EQ(BackoffCeilingMs(p, 1000000), 20000);
}

TEST(BackoffTest, HugeAttemptsAndCapsDoNotOverflow) {
  const BackoffPolicy p{.base_delay_ms = 3, .max_delay_ms = std::numeric_limits<int64_t>::max()};
  for (int attempt : {0, 10, 61, 62, 63, 64, 100, 1 << 30}) {
    const int64_t c = BackoffCeilingMs(p, attempt);
    EXPECT_GE(c, 3) << attempt;
    EXPECT_LE(BackoffDelayMs(p, attempt, 0.999999), c) << attempt;
  }
  EXPECT_EQ(BackoffCeilingMs(p, 1 << 30), std::numeric_limits<int64_t>::max());
}

TEST(BackoffTest, FullJitterSpansZeroToTheCeiling) {
  const BackoffPolicy p{.base_delay_ms = 100, .max_delay_ms = 20000};
  EXPECT_EQ(BackoffDelayMs(p, 0, 0.0), 0);
  EXPECT_EQ(BackoffDelayMs(p, 0, 0.5), 50);
  EXPECT_EQ(BackoffDelayMs(p, 0, 0.9999999), 100);
  EXPECT_EQ(BackoffDelayMs(p, 3, 0.5), 400);
  EXPECT_EQ(BackoffDelayMs(p, 20, 0.25), 5000);
}

TEST(BackoffTest, DelaysStayWithinBoundsForManyDraws) {
  const BackoffPolicy p{.base_delay_ms = 50, .max_delay_ms = 3000};
  for (int attempt = 0; attempt < 12; ++attempt) {
    const int64_t ceiling = BackoffCeilingMs(p, attempt);
    for (int i = 0; i < 1000; ++i) {
      const int64_t d = BackoffDelayMs(p, attempt, i / 1000.0);
      ASSERT_GE(d, 0);
      ASSERT_LE(d, ceiling);
    }
  }
}

TEST(BackoffTest, OutOfRangeRandomValuesAreClamped) {
  const BackoffPolicy p{.base_delay_ms = 100, .max_delay_ms = 1000};
  EXPECT_EQ(BackoffDelayMs(p, 2, -1.0), 0);
  EXPECT_EQ(BackoffDelayMs(p, 2, 7.0), 400);
  EXPECT_EQ(BackoffDelayMs(p, 2, std::numeric_limits<double>::quiet_NaN()), 0);
}

TEST(BackoffTest, ZeroOrNegativeSettingsMeanNoWait) {
  EXPECT_EQ(BackoffCeilingMs({.base_delay_ms = 0, .max_delay_ms = 1000}, 5), 0);
  EXPECT_EQ(BackoffCeilingMs({.base_delay_ms = -5, .max_delay_ms = 1000}, 5), 0);
  EXPECT_EQ(BackoffCeilingMs({.base_delay_ms = 100, .max_delay_ms = -1}, 5), 0);
  EXPECT_EQ(BackoffCeilingMs({.base_delay_ms = 100, .max_delay_ms = 1000}, -3), 100);
}

TEST(BackoffTest, CapBelowTheBaseWins) {
  EXPECT_EQ(BackoffCeilingMs({.base_delay_ms = 500, .max_delay_ms = 200}, 0), 200);
}

}  // namespace
}  // namespace lakehose
